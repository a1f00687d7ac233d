/**
 * The single writer: appends are queued and committed in batches (group commit), one
 * transaction per batch, and that transaction is one statement: `append_events` (a SQL
 * function, see its migration) takes the transaction-scoped position lock, checks expected
 * versions and event ids, inserts and notifies, and the batch commits when the statement
 * ends: one round trip per batch. Writers of every replica assign positions one transaction
 * at a time and each transaction commits before the next one reads the head: positions become
 * visible in commit order, with no gap a reader could skip.
 */
import type pg from 'pg';
import { EventStoreError, WrongExpectedVersionError } from './errors.ts';
import type { EventStoreMetrics } from './metrics.ts';
import type { AppendRequest, AppendResult, ExpectedVersion, RecordedEvent } from './types.ts';

/** Advisory lock key held while positions are assigned ('magasin.events' folded to 64 bits). */
export const POSITION_LOCK_KEY = 7_236_911_450_318_004_223n;

/** NOTIFY channel signalled on every commit with the last position (other replicas' relays listen). */
export const COMMIT_CHANNEL = 'magasin_event_store_commits';

interface Pending {
  request: AppendRequest;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
  started: bigint;
}

/** Options of {@link AppendWriter}. */
export interface AppendWriterOptions {
  pool: pg.Pool;
  metrics: EventStoreMetrics;
  /** Most events committed in one transaction; default 5 000. */
  maxBatchEvents?: number;
  /** Called after each commit with the last position committed and the types of its events. */
  onCommit?: (position: number, types: ReadonlySet<string>) => void;
}

export interface StoredRow {
  position: number | string;
  stream_id: string;
  version: number;
  event_id: string;
  type: string;
  data: unknown;
  metadata: StoredMetadata;
}

/** What the `metadata` column holds. */
export interface StoredMetadata {
  correlationId: string;
  causationId: string | null;
  actor: string;
  traceparent: string | null;
  schemaVersion: number;
  occurredAt: string;
}

/** An envelope from a stored row (json_agg or pg row). */
export const envelopeOf = (row: StoredRow): RecordedEvent => ({
  eventId: row.event_id,
  type: row.type,
  streamId: row.stream_id,
  version: row.version,
  position: Number(row.position),
  occurredAt: row.metadata.occurredAt,
  correlationId: row.metadata.correlationId,
  causationId: row.metadata.causationId,
  actor: row.metadata.actor,
  traceparent: row.metadata.traceparent,
  schemaVersion: row.metadata.schemaVersion,
  data: row.data,
});

/** The expected version as `append_events` takes it: -1 for any (no_stream is version 0). */
const expectedOf = (expected: ExpectedVersion): number =>
  expected === 'any' ? -1 : expected === 'no_stream' ? 0 : expected;

/** One batch, one statement: see prisma/migrations/*_append_events_function. */
const APPEND_EVENTS = `
  SELECT append_index, outcome, last_version, last_position::text, occurred_at, stored
    FROM append_events($1, $2, $3::text[], $4::int[], $5::bigint[], $6::int[], $7::uuid[], $8::text[],
                       $9::jsonb[], $10::jsonb[], $11::text[], $12)`;

/** A row of `append_events`: what became of one append of the batch. */
interface AppendOutcomeRow {
  append_index: number;
  outcome: 'appended' | 'conflict' | 'duplicate' | 'idempotency_conflict';
  last_version: number | null;
  last_position: string | null;
  occurred_at: string | null;
  stored: StoredRow[] | null;
}

/** Queues appends and commits them in batches; see the module comment for the ordering guarantee. */
export class AppendWriter {
  private readonly queue: Pending[] = [];
  private draining: Promise<void> | undefined;
  private closed = false;
  private readonly maxBatchEvents: number;

  constructor(private readonly options: AppendWriterOptions) {
    this.maxBatchEvents = options.maxBatchEvents ?? 5_000;
  }

