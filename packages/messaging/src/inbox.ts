/**
 * The inbox: a message id recorded in the same database transaction as the effect of its
 * handler, so a redelivered or duplicated message has no second effect.
 *
 * Table (created by each service's Prisma migration; `INBOX_TABLE_SQL` below):
 *
 * ```sql
 * CREATE TABLE IF NOT EXISTS inbox (
 *   consumer     text        NOT NULL,
 *   message_id   text        NOT NULL,
 *   processed_at timestamptz NOT NULL DEFAULT now(),
 *   PRIMARY KEY (consumer, message_id)
 * );
 * ```
 *
 * Prisma model for schema.prisma:
 *
 * ```prisma
 * model Inbox {
 *   consumer    String
 *   messageId   String   @map("message_id")
 *   processedAt DateTime @default(now()) @map("processed_at") @db.Timestamptz(6)
 *   @@id([consumer, messageId])
 *   @@map("inbox")
 * }
 * ```
 */
import { AsyncResource } from 'node:async_hooks';
import type pg from 'pg';

/** The DDL of the inbox table (for migrations and tests). */
export const INBOX_TABLE_SQL = `CREATE TABLE IF NOT EXISTS inbox (
  consumer     text        NOT NULL,
  message_id   text        NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, message_id)
)`;

/** Whether the work ran, or the message had already been processed by this consumer. */
export type InboxOutcome = 'applied' | 'duplicate';

/**
 * Runs work at most once per (consumer, messageId), atomically with the record of it.
 * `Tx` is the transaction handle given to the work (a pg client, a Prisma transaction client).
 */
export interface Inbox<Tx = unknown> {
  /**
   * In one transaction: records (consumer, messageId); if it was new, runs `work(tx)` and
   * commits, resolving 'applied'; if it was already there, resolves 'duplicate' without
   * running `work`. If `work` throws, rolls back (the id is not recorded) and rethrows.
   * Concurrent calls with the same id: one applies, the other waits for it and gets 'duplicate'
   * (or retries if the first rolled back).
   */
  runOnce(consumer: string, messageId: string, work: (tx: Tx) => Promise<void>): Promise<InboxOutcome>;
}

const INSERT = 'INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING';

/** Inbox over a node-postgres pool; the work receives the pool client holding the transaction. */
export const pgInbox = (pool: pg.Pool): Inbox<pg.PoolClient> => ({
  async runOnce(consumer, messageId, work) {
    const client = await pool.connect();
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const { rowCount } = await client.query(INSERT, [consumer, messageId]);
      if (rowCount === 0) {
        await client.query('ROLLBACK');
        return 'duplicate';
      }
      await work(client);
      await client.query('COMMIT');
      return 'applied';
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError;
      });
      throw error;
    } finally {
      // A client whose rollback failed is in an unknown state: destroy it rather than reuse it.
      client.release(broken instanceof Error ? broken : undefined);
    }
  },
});

/** The part of a Prisma transaction client the inbox uses. */
export interface PrismaTransactionLike {
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<number>;
}

/** The part of a generated PrismaClient the inbox uses (any generated client fits). */
export interface PrismaClientLike<Tx extends PrismaTransactionLike> {
  $transaction<R>(fn: (tx: Tx) => Promise<R>, options?: { timeout?: number; maxWait?: number }): Promise<R>;
}

class DuplicateMessage extends Error {}

/**
 * Inbox over a generated Prisma client: `prisma.$transaction(async tx => ...)`, the id inserted
 * with `INSERT ... ON CONFLICT DO NOTHING` through `tx.$executeRaw`; the work receives `tx`.
 * `timeoutMs` bounds the interactive transaction (default 30 000; Prisma's own default is 5 000).
 */
export const prismaInbox = <Tx extends PrismaTransactionLike>(
  prisma: PrismaClientLike<Tx>,
  options: { timeoutMs?: number } = {},
): Inbox<Tx> => ({
  async runOnce(consumer, messageId, work) {
    try {
      await prisma.$transaction(
        async (tx) => {
          const inserted =
            await tx.$executeRaw`INSERT INTO inbox (consumer, message_id) VALUES (${consumer}, ${messageId}) ON CONFLICT DO NOTHING`;
          // Throwing rolls the (empty) transaction back; caught below as the duplicate outcome.
          if (inserted === 0) throw new DuplicateMessage();
          await work(tx);
        },
        { timeout: options.timeoutMs ?? 30_000, maxWait: options.timeoutMs ?? 30_000 },
      );
      return 'applied';
    } catch (error) {
      if (error instanceof DuplicateMessage) return 'duplicate';
      throw error;
    }
  },
});

