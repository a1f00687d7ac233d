/**
 * @magasin/events: the contracts of every event and command of Magasin (zod, one source of
 * truth for types), the envelope, routing keys and validation with upcasting.
 */
export {
  auditedField,
  isSensitiveKey,
  isTokenLike,
  MASKED,
  MUTATION_OUTCOMES,
  type MutationOutcome,
  maskCardData,
  RecordMutation,
  subjectIdsIn,
} from '../events/audit.ts';
export {
  type DomainEvent,
  EVENT_CONTRACTS,
  EVENT_TYPES,
  type EventContract,
  type EventDataOf,
  type EventOf,
  type EventType,
  isEventType,
  type Upcaster,
} from '../events/catalog.ts';
export {
  COMMAND_CONTRACTS,
  COMMAND_SERVICES,
  type CommandEnvelope,
  type CommandOf,
  type CommandPayloadOf,
  type CommandService,
  type CommandType,
  commandEnvelopeSchema,
  commandRoutingKeyFor,
  type DomainCommand,
  isCommandType,
  parseCommand,
} from '../events/commands.ts';
export {
  CONTEXTS,
  type Context,
  cents,
  type EventEnvelope,
  EXCHANGES,
  envelopeSchema,
  newEventId,
} from '../events/envelope.ts';
export {
  currentSchemaVersion,
  parseEnvelope,
  routingKeyFor,
  type Validation,
  validateEventData,
} from '../events/validation.ts';
