/**
 * The outbox relay: the log is the outbox. It publishes committed events to `magasin.events`
 * in position order, waits for the broker's confirms, then records how far it got
 * (`relay_checkpoints`), and resumes from there after a crash: at least once, nothing
 * uncommitted (it only reads committed rows), nothing committed left behind.
 *
 * One relay publishes at a time across replicas: leadership is a session advisory lock on
 * its own connection, which also LISTENs for commits of other replicas. It wakes on commits
 * of this process, on NOTIFY, and every `pollIntervalMs`. A failed publication (broker down)
 * is counted and retried with backoff from the same position; appends are not affected.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventEnvelope } from '@magasin/events';
import pg from 'pg';
import type { Logger } from 'pino';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { EventStore } from '../store/event-store.ts';
import { COMMIT_CHANNEL } from '../store/writer.ts';

/** Session advisory lock key held by the publishing relay. */
export const RELAY_LOCK_KEY = 7_236_911_450_318_004_224n;

/** What the relay needs of the messaging runtime (`@magasin/messaging`'s `Messaging`). */
export interface EventPublisher {
  publishEvents(events: EventEnvelope[]): Promise<void>;
}

/** Options of {@link startRelay}. */
export interface RelayOptions {
  /** Event store database: the relay's own connection for leadership and LISTEN. */
  databaseUrl: string;
  prisma: PrismaClient;
  store: Pick<EventStore, 'readAll' | 'onCommit' | 'headPosition' | 'metrics'>;
  publisher: EventPublisher;
  logger: Logger;
  /** Checkpoint name; default `magasin.events`. */
  name?: string;
  /** Events per publication; default 500. */
  batchSize?: number;
  /** Check for new events at least this often (a missed signal costs at most this); default 1 000 ms. */
  pollIntervalMs?: number;
  /** Backoff after a failed publication: first delay (default 200 ms), doubling up to 5 000 ms. */
  initialRetryDelayMs?: number;
  maxRetryDelayMs?: number;
}

/** A running relay. */
export interface Relay {
  /** Last position confirmed by the broker and recorded. */
  checkpoint(): number;
  /** Whether this replica holds the relay lock (publishes). */
  isLeader(): boolean;
  /**
   * Stops after the publication in flight is confirmed and checkpointed, or after
   * `timeoutMs` (default 5 000) if the broker does not answer: what was not checkpointed is
   * published again by the next relay (at least once). Releases the relay lock.
   */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

/** Starts the relay; resolves once its checkpoint is loaded (it may still be waiting for leadership). */
export const startRelay = async (options: RelayOptions): Promise<Relay> => {
  const name = options.name ?? 'magasin.events';
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const { metrics } = options.store;
  const logger = options.logger.child({ component: 'relay' });

  const saved = await options.prisma.relayCheckpoint.findUnique({ where: { name } });
  let checkpoint = Number(saved?.position ?? 0n);
  let head = Math.max(checkpoint, await options.store.headPosition());
  let stopping = false;
  let leader: pg.Client | undefined;
  let wakeUp: (() => void) | undefined;
  /** A signal that came while the relay was busy: the next wait returns at once. */
  let signalled = false;
  const stopSignal = new AbortController();

  const wake = () => {
    if (!wakeUp) {
      signalled = true;
      return;
    }
    wakeUp();
    wakeUp = undefined;
  };
  const waitForWork = (ms: number) =>
    new Promise<void>((resolve) => {
      if (signalled) {
        signalled = false;
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        wakeUp = undefined;
        resolve();
      }, ms);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const seen = (position: number) => {
    if (position > head) head = position;
    metrics.relayLag.set(Math.max(0, head - checkpoint));
  };
  const unsubscribe = options.store.onCommit((position) => {
    seen(position);
    wake();
  });

  const releaseLeadership = async () => {
    const client = leader;
    leader = undefined;
    await client
      ?.end()
      .catch((error: unknown) => logger.warn({ err: error }, 'closing the relay connection failed'));
  };

  const tryLead = async (): Promise<boolean> => {
    const client = new pg.Client({ connectionString: options.databaseUrl });
    client.on('error', (error) => {
      logger.warn({ err: error }, 'relay connection lost; giving up leadership until it is back');
      if (leader === client) leader = undefined;
      wake();
    });
    client.on('notification', (message) => {
      seen(Number(message.payload));
      wake();
    });
    try {
      await client.connect();
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
        RELAY_LOCK_KEY.toString(),
      ]);
      if (!rows[0]?.locked) {
        await client.end();
        return false;
      }
      await client.query(`LISTEN ${COMMIT_CHANNEL}`);
      // Another replica may have published since we loaded the checkpoint.
      const latest = await options.prisma.relayCheckpoint.findUnique({ where: { name } });
      checkpoint = Math.max(checkpoint, Number(latest?.position ?? 0n));
      leader = client;
      logger.info({ checkpoint }, 'relay is publishing');
      return true;
    } catch (error) {
      await client.end().catch(() => undefined); // the connection failed to open: nothing to close
      throw error;
    }
  };

  const publishNextPage = async (): Promise<'published' | 'idle'> => {
    const page = await options.store.readAll(checkpoint, batchSize);
    if (page.events.length === 0) return 'idle';
    await options.publisher.publishEvents(page.events);
    await options.prisma.relayCheckpoint.upsert({
      where: { name },
      create: { name, position: BigInt(page.nextPosition), updatedAt: new Date() },
      update: { position: BigInt(page.nextPosition), updatedAt: new Date() },
    });
    checkpoint = page.nextPosition;
    seen(page.nextPosition);
    return 'published';
  };

  const run = async () => {
    let failures = 0;
    while (!stopping) {
      try {
        if (!leader && !(await tryLead())) {
          await waitForWork(pollIntervalMs);
          continue;
        }
        signalled = false; // this page reads whatever committed before it
        const outcome = await publishNextPage();
        failures = 0;
        if (outcome === 'idle') {
          seen(await options.store.headPosition());
          // A commit that landed while the page was read is published now, not a poll later.
          if (!stopping && head <= checkpoint) await waitForWork(pollIntervalMs);
        }
      } catch (error) {
        failures++;
        metrics.publishFailures.inc();
        const delay = Math.min(
          options.maxRetryDelayMs ?? 5_000,
          (options.initialRetryDelayMs ?? 200) * 2 ** (failures - 1),
        );
        logger.warn(
          { err: error, checkpoint, attempt: failures, retryInMs: delay },
          'relay publication failed; retrying',
        );
        await sleep(delay, undefined, { signal: stopSignal.signal }).catch(() => undefined); // aborted by stop()
      }
    }
  };
  const running = run();

  return {
    checkpoint: () => checkpoint,
    isLeader: () => leader !== undefined,
    stop: async ({ timeoutMs = 5_000 } = {}) => {
      stopping = true;
      unsubscribe();
      stopSignal.abort();
      wake();
      const timedOut = await Promise.race([
        running.then(() => false),
        sleep(timeoutMs, undefined, { ref: false }).then(() => true),
      ]);
      if (timedOut)
        logger.warn(
          { checkpoint },
          'relay stopped with a publication unconfirmed; it will be published again',
        );
      await releaseLeadership();
    },
  };
};
