/**
 * The hash chain of the trail. Each record's hash is sha256 over the canonical form of all its
 * fields, the previous record's hash included, so a record cannot change, vanish or move
 * without the chain breaking there. Verification is a fold over the records in sequence order
 * that names the first record that breaks the chain and why.
 */
import { createHash } from 'node:crypto';
import type { AuditDraft, Json } from './record.ts';

/** The previous hash of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** A record as chained and stored. */
export interface ChainedRecord extends AuditDraft {
  /** Position in the chain, from 1. */
  readonly sequence: number;
  readonly id: string;
  /** ISO-8601, milliseconds: when the trail appended it. */
  readonly recordedAt: string;
  readonly previousHash: string;
  readonly hash: string;
}

/**
 * Deterministic JSON: object keys sorted, no whitespace, `undefined` fields left out. The same
 * value gives the same text whatever order its keys were written or stored in (PostgreSQL's
 * jsonb reorders them).
 */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return JSON.stringify(value.toString());
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value)
    .filter(([, field]) => field !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`).join(',')}}`;
};

/** The canonical form of a record: every field but its own hash, in a fixed layout. */
export const canonicalForm = (record: Omit<ChainedRecord, 'hash'>): string =>
  canonicalJson({
    v: 1,
    sequence: record.sequence,
    id: record.id,
    sourceId: record.sourceId,
    kind: record.kind,
    type: record.type,
    correlationId: record.correlationId,
    causationId: record.causationId,
    actor: record.actor,
    subjectIds: record.subjectIds,
    streamId: record.streamId,
    streamVersion: record.streamVersion,
    position: record.position,
    outcome: record.outcome,
    errorCodes: record.errorCodes,
    tags: record.tags,
    data: record.data as Json,
    occurredAt: record.occurredAt,
    recordedAt: record.recordedAt,
    previousHash: record.previousHash,
  });

/** sha256 (hex) of a record's canonical form. */
export const hashOf = (record: Omit<ChainedRecord, 'hash'>): string =>
  createHash('sha256').update(canonicalForm(record)).digest('hex');

/** The next link of the chain after `previous` (undefined for the first record). */
export const chain = (
  draft: AuditDraft,
  previous: Pick<ChainedRecord, 'sequence' | 'hash'> | undefined,
  link: { id: string; recordedAt: string },
): ChainedRecord => {
  const unhashed = {
    ...draft,
    sequence: (previous?.sequence ?? 0) + 1,
    id: link.id,
    recordedAt: link.recordedAt,
    previousHash: previous?.hash ?? GENESIS_HASH,
  };
  return { ...unhashed, hash: hashOf(unhashed) };
};

/** Why a record breaks the chain. */
export const CHAIN_BREAKS = {
  /** Its content no longer gives its hash: the record (or its hash) was edited. */
  tampered: 'TAMPERED',
  /** Its hash holds but the next record was chained to another hash: it was rewritten, hash recomputed. */
  rewritten: 'REWRITTEN',
  /** Records before it are missing (its sequence does not follow the previous one). */
  missingBefore: 'MISSING_BEFORE',
  /** It does not follow its predecessor's hash although both hold (records reordered or spliced). */
  unlinked: 'UNLINKED',
} as const;
/** One of {@link CHAIN_BREAKS}. */
export type ChainBreakReason = (typeof CHAIN_BREAKS)[keyof typeof CHAIN_BREAKS];

/** The first record that breaks the chain. */
export interface ChainBreak {
  readonly sequence: number;
  readonly recordId: string;
  readonly reason: ChainBreakReason;
}

/** Where a verification stands after the records folded so far. */
export interface Verification {
  readonly checked: number;
  readonly last: ChainedRecord | undefined;
  /** Whether `last` gives its own hash (then a broken link after it means it was rewritten). */
  readonly lastHolds: boolean;
  readonly firstBroken: ChainBreak | undefined;
}

/** A verification before any record. */
export const startVerification = (): Verification => ({
  checked: 0,
  last: undefined,
  lastHolds: true,
  firstBroken: undefined,
});

const breakAt = (record: ChainedRecord, reason: ChainBreakReason): ChainBreak => ({
  sequence: record.sequence,
  recordId: record.id,
  reason,
});

/**
 * Folds the next record (in sequence order) into the verification. A record that does not give
 * its own hash is TAMPERED. A record that holds but does not follow its predecessor's hash
 * points back: at the predecessor (REWRITTEN) when the predecessor holds too, since the record
 * committed to the hash it had; at itself when records are missing before it.
 */
export const verifyNext = (state: Verification, record: ChainedRecord): Verification => {
  const holds = hashOf(record) === record.hash;
  const previous = state.last;
  const expectedSequence = (previous?.sequence ?? 0) + 1;
  const expectedPrevious = previous?.hash ?? GENESIS_HASH;
  let found: ChainBreak | undefined;
  if (!holds) found = breakAt(record, CHAIN_BREAKS.tampered);
  else if (record.sequence !== expectedSequence) found = breakAt(record, CHAIN_BREAKS.missingBefore);
  else if (record.previousHash !== expectedPrevious) {
    found =
      previous && state.lastHolds
        ? breakAt(previous, CHAIN_BREAKS.rewritten)
        : breakAt(record, CHAIN_BREAKS.unlinked);
  }
  const firstBroken =
    state.firstBroken && (!found || state.firstBroken.sequence <= found.sequence) ? state.firstBroken : found;
  return { checked: state.checked + 1, last: record, lastHolds: holds, firstBroken };
};
