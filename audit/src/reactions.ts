/**
 * What the audit service takes from the bus: every event (its queue is bound to `#` on
 * magasin.events) and every mutation the gateway accepted or refused (command
 * `audit.RecordMutation`). Each becomes the next record of the chain, in the transaction that
 * records the message in the inbox: a redelivered message is recorded once.
 *
 * Appends serialise on the chain's lock, so the trail takes its messages in batches: the
 * messages delivered together share one inbox transaction (`batchingPrismaInbox`), their handlers
 * only turn each into a draft, and the drafts are appended together just before it commits.
 */
import { batchingPrismaInbox, type ConsumeOptions, type Inbox } from '@magasin/messaging';
import { type AuditDraft, draftOfEvent, draftOfMutation } from './domain/record.ts';
import { appendRecords, type PersonalDataOptions } from './records/append.ts';
import type { AuditPrisma, AuditTx } from './records/database.ts';

/** Messages in flight: what one transaction can take at once. */
const PREFETCH = 64;

/** The handlers of the audit queue, and the inbox that appends their drafts. */
export const reactions = (
  options: PersonalDataOptions,
): {
  consume: Omit<ConsumeOptions<AuditTx>, 'inbox'>;
  inbox: (prisma: AuditPrisma) => Inbox<AuditTx>;
} => {
  /** Drafts of the messages handled in each open transaction, in order. */
  const drafts = new WeakMap<AuditTx, AuditDraft[]>();
  const draft = (tx: AuditTx, next: AuditDraft) => {
    const pending = drafts.get(tx);
    if (pending) pending.push(next);
    else drafts.set(tx, [next]);
  };
  return {
    consume: {
      prefetch: PREFETCH,
      anyEvent: async (event, tx) => draft(tx, draftOfEvent(event)),
      commands: {
        RecordMutation: async (command, tx) => draft(tx, draftOfMutation(command)),
      },
    },
    inbox: (prisma) =>
      batchingPrismaInbox(prisma, {
        beforeCommit: async (tx) => {
          const pending = drafts.get(tx) ?? [];
          drafts.delete(tx);
          await appendRecords(tx, pending, options);
        },
      }),
  };
};
