/**
 * Appending to the trail, inside the transaction that records the message in the inbox. The
 * chain has one writer at a time: every append (and every erasure) first takes a transaction
 * advisory lock, so each record is chained to the one committed just before it, whatever the
 * number of consumers or replicas; the appends of one transaction take it once. A message
 * already recorded (same source id) appends nothing.
 */
import { randomBytes } from 'node:crypto';
import { newEventId } from '@magasin/events';
import { type ChainedRecord, chain } from '../domain/chain.ts';
import { PSEUDONYM_PREFIX, personalValues, pseudonymise, tombstoneOf } from '../domain/personal-data.ts';
import type { AuditDraft } from '../domain/record.ts';
import type { AuditTx } from './database.ts';
import { toRow } from './rows.ts';

/**
 * Takes the chain's lock until the transaction ends. Erasures take it too, so a pseudonym is
 * never created for a person while they are being erased.
 */
export const lockChain = async (tx: AuditTx): Promise<void> => {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('magasin.audit.chain'))`;
};

/**
 * What a transaction that holds the chain's lock knows: the chain's last record and the
 * pseudonyms it has looked up or created. Nothing else writes the chain or the subjects while
 * the lock is held, so several appends in one transaction (the inbox commits the messages
 * delivered together in one) lock and read the head once. Keyed by the transaction client, so
 * it ends with the transaction, whether it commits or rolls back.
 */
interface LockedChain {
  head: Pick<ChainedRecord, 'sequence' | 'hash'> | undefined;
  pseudonyms: Map<string, string>;
}
const locked = new WeakMap<AuditTx, LockedChain>();

const lockedChain = async (tx: AuditTx): Promise<LockedChain> => {
  const known = locked.get(tx);
  if (known) return known;
  await lockChain(tx);
  const previous = await tx.auditRecord.findFirst({
    orderBy: { sequence: 'desc' },
    select: { sequence: true, hash: true },
  });
  const chain: LockedChain = {
    head: previous ? { sequence: Number(previous.sequence), hash: previous.hash } : undefined,
    pseudonyms: new Map(),
  };
  locked.set(tx, chain);
  return chain;
};

/** How the trail treats personal data. */
export interface PersonalDataOptions {
  /** Key of the erased identifiers' keyed hashes (AUDIT_ERASURE_SECRET). */
  erasureSecret: string;
}

/**
 * The pseudonym of each personal value: its own when known; the erased one when the value was
 * erased (on the suppression list), so the erasure holds for records that arrive after it;
 * else a new one, random and unlinkable.
 */
const pseudonymsFor = async (
  tx: AuditTx,
  values: readonly string[],
  options: PersonalDataOptions,
  cache: Map<string, string>,
): Promise<Map<string, string>> => {
  const pseudonyms = new Map<string, string>();
  for (const value of values) {
    const key = cache.get(value);
    if (key) pseudonyms.set(value, key);
  }
  const unknown = values.filter((value) => !pseudonyms.has(value));
  if (unknown.length === 0) return pseudonyms;
  const known = await tx.auditSubject.findMany({ where: { value: { in: unknown } } });
  for (const subject of known) pseudonyms.set(subject.value, subject.key);
  for (const value of unknown) {
    if (pseudonyms.has(value)) continue;
    const erased = await tx.auditErasure.findUnique({
      where: { tombstone: tombstoneOf(value, options.erasureSecret) },
      select: { key: true },
    });
    if (erased) {
      pseudonyms.set(value, erased.key);
      continue;
    }
    const key = `${PSEUDONYM_PREFIX}${randomBytes(16).toString('hex')}`;
    await tx.auditSubject.create({ data: { key, value } });
    pseudonyms.set(value, key);
  }
  for (const [value, key] of pseudonyms) cache.set(value, key);
  return pseudonyms;
};

/**
 * Appends `draft` as the next record of the chain, its personal data replaced by pseudonyms.
 * Returns the record, or undefined when its source message is already in the trail.
 */
export const appendRecord = async (
  tx: AuditTx,
  draft: AuditDraft,
  options: PersonalDataOptions & { now?: Date },
): Promise<ChainedRecord | undefined> => {
  const locked = await lockedChain(tx);
  const seen = await tx.auditRecord.findUnique({ where: { sourceId: draft.sourceId }, select: { id: true } });
  if (seen) return undefined;
  const pseudonyms = await pseudonymsFor(tx, personalValues(draft), options, locked.pseudonyms);
  const record = chain(pseudonymise(draft, pseudonyms), locked.head, {
    id: newEventId(),
    recordedAt: (options.now ?? new Date()).toISOString(),
  });
  await tx.auditRecord.create({ data: toRow(record) });
  locked.head = record;
  return record;
};
