/** Validation of event data and envelopes, with upcasting of older schema versions. */
import type { z } from 'zod';
import { EVENT_CONTRACTS, type EventContract, isEventType } from './catalog.ts';
import { type EventEnvelope, envelopeSchema } from './envelope.ts';

/** Result of a validation: the data at the current schema version, or why it was refused. */
export type Validation<T> = ({ ok: true } & T) | { ok: false; reason: string };

const describe = (error: z.ZodError): string =>
  error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');

/** The current schema version of `type`, or undefined for an unknown type. */
export const currentSchemaVersion = (type: string): number | undefined =>
  isEventType(type) ? EVENT_CONTRACTS[type].schemaVersion : undefined;

/**
 * Validates `data` of `type` written at `schemaVersion`. Older versions are validated
 * against their own schema and upcast step by step to the current one, which is then
 * validated. Refuses unknown types, versions newer than the catalog and versions with no
 * upcaster, with a reason naming the field or the missing piece.
 */
export const validateEventData = (
  type: string,
  schemaVersion: number,
  data: unknown,
): Validation<{ schemaVersion: number; data: unknown }> => {
  if (!isEventType(type)) return { ok: false, reason: `unknown event type '${type}'` };
  const contract: EventContract = EVENT_CONTRACTS[type];
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1) {
    return { ok: false, reason: `${type}: invalid schemaVersion ${schemaVersion}` };
  }
  if (schemaVersion > contract.schemaVersion) {
    return {
      ok: false,
      reason: `${type}: schemaVersion ${schemaVersion} is newer than this consumer knows (${contract.schemaVersion}); deploy the newer contracts`,
    };
  }
  let current = data;
  for (let version = schemaVersion; version < contract.schemaVersion; version++) {
    const upcaster = contract.upcasters.find((candidate) => candidate.from === version);
    if (!upcaster) return { ok: false, reason: `${type}: no upcaster from schemaVersion ${version}` };
    const old = upcaster.schema.safeParse(current);
    if (!old.success) return { ok: false, reason: `${type} v${version}: ${describe(old.error)}` };
    current = upcaster.up(old.data as never);
  }
  const parsed = contract.schema.safeParse(current);
  if (!parsed.success)
    return { ok: false, reason: `${type} v${contract.schemaVersion}: ${describe(parsed.error)}` };
  return { ok: true, schemaVersion: contract.schemaVersion, data: parsed.data };
};

/**
 * Validates a whole envelope as received from the bus or the store: envelope fields, then
 * `data` against the contract of `type` (upcast to the current version; the returned event
 * carries the current `schemaVersion`).
 */
export const parseEnvelope = (raw: unknown): Validation<{ event: EventEnvelope }> => {
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) return { ok: false, reason: `envelope: ${describe(envelope.error)}` };
  const data = validateEventData(envelope.data.type, envelope.data.schemaVersion, envelope.data.data);
  if (!data.ok) return data;
  return { ok: true, event: { ...envelope.data, schemaVersion: data.schemaVersion, data: data.data } };
};

/** `<context>.<EventType>`, e.g. 'inventory.StockReserved'. Throws for an unknown type. */
export const routingKeyFor = (type: string): string => {
  if (!isEventType(type)) {
    throw Object.assign(new Error(`unknown event type '${type}': add it to schema/events/catalog.ts`), {
      code: 'UNKNOWN_EVENT_TYPE',
    });
  }
  return `${EVENT_CONTRACTS[type].context}.${type}`;
};
