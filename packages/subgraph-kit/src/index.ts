/**
 * @magasin/subgraph-kit: what every domain subgraph is built from: deciders and the command
 * handler (load, decide, append with expected version), domain errors mapped to GraphQL codes,
 * projections that follow the event store's log (and their rebuild), and `runSubgraph`, which
 * wires a service's parts onto the service kit. Test helpers: `@magasin/subgraph-kit/testing`.
 */
export {
  type CommandHandler,
  type CommandHandlerOptions,
  type CommandMetadata,
  type CommandResult,
  createCommandHandler,
} from './command-handler.ts';
export { type Decider, fold, given, type PendingEvent } from './decider.ts';
export {
  DOMAIN_ERROR_CODES,
  DomainError,
  type DomainErrorCode,
  hasRole,
  type Role,
  requireIdentity,
  requireRole,
} from './errors.ts';
export {
  DateTimeScalar,
  formatErrorWith,
  mountSubgraph,
  type RequestContext,
  type SubgraphServer,
  type SubgraphServerOptions,
} from './graphql.ts';
export {
  applyPage,
  checkpointOf,
  KIT_TABLES,
  PROJECTION_TABLES_SQL,
  type ProjectionDefinition,
  type ProjectionHandlers,
  type ProjectionPrisma,
  type ProjectionTx,
  type Projector,
  type ProjectorOptions,
  startProjector,
} from './projector.ts';
export {
  type DiffOptions,
  diffProjection,
  type RebuildOptions,
  type RebuildResult,
  readModelTables,
  rebuildProjection,
  withSearchPath,
} from './rebuild.ts';
export { openStreamWriter, type StreamWriter, type StreamWriterOptions } from './stream-writer.ts';
export {
  loadSubgraphConfig,
  type RunningSubgraph,
  type RunSubgraphOptions,
  runSubgraph,
  type SubgraphConfig,
  type SubgraphDeps,
} from './subgraph.ts';
export {
  SUBSCRIPTION_FORBIDDEN_CLOSE_CODE,
  type SubscriptionServer,
  type SubscriptionServerOptions,
  serveSubscriptions,
  signedConnectionParams,
} from './subscriptions.ts';