  /** Queues a validated append; resolves once committed (or refused). */
  append(request: AppendRequest): Promise<AppendResult> {
    if (this.closed) {
      return Promise.reject(
        new EventStoreError('UNAVAILABLE', 'the event store is stopping: retry the append'),
      );
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ request, resolve, reject, started: process.hrtime.bigint() });
      this.draining ??= this.drain();
    });
  }

  /** Refuses new appends and waits for the queued ones to commit. */
  async close(): Promise<void> {
    this.closed = true;
    await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        // Let the callers whose appends just committed queue their next ones first, so each
        // transaction carries every append waiting (group commit), not only the quickest.
        await new Promise((resolve) => setImmediate(resolve));
        let size = 0;
        let events = 0;
        for (const next of this.queue) {
          if (size > 0 && events + next.request.events.length > this.maxBatchEvents) break;
          size++;
          events += next.request.events.length;
        }
        await this.commit(this.queue.splice(0, size));
      }
    } finally {
      this.draining = undefined;
    }
  }

  private observe(pending: Pending, outcome: string): void {
    const seconds = Number(process.hrtime.bigint() - pending.started) / 1e9;
    this.options.metrics.appendDuration.observe({ outcome }, seconds);
  }

  private async commit(batch: Pending[]): Promise<void> {
    const { metrics } = this.options;
    const streamIndex = new Map<string, number>();
    const appendStreams: number[] = [];
    const appendExpected: number[] = [];
    const appendSizes: number[] = [];
    const eventIds: string[] = [];
    const eventTypes: string[] = [];
    const eventData: string[] = [];
    const eventMetadata: string[] = [];
    const eventCorrelations: string[] = [];
    for (const { request } of batch) {
      let stream = streamIndex.get(request.streamId);
      if (stream === undefined) {
        stream = streamIndex.size + 1;
        streamIndex.set(request.streamId, stream);
      }
      appendStreams.push(stream);
      appendExpected.push(expectedOf(request.expectedVersion));
      appendSizes.push(request.events.length);
      for (const event of request.events) {
        eventIds.push(event.eventId);
        eventTypes.push(event.type);
        eventData.push(JSON.stringify(event.data ?? null));
        // Without occurredAt when not given: the function writes the batch's recorded_at.
        eventMetadata.push(
          JSON.stringify({
            correlationId: event.correlationId,
            causationId: event.causationId ?? null,
            actor: event.actor,
            traceparent: event.traceparent ?? null,
            schemaVersion: event.schemaVersion ?? 1,
            occurredAt: event.occurredAt,
          }),
        );
        eventCorrelations.push(event.correlationId);
      }
    }
    let rows: AppendOutcomeRow[];
    try {
      // A named statement: parsed and planned once per connection. Outside any explicit
      // transaction, the statement is its own transaction: one round trip per batch.
      ({ rows } = await this.options.pool.query<AppendOutcomeRow>({
        name: 'event_store_append_events',
        text: APPEND_EVENTS,
        values: [
          POSITION_LOCK_KEY.toString(),
          COMMIT_CHANNEL,
          [...streamIndex.keys()],
          appendStreams,
          appendExpected,
          appendSizes,
          eventIds,
          eventTypes,
          eventData,
          eventMetadata,
          eventCorrelations,
          new Set(eventIds).size < eventIds.length,
        ],
      }));
    } catch (error) {
      for (const pending of batch) {
        this.observe(pending, 'error');
        pending.reject(error);
      }
      return;
    }
    let head = 0;
    const committedTypes = new Set<string>();
    for (const row of rows) {
      // One row per append of the batch, numbered from 1.
      const pending = batch[row.append_index - 1] as Pending;
      const { streamId, expectedVersion, events } = pending.request;
      switch (row.outcome) {
        case 'appended': {
          const lastVersion = row.last_version as number;
          const lastPosition = Number(row.last_position);
          const recorded = events.map(
            (event, i): RecordedEvent => ({
              eventId: event.eventId,
              type: event.type,
              streamId,
              version: lastVersion - events.length + 1 + i,
              position: lastPosition - events.length + 1 + i,
              occurredAt: event.occurredAt ?? (row.occurred_at as string),
              correlationId: event.correlationId,
              causationId: event.causationId ?? null,
              actor: event.actor,
              traceparent: event.traceparent ?? null,
              schemaVersion: event.schemaVersion ?? 1,
              data: event.data,
            }),
          );
          head = Math.max(head, lastPosition);
          for (const event of recorded) {
            metrics.eventsAppended.inc({ type: event.type });
            committedTypes.add(event.type);
          }
          this.observe(pending, 'appended');
          pending.resolve({ streamId, version: lastVersion, position: lastPosition, events: recorded });
          break;
        }
        case 'conflict':
          metrics.concurrencyConflicts.inc();
          this.observe(pending, 'conflict');
          pending.reject(
            new WrongExpectedVersionError(streamId, expectedVersion, row.last_version as number),
          );
          break;
        case 'duplicate': {
          const recorded = (row.stored ?? []).map(envelopeOf);
          const last = recorded[recorded.length - 1] as RecordedEvent;
          this.observe(pending, 'duplicate');
          pending.resolve({ streamId, version: last.version, position: last.position, events: recorded });
          break;
        }
        case 'idempotency_conflict':
          this.observe(pending, 'idempotency_conflict');
          pending.reject(
            new EventStoreError(
              'IDEMPOTENCY_CONFLICT',
              `append to ${streamId}: event id(s) ${(row.stored ?? []).map((stored) => stored.event_id).join(', ')} already stored with a different stream or payload: a retry must resend the same events, new events need new ids`,
              { streamId },
            ),
          );
          break;
      }
    }
    if (head > 0) this.options.onCommit?.(head, committedTypes);
  }
}
