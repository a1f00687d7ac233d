/**
 * Reading the trail: the whole chain page by page (integrity, export), and the records of one
 * business flow with the people they name (auditTrail).
 */
import type { ChainedRecord } from '../domain/chain.ts';
import { pseudonymsIn, reveal } from '../domain/personal-data.ts';
import type { Json } from '../domain/record.ts';
import { orderTrail } from '../domain/trail.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import type { AuditPrisma } from './database.ts';
import { fromRow } from './rows.ts';

/** Records of the chain in sequence order, `pageSize` rows per query (default 500). */
export async function* readChain(
  prisma: AuditPrisma,
  options: { where?: Prisma.AuditRecordWhereInput; pageSize?: number } = {},
): AsyncGenerator<ChainedRecord> {
  let after = 0n;
  for (;;) {
    const rows = await prisma.auditRecord.findMany({
      where: { AND: [options.where ?? {}, { sequence: { gt: after } }] },
      orderBy: { sequence: 'asc' },
      take: options.pageSize ?? 500,
    });
    for (const row of rows) yield fromRow(row);
    const last = rows.at(-1);
    if (!last) return;
    after = last.sequence;
  }
}

/** A record as people read it: pseudonyms replaced by the people behind them, or `[erased]`. */
export type RevealedRecord = ChainedRecord & { actorErased: boolean };

/** Replaces the pseudonyms of `records` with what `audit_subjects` still knows of them. */
export const revealRecords = async (
  prisma: AuditPrisma,
  records: readonly ChainedRecord[],
): Promise<RevealedRecord[]> => {
  const keys = [
    ...new Set(records.flatMap((record) => pseudonymsIn({ actor: record.actor, data: record.data }))),
  ];
  const subjects = keys.length
    ? await prisma.auditSubject.findMany({ where: { key: { in: keys } }, select: { key: true, value: true } })
    : [];
  const values = new Map(subjects.map((subject) => [subject.key, subject.value]));
  return records.map((record) => {
    const revealed = reveal({ ...record, data: record.data as Json }, (key) => values.get(key));
    return { ...revealed, data: revealed.data as ChainedRecord['data'] };
  });
};

/**
 * The trail of one business flow: every record whose correlation id is `correlationId` or that
 * names it as a subject (the mutation that placed an order names the order), in story order.
 */
export const trailOf = async (prisma: AuditPrisma, correlationId: string): Promise<RevealedRecord[]> => {
  const rows = await prisma.auditRecord.findMany({
    where: { OR: [{ correlationId }, { subjectIds: { has: correlationId } }] },
    orderBy: { sequence: 'asc' },
  });
  return revealRecords(prisma, orderTrail(rows.map(fromRow)));
};
