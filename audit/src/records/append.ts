/**
 * Appending to the trail, inside the transaction that records the messages in the inbox. The
 * chain has one writer at a time: every append (and every erasure) first takes a transaction
 * advisory lock, so each record is chained to the one committed just before it, whatever the
 * number of consumers or replicas. The records of one transaction (the messages delivered
 * together) are appended at once: one lock, one read of the head, one insert. A message
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
 * Appends `drafts` as the next records of the chain, in order, their personal data replaced by
 * pseudonyms. Returns the records appended: a draft whose source message is already in the
 * trail (or earlier in `drafts`) appends nothing.
 */
export const appendRecords = async (
  tx: AuditTx,
  drafts: readonly AuditDraft[],
  options: PersonalDataOptions & { now?: Date },
): Promise<ChainedRecord[]> => {
  if (drafts.length === 0) return [];
  await lockChain(tx);
  const sourceIds = [...new Set(drafts.map((draft) => draft.sourceId))];
  const seen = new Set(
    (
      await tx.auditRecord.findMany({ where: { sourceId: { in: sourceIds } }, select: { sourceId: true } })
    ).map((record) => record.sourceId),
  );
  const fresh = drafts.filter((draft) => {
    if (seen.has(draft.sourceId)) return false;
    seen.add(draft.sourceId);
    return true;
  });
  if (fresh.length === 0) return [];
  const previous = await tx.auditRecord.findFirst({
    orderBy: { sequence: 'desc' },
    select: { sequence: true, hash: true },
  });
  const pseudonyms = await pseudonymsFor(tx, [...new Set(fresh.flatMap(personalValues))], options);
  const recordedAt = (options.now ?? new Date()).toISOString();
  let head: Pick<ChainedRecord, 'sequence' | 'hash'> | undefined = previous
    ? { sequence: Number(previous.sequence), hash: previous.hash }
    : undefined;
  const records = fresh.map((draft) => {
    const record = chain(pseudonymise(draft, pseudonyms), head, { id: newEventId(), recordedAt });
    head = record;
    return record;
  });
  await tx.auditRecord.createMany({ data: records.map(toRow) });
  return records;
};
