/**
 * Runs a domain subgraph: its database created and migrated, Prisma client, event store
 * client, RabbitMQ consumer (inbox in the same database), the projector following the log,
 * and the GraphQL server with /healthz /readyz /metrics and graceful shutdown (optionally its
 * subscriptions over graphql-ws on the same path, and a hook after each projected page). A service's
 * `service.ts` calls `runSubgraph` with its own parts; tests call it with port 0.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { createEventStoreClient, type EventStoreClient } from '@magasin/event-store/client';
import type { EventEnvelope } from '@magasin/events';
import {
  type ConsumeOptions,
  type Consumer,
  connectMessaging,
  type Inbox,
  type Messaging,
  type PrismaQueryLike,
  prismaInbox,
  recordAfterInbox,
} from '@magasin/messaging';
import { databaseOf, ensureDatabase, migrate } from '@magasin/migrator';
import {
  DEV_INTERNAL_SECRET,
  env,
  loadConfig,
  postgresReadiness,
  type ReadinessCheck,
  type RunningService,
  serviceDatabaseUrl,
  startService,
} from '@magasin/service-kit';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { mountSubgraph, type RequestContext, type SubgraphServer } from './graphql.ts';
import {
  type ProjectionDefinition,
  type ProjectionPrisma,
  type ProjectionTx,
  type Projector,
  startProjector,
} from './projector.ts';
import { type SubscriptionServer, serveSubscriptions } from './subscriptions.ts';

const common = {
  RABBITMQ_URL: env.url('amqp://guest:guest@127.0.0.1:5672'),
  EVENT_STORE_URL: env.url('http://127.0.0.1:4006'),
  INTERNAL_SECRET: env.secret(DEV_INTERNAL_SECRET),
  LOG_LEVEL: env.logLevel(),
};

/** What every subgraph reads from the environment. */
export interface SubgraphConfig {
  port: number;
  /** `<SERVICE>_DATABASE_URL`, else `DATABASE_URL` + `/magasin_<service>`. */
  databaseUrl: string;
  RABBITMQ_URL: string;
  EVENT_STORE_URL: string;
  INTERNAL_SECRET: string;
  LOG_LEVEL: z.infer<ReturnType<typeof env.logLevel>>;
}

/**
 * Reads and validates a subgraph's configuration once (throws ConfigError naming every bad
 * variable). `extra` adds the service's own variables, returned beside the common ones.
 */
// biome-ignore lint/complexity/noBannedTypes: `{}` (no extra keys) keeps `{ ...config, port: 0 }` assignable; Record<never, never> does not
export const loadSubgraphConfig = <Extra extends z.ZodRawShape = {}>(
  service: string,
  options: { portEnv: string; port: number; extra?: Extra },
  environment: NodeJS.ProcessEnv = process.env,
): SubgraphConfig & z.infer<z.ZodObject<Extra>> => {
  const schema = z.object({ ...common, [options.portEnv]: env.port(options.port), ...(options.extra ?? {}) });
  // Without EVENT_STORE_URL, the event store is on this host at EVENT_STORE_PORT (what `npm start` sets).
  const eventStorePort = environment.EVENT_STORE_PORT;
  const withEventStore =
    !environment.EVENT_STORE_URL && eventStorePort
      ? { ...environment, EVENT_STORE_URL: `http://127.0.0.1:${eventStorePort}` }
      : environment;
  const loaded = loadConfig(schema, withEventStore) as Record<string, unknown>;
  return {
    ...(loaded as z.infer<z.ZodObject<Extra>> & Omit<SubgraphConfig, 'port' | 'databaseUrl'>),
    port: loaded[options.portEnv] as number,
    databaseUrl: serviceDatabaseUrl(`magasin_${service}`, environment),
  };
};

/** What the service's parts are built from. */
export interface SubgraphDeps<P> {
  prisma: P;
  eventStore: EventStoreClient;
  messaging: Messaging;
  projector: Projector;
  logger: Logger;
  registry: Registry;
}

/**
 * Bus messages a subgraph handles at once unless its `consume` says otherwise. With the
 * `transaction` inbox each handler holds one of the Prisma pool's 10 connections for as long as
 * it runs (event store round trips included): more in flight than the pool only wait for
 * connections, and starve the projector and the queries that need one too.
 */
export const DEFAULT_PREFETCH = 8;