/** The part of a generated PrismaClient `recordAfterInbox` uses. */
export interface PrismaQueryLike extends PrismaTransactionLike {
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<T>;
}

/**
 * An inbox for handlers whose effect lives outside this database and is idempotent on its own
 * (the saga's: an event-store append decided by a decider that ignores an event it has seen,
 * commands with derived ids): the work runs without holding a transaction, so without holding a
 * pooled connection while it waits on other services, and the message id is recorded after it.
 * A message already recorded is a duplicate and runs nothing. A crash (or a concurrent
 * redelivery) between the work and the record runs the work again, which its own idempotency
 * absorbs. The work receives `client` (writes there are not atomic with the record: use
 * `prismaInbox` for handlers that write to the database). The checks of the messages that arrive
 * together are one statement, and so are their records.
 */
export const recordAfterInbox = <Tx extends PrismaQueryLike>(client: Tx): Inbox<Tx> => {
  // The checks and the records of the messages handled at the same time go in one statement each.
  const recorded = inGroups<MessageKey, boolean>(async (keys) => {
    const rows = await client.$queryRaw<{ consumer: string; message_id: string }[]>`
      SELECT consumer, message_id FROM inbox
       WHERE (consumer, message_id) IN (
         SELECT * FROM unnest(${keys.map((key) => key.consumer)}::text[], ${keys.map((key) => key.messageId)}::text[]))`;
    const found = new Set(rows.map((row) => keyOf(row.consumer, row.message_id)));
    return keys.map((key) => fulfilled(found.has(keyOf(key.consumer, key.messageId))));
  });
  const record = inGroups<MessageKey, void>(async (keys) => {
    await client.$executeRaw`
      INSERT INTO inbox (consumer, message_id)
      SELECT * FROM unnest(${keys.map((key) => key.consumer)}::text[], ${keys.map((key) => key.messageId)}::text[])
      ON CONFLICT DO NOTHING`;
    return keys.map(() => fulfilled(undefined));
  });
  return {
    async runOnce(consumer, messageId, work) {
      if (await recorded({ consumer, messageId })) return 'duplicate';
      await work(client);
      await record({ consumer, messageId });
      return 'applied';
    },
  };
};

interface MessageKey {
  consumer: string;
  messageId: string;
}
const keyOf = (consumer: string, messageId: string) => JSON.stringify([consumer, messageId]);
const fulfilled = <T>(value: T): PromiseFulfilledResult<T> => ({ status: 'fulfilled', value });

/**
 * `run` over groups of calls (group commit): the calls made while a group runs (and in the same
 * turn of the event loop as the first) go together in the next one, in order, at most `max`;
 * each call gets its own outcome from `run`, and every call of a group whose `run` throws gets
 * that error.
 */
const inGroups = <Key, Answer>(
  run: (keys: Key[]) => Promise<PromiseSettledResult<Answer>[]>,
  max = 500,
): ((key: Key) => Promise<Answer>) => {
  const queue: { key: Key; resolve: (answer: Answer) => void; reject: (error: unknown) => void }[] = [];
  let running = false;
  const drain = async () => {
    try {
      while (queue.length > 0) {
        // Let the calls made with this one queue first, so the group carries them.
        await new Promise((resolve) => setImmediate(resolve));
        const group = queue.splice(0, max);
        try {
          const outcomes = await run(group.map((call) => call.key));
          group.forEach((call, index) => {
            const outcome = outcomes[index] as PromiseSettledResult<Answer>;
            if (outcome.status === 'fulfilled') call.resolve(outcome.value);
            else call.reject(outcome.reason);
          });
        } catch (error) {
          for (const call of group) call.reject(error);
        }
      }
    } finally {
      running = false;
    }
  };
  return (key) =>
    new Promise<Answer>((resolve, reject) => {
      queue.push({ key, resolve, reject });
      if (!running) {
        running = true;
        void drain(); // settles every queued call itself
      }
    });
};

