/**
 * Read models that follow the event store's log in position order. Each page of events is
 * applied in one database transaction with the projection's checkpoint, so a crash replays
 * nothing twice and skips nothing. Read models follow the log rather than RabbitMQ because a
 * queue with concurrent consumers and retries does not keep a stream's order; reactions (which
 * decide new events) consume RabbitMQ.
 */
import type { EventStoreClient } from '@magasin/event-store/client';
import {
  type DomainEvent,
  type EventEnvelope,
  type EventOf,
  type EventType,
  parseEnvelope,
} from '@magasin/events';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';

/** DDL of the tables the kit needs in every service database (inbox of the bus consumers, checkpoints). */
export const PROJECTION_TABLES_SQL = `CREATE TABLE IF NOT EXISTS "inbox" (
  "consumer"     TEXT        NOT NULL,
  "message_id"   TEXT        NOT NULL,
  "processed_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY ("consumer", "message_id")
);
CREATE TABLE IF NOT EXISTS "projection_checkpoints" (
  "name"       TEXT        NOT NULL PRIMARY KEY,
  "position"   BIGINT      NOT NULL DEFAULT 0,
  "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);`;

/** Tables of the kit, never part of a read model's comparison or copy. */
export const KIT_TABLES = ['inbox', 'projection_checkpoints', '_prisma_migrations'] as const;

/** The part of a Prisma transaction client a projection needs (any generated client fits). */
export interface ProjectionTx {
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<number>;
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<T>;
}

/** The part of a generated PrismaClient a projection needs. */
export interface ProjectionPrisma<Tx extends ProjectionTx> extends ProjectionTx {
  $transaction<R>(fn: (tx: Tx) => Promise<R>, options?: { timeout?: number; maxWait?: number }): Promise<R>;
  $disconnect(): Promise<void>;
}

/** How a read model changes with each event type it cares about; events of other types are skipped. */
export type ProjectionHandlers<Tx> = { [T in EventType]?: (event: EventOf<T>, tx: Tx) => Promise<void> };

/**
 * A service's read model: what `runSubgraph` keeps up to date and what
 * `npm run projections:rebuild -- <service>` rebuilds. Handlers must be deterministic from the
 * event alone (use `event.occurredAt`, never the clock) so that a rebuild equals the live tables.
 * Columns of the read model use plain SQL types (TEXT for statuses, not PostgreSQL enums): a
 * rebuild copies and compares rows across schemas, and two schemas' enums are distinct types.
 */
export interface ProjectionDefinition<P extends ProjectionPrisma<Tx>, Tx extends ProjectionTx> {
  /** Service name; the checkpoint's name. */
  name: string;
  /** The service's `prisma/migrations` folder. */
  migrationsDirectory: string;
  /**
   * A Prisma client on a database URL. A rebuild passes the schema of its fresh tables: give
   * it to the adapter (`new PrismaPg({ connectionString }, { schema })`), since Prisma qualifies
   * every table with its schema (default `public`).
   */
  createPrisma(databaseUrl: string, options?: { schema?: string }): P;
  /** Which event types the read model takes, and how each changes it. */
  handlers: ProjectionHandlers<Tx>;
  /**
   * Optional: applies the events of one page (those with a handler, parsed, in log order) at
   * once instead of calling a handler per event: for a read model whose statements per event add
   * up (a few set-based statements per page instead). It must leave the same rows as the
   * handlers applied one by one; the handlers stay the reference (and name the types read).
   */
  applyEvents?: (events: readonly DomainEvent[], tx: Tx) => Promise<void>;
}

/** Thrown when another replica (or a rebuild) moved the checkpoint: the projector re-reads it. */
class CheckpointMoved extends Error {
  constructor(readonly position: number) {
    super(`projection checkpoint moved to ${position}`);
  }
}