/** Options of {@link runSubgraph}. */
export interface RunSubgraphOptions<P extends ProjectionPrisma<Tx>, Tx extends ProjectionTx, Extra> {
  /** Service name: queue, checkpoint, database `magasin_<name>`, event-store caller. */
  name: string;
  config: SubgraphConfig;
  logger: Logger;
  registry: Registry;
  /** Default true: SIGINT/SIGTERM stop the service and exit. */
  handleSignals?: boolean;
  projection: ProjectionDefinition<P, Tx>;
  typeDefs: string;
  resolvers: (deps: SubgraphDeps<P>) => GraphQLResolverMap<RequestContext & Extra>;
  /** What the service adds to each request's context (per-request DataLoaders). */
  context?: (deps: SubgraphDeps<P>, request: RequestContext) => Extra;
  /** Event and command handlers on the bus; the kit adds the inbox. */
  consume?: (deps: SubgraphDeps<P>) => Omit<ConsumeOptions<Tx>, 'inbox'>;
  /**
   * The inbox of `consume`: `transaction` (default) runs each handler in a transaction that also
   * records its message (`prismaInbox`); `record-after` runs it outside any transaction and
   * records the message after (`recordAfterInbox`: handlers whose effects are outside this
   * database and idempotent on their own; they receive the client instead of a transaction);
   * or the service's own inbox over its client (the audit trail's `batchingPrismaInbox`, which
   * commits the messages handled at the same time in one transaction).
   */
  inbox?: 'transaction' | 'record-after' | ((prisma: P) => Inbox<Tx>);
  /** Readiness checks beside PostgreSQL. */
  readiness?: ReadinessCheck[];
  /** Runs first on shutdown (before the consumer and projector stop). */
  onShutdown?: () => Promise<void>;
  /**
   * Serve the schema's `Subscription` fields over graphql-ws on the same server and path
   * (`/graphql`), accepting only connections signed like internal requests (upgrade headers or
   * `connection_init` payload; see `serveSubscriptions`). Default false.
   */
  subscriptions?: boolean;
  /**
   * Called after each page of the log the projector committed, with its events in order (see
   * `ProjectorOptions.onApplied`): publish live notifications of read-model changes here.
   */
  onProjected?: (events: readonly EventEnvelope[], deps: SubgraphDeps<P>) => Promise<void>;
}

/** A running subgraph. */
export interface RunningSubgraph<P> {
  service: RunningService;
  url: string;
  deps: SubgraphDeps<P>;
  stop(): Promise<void>;
}

/** Starts a subgraph; see the module comment. */
export const runSubgraph = async <P extends ProjectionPrisma<Tx>, Tx extends ProjectionTx, Extra = object>(
  options: RunSubgraphOptions<P, Tx, Extra>,
): Promise<RunningSubgraph<P>> => {
  const { config, logger, registry, projection } = options;
  const database = databaseOf(config.databaseUrl);
  if (database) await ensureDatabase(config.databaseUrl, database);
  await migrate({
    databaseUrl: config.databaseUrl,
    migrationsDirectory: projection.migrationsDirectory,
    log: (line) => logger.info(line),
  });
  const prisma = projection.createPrisma(config.databaseUrl);
  const eventStore = createEventStoreClient({
    url: config.EVENT_STORE_URL,
    secret: config.INTERNAL_SECRET,
    caller: options.name,
  });
  const messaging = await connectMessaging({
    url: config.RABBITMQ_URL,
    service: options.name,
    logger,
    registry,
  });
  // The projector may finish a page before `deps` exists: notifications wait for it.
  let depsReady: (deps: SubgraphDeps<P>) => void = () => undefined;
  const depsPromise = new Promise<SubgraphDeps<P>>((resolve) => {
    depsReady = resolve;
  });
  const onProjected = options.onProjected;
  const projector = await startProjector({
    projection,
    prisma,
    eventStore,
    logger,
    registry,
    ...(onProjected ? { onApplied: async (events) => onProjected(events, await depsPromise) } : {}),
  });
  const deps: SubgraphDeps<P> = { prisma, eventStore, messaging, projector, logger, registry };
  depsReady(deps);
  let consumer: Consumer | undefined;
  if (options.consume) {
    consumer = await messaging.consume({
      prefetch: DEFAULT_PREFETCH,
      ...options.consume(deps),
      inbox:
        options.inbox === 'record-after'
          ? // A generated client has every member of its transaction client.
            recordAfterInbox(prisma as unknown as Tx & PrismaQueryLike)
          : typeof options.inbox === 'function'
            ? options.inbox(prisma)
            : prismaInbox(prisma),
    });
  }
  const postgres = postgresReadiness(config.databaseUrl);
  let subgraph: SubgraphServer | undefined;
  let subscriptions: SubscriptionServer | undefined;
  const service = await startService({
    name: options.name,
    port: config.port,
    logger,
    registry,
    readiness: [postgres, ...(options.readiness ?? [])],
    internalSecret: config.INTERNAL_SECRET,
    handleSignals: options.handleSignals ?? true,
    routes: async (app) => {
      subgraph = await mountSubgraph<RequestContext & Extra>(app, {
        typeDefs: options.typeDefs,
        resolvers: options.resolvers(deps),
        context: (request) => ({ ...request, ...(options.context?.(deps, request) ?? ({} as Extra)) }),
        logger,
      });
    },
    onShutdown: async () => {
      await subscriptions?.close();
      await options.onShutdown?.();
      await consumer?.close();
      await projector.stop();
      await subgraph?.stop();
      await messaging.close();
      await postgres.close();
      await prisma.$disconnect();
      await eventStore.close();
    },
  });
  if (options.subscriptions && subgraph) {
    subscriptions = serveSubscriptions<RequestContext & Extra>({
      server: service.server,
      schema: subgraph.schema,
      secret: config.INTERNAL_SECRET,
      logger,
      context: (request) => ({ ...request, ...(options.context?.(deps, request) ?? ({} as Extra)) }),
    });
  }
  return { service, url: service.url, deps, stop: () => service.stop() };
};
