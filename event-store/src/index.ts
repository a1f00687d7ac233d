/**
 * @magasin/event-store: the event log service. Services use the client
 * (`@magasin/event-store/client`); this entry exposes the in-process store for tools
 * (projection rebuilds, benchmarks) and the service itself.
 */
export { type EventStoreConfig, loadEventStoreConfig } from './config.ts';
export { typeDefs } from './graphql/subgraph.ts';
export { type EventPublisher, type Relay, type RelayOptions, startRelay } from './relay/relay.ts';
export { type RunningEventStore, runEventStore } from './service.ts';
export { MAX_EVENTS_PER_APPEND, validateAppend } from './store/append-request.ts';
export {
  EVENT_STORE_ERRORS,
  EventStoreError,
  type EventStoreErrorCode,
  WrongExpectedVersionError,
} from './store/errors.ts';
export { createEventStore, type EventStore, type EventStoreOptions } from './store/event-store.ts';
export { type EventStoreMetrics, eventStoreMetrics } from './store/metrics.ts';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type StreamSlice } from './store/reader.ts';
export type {
  AppendRequest,
  AppendResult,
  EventPage,
  ExpectedVersion,
  NewEvent,
  RecordedEvent,
} from './store/types.ts';
export { COMMIT_CHANNEL, POSITION_LOCK_KEY } from './store/writer.ts';