const readCheckpoint = async <Tx extends ProjectionTx>(tx: Tx, name: string, lock: boolean) => {
  const rows = lock
    ? await tx.$queryRaw<
        { position: bigint | number }[]
      >`SELECT position FROM projection_checkpoints WHERE name = ${name} FOR UPDATE`
    : await tx.$queryRaw<
        { position: bigint | number }[]
      >`SELECT position FROM projection_checkpoints WHERE name = ${name}`;
  return Number(rows[0]?.position ?? 0);
};

/** The checkpoint of `name`, created at 0 when missing. */
export const checkpointOf = async <P extends ProjectionPrisma<Tx>, Tx extends ProjectionTx>(
  prisma: P,
  name: string,
): Promise<number> =>
  prisma.$transaction(async (tx) => {
    await tx.$executeRaw`INSERT INTO projection_checkpoints (name, position) VALUES (${name}, 0) ON CONFLICT (name) DO NOTHING`;
    return readCheckpoint(tx, name, false);
  });

/**
 * Applies one page of the log after `from` in one transaction and moves the checkpoint to `to`
 * (default the page's last position; a page read with a type filter covers more than its
 * events). Throws CheckpointMoved (nothing applied) when the checkpoint is not at `from`, and
 * the handler's error (nothing applied) when a handler fails.
 */
export const applyPage = async <P extends ProjectionPrisma<Tx>, Tx extends ProjectionTx>(
  prisma: P,
  projection: Pick<ProjectionDefinition<P, Tx>, 'name' | 'handlers' | 'applyEvents'>,
  from: number,
  events: readonly EventEnvelope[],
  to?: number,
): Promise<number> => {
  const last = Math.max(to ?? from, events.at(-1)?.position ?? from);
  if (last === from) return from;
  if (events.length === 0) {
    // Nothing to apply, only the checkpoint to move: one compare-and-set statement.
    const moved =
      await prisma.$executeRaw`UPDATE projection_checkpoints SET position = ${last}, updated_at = now() WHERE name = ${projection.name} AND position = ${from}`;
    if (moved === 0) throw new CheckpointMoved(await checkpointOf(prisma, projection.name));
    return last;
  }
  await prisma.$transaction(
    async (tx) => {
      const at = await readCheckpoint(tx, projection.name, true);
      if (at !== from) throw new CheckpointMoved(at);
      const handled: DomainEvent[] = [];
      for (const raw of events) {
        if (!projection.handlers[raw.type as EventType]) continue;
        const parsed = parseEnvelope(raw);
        if (!parsed.ok) {
          throw new Error(
            `${projection.name} projection: event ${raw.eventId} at ${raw.position}: ${parsed.reason}`,
          );
        }
        // Its data matched the contract of its type.
        handled.push(parsed.event as DomainEvent);
      }
      if (projection.applyEvents) await projection.applyEvents(handled, tx);
      else {
        for (const event of handled) {
          const handler = projection.handlers[event.type] as (event: DomainEvent, tx: Tx) => Promise<void>;
          await handler(event, tx);
        }
      }
      await tx.$executeRaw`UPDATE projection_checkpoints SET position = ${last}, updated_at = now() WHERE name = ${projection.name}`;
    },
    { timeout: 60_000, maxWait: 30_000 },
  );
  return last;
};

/** A running projection. */
export interface Projector {
  /** Position of the last event applied. */
  position(): number;
  /** Resolves once the read model has applied the log up to `position`; rejects after `timeoutMs` (default 10 000). */
  waitForPosition(position: number, timeoutMs?: number): Promise<void>;
  /** Stops after the page being applied. */
  stop(): Promise<void>;
}

/** Options of {@link startProjector}. */
export interface ProjectorOptions<P extends ProjectionPrisma<Tx>, Tx extends ProjectionTx> {
  projection: ProjectionDefinition<P, Tx>;
  prisma: P;
  eventStore: EventStoreClient;
  logger: Logger;
  registry: Registry;
  /** Events per page; default 500. */
  pageSize?: number;
  /** Long-poll wait of each read once caught up; default 5 000 ms. */
  waitMs?: number;
  /**
   * Called after each page of the log is committed to the read model (never for a page another
   * replica applied, never by a rebuild), with the page's events in order: live notifications
   * of read-model changes (saga progress updates). Awaited before the next page; a failure is
   * logged and counted, not retried (the read model itself is already committed).
   */
  onApplied?: (events: readonly EventEnvelope[]) => Promise<void> | void;
}

