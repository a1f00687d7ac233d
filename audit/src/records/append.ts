/**
 * Appending to the trail, inside the transaction that records the message in the inbox. The
 * chain has one writer at a time: every append (and every erasure) first takes a transaction
 * advisory lock, so each record is chained to the one committed just before it, whatever the
 * number of consumers or replicas. A message already recorded (same source id) appends nothing.
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
): Promise<Map<string, string>> => {
  const pseudonyms = new Map<string, string>();
  if (values.length === 0) return pseudonyms;
  const known = await tx.auditSubject.findMany({ where: { value: { in: [...values] } } });
  for (const subject of known) pseudonyms.set(subject.value, subject.key);
  for (const value of values) {
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
  await lockChain(tx);
  const seen = await tx.auditRecord.findUnique({ where: { sourceId: draft.sourceId }, select: { id: true } });
  if (seen) return undefined;
  const previous = await tx.auditRecord.findFirst({
    orderBy: { sequence: 'desc' },
    select: { sequence: true, hash: true },
  });
  const pseudonyms = await pseudonymsFor(tx, personalValues(draft), options);
  const record = chain(
    pseudonymise(draft, pseudonyms),
    previous ? { sequence: Number(previous.sequence), hash: previous.hash } : undefined,
    { id: newEventId(), recordedAt: (options.now ?? new Date()).toISOString() },
  );
  await tx.auditRecord.create({ data: toRow(record) });
  return record;
};
