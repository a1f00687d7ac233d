/**
 * What the audit service takes from the bus: every event (its queue is bound to `#` on
 * magasin.events) and every mutation the gateway accepted or refused (command
 * `audit.RecordMutation`). Each becomes the next record of the chain, in the transaction that
 * records the message in the inbox (with the other messages delivered at the same time): a
 * redelivered message is recorded once.
 */
import type { ConsumeOptions } from '@magasin/messaging';
import { draftOfEvent, draftOfMutation } from './domain/record.ts';
import { appendRecord, type PersonalDataOptions } from './records/append.ts';
import type { AuditTx } from './records/database.ts';

/**
 * Appends serialise on the chain's lock, so the service takes them in batches: the messages
 * delivered together are committed in one transaction (the `batch` inbox), which takes the lock
 * and reads the chain's head once. This many in flight make a batch.
 */
export const PREFETCH = 64;

/** The handlers of the audit queue. */
export const reactions = (options: PersonalDataOptions): Omit<ConsumeOptions<AuditTx>, 'inbox'> => ({
  prefetch: PREFETCH,
  anyEvent: async (event, tx) => {
    await appendRecord(tx, draftOfEvent(event), options);
  },
  commands: {
    RecordMutation: async (command, tx) => {
      await appendRecord(tx, draftOfMutation(command), options);
    },
  },
});