const metricsOf = (registry: Registry) => {
  const existing = registry.getSingleMetric('magasin_projection_position') as Gauge<'projection'> | undefined;
  return {
    position:
      existing ??
      new Gauge({
        name: 'magasin_projection_position',
        help: 'Global position of the last event applied to the read model',
        labelNames: ['projection'],
        registers: [registry],
      }),
    applied:
      (registry.getSingleMetric('magasin_projection_events_total') as Counter<'projection'> | undefined) ??
      new Counter({
        name: 'magasin_projection_events_total',
        help: 'Events of the log read by the projection (applied or skipped as not its concern)',
        labelNames: ['projection'],
        registers: [registry],
      }),
    failures:
      (registry.getSingleMetric('magasin_projection_failures_total') as Counter<'projection'> | undefined) ??
      new Counter({
        name: 'magasin_projection_failures_total',
        help: 'Pages that failed to apply (retried with backoff)',
        labelNames: ['projection'],
        registers: [registry],
      }),
  };
};

/** Follows the log from the stored checkpoint until stopped; failures retry with backoff (logged). */
export const startProjector = async <P extends ProjectionPrisma<Tx>, Tx extends ProjectionTx>(
  options: ProjectorOptions<P, Tx>,
): Promise<Projector> => {
  const { projection, prisma, eventStore, logger } = options;
  const metrics = metricsOf(options.registry);
  const labels = { projection: projection.name };
  let position = await checkpointOf(prisma, projection.name);
  metrics.position.set(labels, position);
  // The event store sends only what the handlers take; the pages still cover the whole log.
  const types = Object.keys(projection.handlers);
  let stopping = false;
  const abort = new AbortController();
  const waiters = new Set<{ position: number; resolve: () => void }>();
  const advanced = () => {
    for (const waiter of waiters) {
      if (position >= waiter.position) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };

  const run = async () => {
    let failures = 0;
    while (!stopping) {
      try {
        const page = await eventStore.readAll(position, {
          limit: options.pageSize ?? 500,
          waitMs: options.waitMs ?? 5_000,
          types,
          signal: abort.signal,
        });
        position = await applyPage(prisma, projection, position, page.events, page.nextPosition);
        metrics.applied.inc(labels, page.events.length);
        metrics.position.set(labels, position);
        failures = 0;
        advanced();
        if (options.onApplied && page.events.length > 0) {
          try {
            await options.onApplied(page.events);
          } catch (error) {
            metrics.failures.inc(labels);
            logger.error(
              { err: error, projection: projection.name, position },
              'after-page notification failed (read model committed; notification skipped)',
            );
          }
        }
      } catch (error) {
        if (stopping) return;
        if (error instanceof CheckpointMoved) {
          position = error.position;
          advanced();
          continue;
        }
        failures++;
        metrics.failures.inc(labels);
        const delay = Math.min(10_000, 200 * 2 ** Math.min(failures, 6));
        const unreachable = (error as { code?: unknown }).code === 'UNAVAILABLE';
        if (unreachable) {
          // The event store starting or restarting: expected, retried; reads keep being served.
          logger.warn(
            { projection: projection.name, position, retryInMs: delay, reason: (error as Error).message },
            'projection waiting for the event store',
          );
        } else {
          logger.error(
            { err: error, projection: projection.name, position, retryInMs: delay },
            'projection page failed',
          );
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  };
  const done = run();

  return {
    position: () => position,
    waitForPosition: (target, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        if (position >= target) return resolve();
        const waiter = {
          position: target,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(
              `${projection.name} projection still at ${position} after ${timeoutMs} ms, waiting for ${target}`,
            ),
          );
        }, timeoutMs);
        waiters.add(waiter);
      }),
    stop: async () => {
      stopping = true;
      abort.abort();
      await done;
    },
  };
};
