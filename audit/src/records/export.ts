/**
 * The trail as NDJSON: one stored record per line, in chain order, exactly as its hash covers
 * it (pseudonyms, not people; card data masked), with `sequence`, `previousHash` and `hash`, so
 * whoever receives an export can verify the chain of the exported range themselves.
 */
import type { Writable } from 'node:stream';
import { canonicalJson } from '../domain/chain.ts';
import type { AuditPrisma } from './database.ts';
import { readChain } from './reading.ts';

/** Range of an export: records recorded from `from` to `to`, both inclusive, each optional. */
export interface ExportRange {
  from?: Date | undefined;
  to?: Date | undefined;
}

const write = (out: Writable, line: string): Promise<void> =>
  new Promise((resolve, reject) => {
    out.write(line, (error) => (error ? reject(error) : resolve()));
  });

/** Writes the records recorded in `range` to `out`, one JSON object per line; returns how many. */
export const exportTrail = async (
  prisma: AuditPrisma,
  out: Writable,
  range: ExportRange,
): Promise<number> => {
  const recordedAt = {
    ...(range.from ? { gte: range.from } : {}),
    ...(range.to ? { lte: range.to } : {}),
  };
  let count = 0;
  for await (const record of readChain(prisma, { where: { recordedAt } })) {
    await write(out, `${canonicalJson(record)}\n`);
    count += 1;
  }
  return count;
};