/** Options of {@link batchingPrismaInbox}. */
export interface BatchingInboxOptions<Tx> {
  /** Most messages committed in one transaction; default 200. */
  maxBatch?: number;
  /** Bounds each transaction, as `prismaInbox`'s `timeoutMs` (default 30 000). */
  timeoutMs?: number;
  /**
   * Runs in each transaction after the work of its messages, before it commits: for handlers
   * that only gather what their messages mean, to write it all at once here.
   */
  beforeCommit?: (tx: Tx) => Promise<void>;
}

interface Queued<Tx> extends MessageKey {
  work: (tx: Tx) => Promise<void>;
}

/**
 * `prismaInbox` with group commit: the messages handled at the same time share one transaction.
 * Calls of `runOnce` that arrive while a transaction is open wait for it and go together in the
 * next one (up to `maxBatch`, in the order they arrived): their ids are recorded with one
 * statement, then the work of each new message runs in turn in that transaction, and one commit
 * settles them all. Each message is still applied once, atomically with its record, and its work
 * runs in its caller's async context (message context, trace span).
 *
 * For handlers that only write to this database and serialise anyway (the audit trail's chain):
 * one transaction at a time runs, so a handler that waits on the network would hold up every
 * message behind it. If any work of a batch throws, the batch is rolled back and its messages
 * run again one by one, each in its own transaction (as `prismaInbox`), so that only the
 * failing one fails; a handler must therefore not leave effects outside the database.
 * `beforeCommit` runs last in every transaction, batch or single.
 */
export const batchingPrismaInbox = <Tx extends PrismaQueryLike>(
  prisma: PrismaClientLike<Tx>,
  options: BatchingInboxOptions<Tx> = {},
): Inbox<Tx> => {
  const timeout = options.timeoutMs ?? 30_000;
  const beforeCommit = options.beforeCommit ?? (async () => undefined);
  const single = prismaInbox(prisma, { timeoutMs: timeout });

  const oneByOne = async (batch: Queued<Tx>[]): Promise<PromiseSettledResult<InboxOutcome>[]> => {
    const outcomes: PromiseSettledResult<InboxOutcome>[] = [];
    for (const item of batch) {
      const [outcome] = await Promise.allSettled([
        single.runOnce(item.consumer, item.messageId, async (tx) => {
          await item.work(tx);
          await beforeCommit(tx);
        }),
      ]);
      outcomes.push(outcome as PromiseSettledResult<InboxOutcome>);
    }
    return outcomes;
  };

  const together = async (batch: Queued<Tx>[]): Promise<PromiseSettledResult<InboxOutcome>[]> => {
    try {
      const outcomes = await prisma.$transaction(
        async (tx) => {
          const recorded = await tx.$queryRaw<{ consumer: string; message_id: string }[]>`
            INSERT INTO inbox (consumer, message_id)
            SELECT * FROM unnest(${batch.map((item) => item.consumer)}::text[], ${batch.map((item) => item.messageId)}::text[])
            ON CONFLICT DO NOTHING
            RETURNING consumer, message_id`;
          // The same id twice in one batch is recorded once: its first call applies it.
          const fresh = new Set(recorded.map((row) => keyOf(row.consumer, row.message_id)));
          const done: InboxOutcome[] = [];
          for (const item of batch) {
            if (!fresh.delete(keyOf(item.consumer, item.messageId))) {
              done.push('duplicate');
              continue;
            }
            await item.work(tx);
            done.push('applied');
          }
          await beforeCommit(tx);
          return done;
        },
        { timeout, maxWait: timeout },
      );
      return outcomes.map(fulfilled);
    } catch {
      // Which message failed, and whether alone it would, is only known by running each alone.
      return oneByOne(batch);
    }
  };

  const runInGroups = inGroups<Queued<Tx>, InboxOutcome>(
    (batch) => (batch.length === 1 ? oneByOne(batch) : together(batch)),
    options.maxBatch ?? 200,
  );
  return {
    // The work runs in its own caller's context (message context, trace span), not the batch's.
    runOnce: (consumer, messageId, work) =>
      runInGroups({ consumer, messageId, work: AsyncResource.bind(work) }),
  };
};
