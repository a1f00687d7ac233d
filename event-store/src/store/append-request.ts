/** Validation of an append before it is queued: shape, then each event against its contract. */
import { currentSchemaVersion, validateEventData } from '@magasin/events';
import { z } from 'zod';
import { EventStoreError } from './errors.ts';
import type { AppendRequest } from './types.ts';

/** Most events one append may carry. */
export const MAX_EVENTS_PER_APPEND = 1_000;

const text = z.string().min(1).max(200);

/** The JSON shape of an append (HTTP body without the stream id, which comes from the path). */
export const appendBodySchema = z.object({
  expectedVersion: z.union([z.literal('any'), z.literal('no_stream'), z.number().int().nonnegative()]),
  events: z
    .array(
      z.object({
        eventId: z.uuid(),
        type: text,
        data: z.unknown(),
        correlationId: text,
        causationId: text.nullable().optional(),
        actor: text,
        traceparent: z.string().max(512).nullable().optional(),
        schemaVersion: z.number().int().positive().optional(),
        occurredAt: z.iso.datetime({ offset: true }).optional(),
      }),
    )
    .min(1)
    .max(MAX_EVENTS_PER_APPEND),
});

const describe = (error: z.ZodError): string =>
  error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');

/**
 * Checks an append and returns it with every event's `schemaVersion` filled in. Throws
 * `EventStoreError('VALIDATION')` naming the field, or the event (index, type, id) and the
 * contract issue, when something does not match.
 */
export const validateAppend = (request: AppendRequest): AppendRequest => {
  const streamId = text.safeParse(request.streamId);
  if (!streamId.success) {
    throw new EventStoreError('VALIDATION', `streamId: ${describe(streamId.error)}`);
  }
  const body = appendBodySchema.safeParse({
    expectedVersion: request.expectedVersion,
    events: request.events,
  });
  if (!body.success)
    throw new EventStoreError('VALIDATION', `append to ${request.streamId}: ${describe(body.error)}`);
  const seen = new Set<string>();
  const events = request.events.map((event, index) => {
    if (seen.has(event.eventId)) {
      throw new EventStoreError(
        'VALIDATION',
        `events[${index}] (${event.type}): event id ${event.eventId} appears twice in one append`,
      );
    }
    seen.add(event.eventId);
    const schemaVersion = event.schemaVersion ?? currentSchemaVersion(event.type) ?? 1;
    const validation = validateEventData(event.type, schemaVersion, event.data);
    if (!validation.ok) {
      throw new EventStoreError(
        'VALIDATION',
        `events[${index}] (${event.type}, ${event.eventId}) does not match its contract: ${validation.reason}`,
        { index, eventId: event.eventId, type: event.type },
      );
    }
    return { ...event, schemaVersion };
  });
  return { streamId: request.streamId, expectedVersion: request.expectedVersion, events };
};
