/**
 * Verifying the whole chain as stored: every record recomputed from its columns, every link
 * checked, from the first record to the last one committed when the check started.
 */
import { type ChainBreak, startVerification, verifyNext } from '../domain/chain.ts';
import type { AuditPrisma } from './database.ts';
import { readChain } from './reading.ts';

/** The verdict on the chain. */
export interface Integrity {
  /** True when every record gives its hash and follows the one before it. */
  valid: boolean;
  /** Records checked. */
  checked: number;
  /** The first record that breaks the chain, if any. */
  firstBroken: ChainBreak | null;
  /** Sequence and hash of the last record checked: anchor it elsewhere to detect a truncated tail. */
  headSequence: number | null;
  headHash: string | null;
  checkedAt: Date;
}

/** Verifies the chain; see the module comment. */
export const verifyIntegrity = async (prisma: AuditPrisma, now = new Date()): Promise<Integrity> => {
  const head = await prisma.auditRecord.findFirst({
    orderBy: { sequence: 'desc' },
    select: { sequence: true },
  });
  let state = startVerification();
  if (head) {
    for await (const record of readChain(prisma, { where: { sequence: { lte: head.sequence } } })) {
      state = verifyNext(state, record);
    }
  }
  return {
    valid: state.firstBroken === undefined,
    checked: state.checked,
    firstBroken: state.firstBroken ?? null,
    headSequence: state.last?.sequence ?? null,
    headHash: state.last?.hash ?? null,
    checkedAt: now,
  };
};
