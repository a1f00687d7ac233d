/** Shapes the event store reads and writes. */
import type { EventEnvelope } from '@magasin/events';

/**
 * Where the stream must be for an append to apply: `any` (no check), `no_stream` (the stream
 * has no event yet) or an exact version (the version of its last event; 0 means no stream).
 */
export type ExpectedVersion = 'any' | 'no_stream' | number;

/** An event to append, before the store gives it a version and a position. */
export interface NewEvent {
  /** UUID (v7 from `newEventId()`); the idempotency key of the append. */
  eventId: string;
  type: string;
  data: unknown;
  correlationId: string;
  causationId?: string | null;
  actor: string;
  traceparent?: string | null;
  /** Schema version `data` was written at; default the current one of `type`. */
  schemaVersion?: number;
  /** When it happened, ISO-8601; default the time it is recorded. */
  occurredAt?: string;
}

/** An event as stored: the envelope of the design. */
export type RecordedEvent = EventEnvelope;

/** An append: events for one stream with the version the stream must be at. */
export interface AppendRequest {
  streamId: string;
  expectedVersion: ExpectedVersion;
  events: NewEvent[];
}

/** What an append did; a retried append answers exactly the same. */
export interface AppendResult {
  streamId: string;
  /** Version of the stream's last event after the append. */
  version: number;
  /** Global position of the last event appended. */
  position: number;
  /** The events as recorded, with version and position. */
  events: RecordedEvent[];
}

/** A page of the global log. */
export interface EventPage {
  events: RecordedEvent[];
  /**
   * Position to read from next: the last position of this page, or `fromPosition` when empty.
   * With a type filter, the page covers every event up to it, matching or not: a page that is
   * not full ends at the head of the log, so a reader skips what it does not care about.
   */
  nextPosition: number;
  /** Whether the page was full, so more may follow right away. */
  hasMore: boolean;
}
