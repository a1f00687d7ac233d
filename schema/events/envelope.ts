/**
 * The event envelope of the design and the names of the exchanges every service shares.
 * The envelope is the same for every event; only `data` differs by `type` (see `catalog.ts`).
 */
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';

/** The RabbitMQ exchanges of Magasin: domain events (topic), commands (topic), saga progress (fanout). */
export const EXCHANGES = {
  events: 'magasin.events',
  commands: 'magasin.commands',
  sagaUpdates: 'magasin.saga-updates',
} as const;

/** Bounded contexts; the first segment of an event routing key (`<context>.<EventType>`). */
export const CONTEXTS = ['store', 'inventory', 'payment', 'transaction', 'saga'] as const;
/** A bounded context that owns events. */
export type Context = (typeof CONTEXTS)[number];

/** A new UUIDv7 (time-ordered), for event and command ids. */
export const newEventId = (): string => uuidv7();

/** Integer amount of money in cents (never a float). */
export const cents = z.number().int().nonnegative();
/** A positive integer quantity of items. */
export const quantity = z.number().int().positive();
/** An identifier: a non-empty string (UUIDs in practice). */
export const id = z.string().min(1).max(200);
/** An ISO-8601 timestamp with offset. */
export const isoDateTime = z.iso.datetime({ offset: true });

/** Envelope fields without `data`; `data` is validated against the contract of `type`. */
export const envelopeSchema = z.object({
  eventId: id,
  type: z.string().min(1),
  streamId: id,
  version: z.number().int().positive(),
  position: z.number().int().nonnegative(),
  occurredAt: isoDateTime,
  correlationId: id,
  causationId: id.nullable(),
  actor: z.string().min(1),
  traceparent: z.string().nullable(),
  schemaVersion: z.number().int().positive(),
  data: z.unknown(),
});

/** The envelope of the design: every event in the store and on the bus has this shape. */
export interface EventEnvelope<T extends string = string, D = unknown> {
  eventId: string;
  type: T;
  streamId: string;
  version: number;
  /** Global position in the event store (0 before it is appended). */
  position: number;
  occurredAt: string;
  correlationId: string;
  causationId: string | null;
  actor: string;
  traceparent: string | null;
  schemaVersion: number;
  data: D;
}
