/** The event store in process: validated, group-committed appends and reads of the log. */
import pg from 'pg';
import type { Registry } from 'prom-client';
import { validateAppend } from './append-request.ts';
import { type EventStoreMetrics, eventStoreMetrics, registerHeadPosition } from './metrics.ts';
import { LogReader, type StreamSlice } from './reader.ts';
import type { AppendRequest, AppendResult, EventPage, RecordedEvent } from './types.ts';
import { AppendWriter } from './writer.ts';

/** Options of {@link createEventStore}. */
export interface EventStoreOptions {
  /** Connection URL of the event store database (migrated). */
  databaseUrl: string;
  registry: Registry;
  /** Connections of the pool that serves reads; default 10. */
  readConnections?: number;
  /** Most events committed in one transaction; default 5 000. */
  maxBatchEvents?: number;
}

/** The event store API the HTTP routes, the subgraph and the relay use. */
export interface EventStore {
  /**
   * Appends events to a stream if it is at `expectedVersion`. Idempotent by event id: the same
   * append again answers the same result and writes nothing. Fails with VALIDATION (400) when
   * the request or an event's data does not match its contract, WRONG_EXPECTED_VERSION (409,
   * with `currentVersion`) when the stream moved (nothing appended), IDEMPOTENCY_CONFLICT (409)
   * when an event id is already stored with another payload.
   */
  append(request: AppendRequest): Promise<AppendResult>;
  readStream(streamId: string, options?: { fromVersion?: number; asOf?: Date }): Promise<StreamSlice>;
  readAll(fromPosition?: number, limit?: number, types?: readonly string[]): Promise<EventPage>;
  readByCorrelation(correlationId: string): Promise<RecordedEvent[]>;
  headPosition(): Promise<number>;
  /**
   * Calls `listener` with the last position and the types of the events committed after every
   * commit of this process; returns an unsubscribe.
   */
  onCommit(listener: (position: number, types: ReadonlySet<string>) => void): () => void;
  readonly metrics: EventStoreMetrics;
  /** Refuses new appends, commits the queued ones, closes the store's connection pools. */
  close(): Promise<void>;
}

/** Creates the event store over a migrated database. */
export const createEventStore = (options: EventStoreOptions): EventStore => {
  const metrics = eventStoreMetrics(options.registry);
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
  // An idle connection closed by the server (restart, failover, terminated backend) is dropped
  // by the pool and the next batch opens another; without a listener it would crash the process.
  pool.on('error', () => undefined);
  const listeners = new Set<(position: number, types: ReadonlySet<string>) => void>();
  const writer = new AppendWriter({
    pool,
    metrics,
    ...(options.maxBatchEvents ? { maxBatchEvents: options.maxBatchEvents } : {}),
    onCommit: (position, types) => {
      for (const listener of listeners) listener(position, types);
    },
  });
  // Reads have a pool of their own, so that a burst of reads never delays a commit.
  const readPool = new pg.Pool({ connectionString: options.databaseUrl, max: options.readConnections ?? 10 });
  readPool.on('error', () => undefined); // as the writer's pool
  const reader = new LogReader(readPool);
  registerHeadPosition(options.registry, () => reader.headPosition());
  return {
    metrics,
    append: async (request) => writer.append(validateAppend(request)),
    readStream: (streamId, readOptions) => reader.readStream(streamId, readOptions),
    readAll: (fromPosition, limit, types) => reader.readAll(fromPosition, limit, types),
    readByCorrelation: (correlationId) => reader.readByCorrelation(correlationId),
    headPosition: () => reader.headPosition(),
    onCommit: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: async () => {
      await writer.close();
      await pool.end();
      await readPool.end();
    },
  };
};
