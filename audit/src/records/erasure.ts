/**
 * Erasing a person (GDPR, right to erasure): the row that ties their pseudonym to their
 * identifier is deleted, and the erasure is noted with its time and the identifier's keyed hash
 * (the suppression list: records about the person that arrive later, such as the erasure
 * request itself, get the erased pseudonym). Records keep the pseudonym, which now leads
 * nowhere, so no hashed byte changes and the chain still holds.
 */
import { tombstoneOf } from '../domain/personal-data.ts';
import { lockChain, type PersonalDataOptions } from './append.ts';
import type { AuditPrisma } from './database.ts';

/** What an erasure did. */
export interface Erasure {
  customerId: string;
  /** False when the trail held nothing about this person (or they were already erased). */
  erased: boolean;
  /** Records that named the person and now show them as erased. */
  records: number;
  erasedAt: Date;
}

/** Erases `customerId` (any person's identifier: a customer id, a user's `sub`). */
export const eraseSubject = (
  prisma: AuditPrisma,
  customerId: string,
  options: PersonalDataOptions & { now?: Date },
): Promise<Erasure> =>
  prisma.$transaction(
    async (tx) => {
      const now = options.now ?? new Date();
      await lockChain(tx);
      const subjects = await tx.auditSubject.findMany({
        where: { value: customerId },
        select: { key: true },
      });
      const keys = subjects.map((subject) => subject.key);
      if (keys.length === 0) return { customerId, erased: false, records: 0, erasedAt: now };
      await tx.auditSubject.deleteMany({ where: { key: { in: keys } } });
      // One pseudonym per identifier (audit_subjects.value is unique), so one tombstone.
      const tombstone = tombstoneOf(customerId, options.erasureSecret);
      await tx.auditErasure.createMany({ data: keys.map((key) => ({ key, erasedAt: now, tombstone })) });
      const [counted] = await tx.$queryRaw<{ records: bigint }[]>`
        SELECT count(*) AS records FROM audit_records
         WHERE actor = ANY(${keys}) OR EXISTS (SELECT 1 FROM unnest(${keys}::text[]) AS k WHERE data::text LIKE '%' || k || '%')`;
      return { customerId, erased: true, records: Number(counted?.records ?? 0), erasedAt: now };
    },
    { timeout: 60_000, maxWait: 30_000 },
  );
