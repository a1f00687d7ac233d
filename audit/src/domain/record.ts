/**
 * What the trail records about an event or a mutation, before it is chained: who, what, when,
 * the outcome, the correlation id, compliance tags, and the data with card data masked. Pure:
 * no clock, no database. Personal data is still in clear here; `personal-data.ts` replaces it
 * with pseudonyms before the record is hashed and stored.
 */
import {
  type CommandOf,
  type DomainEvent,
  EVENT_CONTRACTS,
  MASKED,
  type MutationOutcome,
  maskCardData,
  subjectIdsIn,
} from '@magasin/events';
import { personalValues } from './personal-data.ts';

/** What a record is about. */
export const RECORD_KINDS = ['EVENT', 'MUTATION'] as const;
/** One of {@link RECORD_KINDS}. */
export type RecordKind = (typeof RECORD_KINDS)[number];

/** Compliance regimes a record falls under. */
export const COMPLIANCE_TAGS = ['PCI-DSS', 'GDPR'] as const;
/** One of {@link COMPLIANCE_TAGS}. */
export type ComplianceTag = (typeof COMPLIANCE_TAGS)[number];

/** A JSON value as stored in the trail. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A record of the trail before it is chained (no sequence, hashes or recording time yet). */
export interface AuditDraft {
  /** eventId or commandId: the trail holds one record per source message. */
  readonly sourceId: string;
  readonly kind: RecordKind;
  /** Event type, or the mutation's root fields joined by commas. */
  readonly type: string;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly actor: string;
  readonly subjectIds: readonly string[];
  readonly streamId: string | null;
  readonly streamVersion: number | null;
  readonly position: number | null;
  readonly outcome: MutationOutcome | null;
  readonly errorCodes: readonly string[];
  readonly tags: readonly ComplianceTag[];
  readonly data: { [key: string]: Json };
  /** ISO-8601, milliseconds: when it happened (the event's occurredAt, the gateway's receivedAt). */
  readonly occurredAt: string;
}

/** `occurredAt` at millisecond precision, as the database keeps it and the hash covers it. */
const milliseconds = (iso: string): string => new Date(iso).toISOString();

const asJson = (value: unknown): Json => JSON.parse(JSON.stringify(value ?? null)) as Json;

const asObject = (value: unknown): { [key: string]: Json } => {
  const json = asJson(value);
  return json !== null && typeof json === 'object' && !Array.isArray(json) ? json : { value: json };
};

/** Business ids named at the top of an event's data (`orderId`, `productId`...), never a person's. */
const subjectIdsOf = (data: { [key: string]: Json }, correlationId: string): string[] =>
  subjectIdsIn(data, 0).filter((id) => id !== correlationId);

/** Whether masking replaced something in `data`. */
const holdsMaskedData = (data: Json): boolean =>
  data === MASKED ||
  (Array.isArray(data)
    ? data.some(holdsMaskedData)
    : data !== null && typeof data === 'object' && Object.values(data).some(holdsMaskedData));

/** The tags a record carries: PCI-DSS for payments and anything that held card data; GDPR for personal data. */
export const complianceTags = (record: {
  paymentContext: boolean;
  masked: boolean;
  actor: string;
  data: { [key: string]: Json };
}): ComplianceTag[] => {
  const tags: ComplianceTag[] = [];
  if (record.paymentContext || record.masked) tags.push('PCI-DSS');
  if (personalValues(record).length > 0) tags.push('GDPR');
  return tags;
};

/** The draft of an event seen on the bus. */
export const draftOfEvent = (event: DomainEvent): AuditDraft => {
  const data = asObject(maskCardData(event.data));
  return {
    sourceId: event.eventId,
    kind: 'EVENT',
    type: event.type,
    correlationId: event.correlationId,
    causationId: event.causationId,
    actor: event.actor,
    subjectIds: subjectIdsOf(data, event.correlationId),
    streamId: event.streamId,
    streamVersion: event.version,
    position: event.position,
    outcome: null,
    errorCodes: [],
    tags: complianceTags({
      paymentContext: EVENT_CONTRACTS[event.type].context === 'payment',
      masked: holdsMaskedData(data),
      actor: event.actor,
      data,
    }),
    data,
    occurredAt: milliseconds(event.occurredAt),
  };
};

/** The draft of a mutation the gateway accepted or refused. */
export const draftOfMutation = (command: CommandOf<'RecordMutation'>): AuditDraft => {
  const { payload } = command;
  // The gateway masks already; masking again keeps the rule in the trail's own hands.
  const data = asObject(
    maskCardData({
      operationName: payload.operationName,
      fields: payload.fields,
      roles: payload.roles,
      durationMs: payload.durationMs,
    }),
  );
  const fields = payload.fields.map((field) => field.name);
  return {
    sourceId: command.commandId,
    kind: 'MUTATION',
    type: fields.join(','),
    correlationId: command.correlationId,
    causationId: command.causationId,
    actor: command.actor,
    subjectIds: [...new Set(payload.subjectIds)].filter((id) => id !== command.correlationId),
    streamId: null,
    streamVersion: null,
    position: null,
    outcome: payload.outcome,
    errorCodes: payload.errorCodes,
    tags: complianceTags({
      paymentContext: false,
      masked: holdsMaskedData(data),
      actor: command.actor,
      data,
    }),
    data,
    occurredAt: milliseconds(payload.receivedAt),
  };
};
