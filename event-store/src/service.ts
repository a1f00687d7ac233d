/**
 * Starts the whole event store from a configuration: database created and migrated, Prisma
 * client, writer, RabbitMQ connection, relay, HTTP API and subgraph, graceful shutdown.
 * `main.ts` calls it; tests call it with port 0.
 */
import { fileURLToPath } from 'node:url';
import { connectMessaging, type Messaging } from '@magasin/messaging';
import { databaseOf, ensureDatabase, migrate } from '@magasin/migrator';
import { postgresReadiness, type RunningService, startService } from '@magasin/service-kit';
import { PrismaPg } from '@prisma/adapter-pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { EventStoreConfig } from './config.ts';
import { PrismaClient } from './generated/prisma/client.ts';
import { mountSubgraph, type Subgraph } from './graphql/subgraph.ts';
import { mountEventStoreRoutes } from './http/routes.ts';
import { type Relay, startRelay } from './relay/relay.ts';
import { createEventStore, type EventStore } from './store/event-store.ts';

const MIGRATIONS = fileURLToPath(new URL('../prisma/migrations', import.meta.url));

/** A running event store. */
export interface RunningEventStore {
  service: RunningService;
  store: EventStore;
  relay: Relay;
  messaging: Messaging;
}

/**
 * Starts the event store. RabbitMQ is not a readiness check on purpose: appends must keep
 * working while the broker is down (the relay catches up when it is back; watch
 * `magasin_eventstore_relay_lag`).
 */
export const runEventStore = async (options: {
  config: EventStoreConfig;
  logger: Logger;
  registry: Registry;
  /** Default true: SIGINT/SIGTERM stop the service and exit. */
  handleSignals?: boolean;
}): Promise<RunningEventStore> => {
  const { config, logger, registry } = options;
  const database = databaseOf(config.databaseUrl);
  if (database) await ensureDatabase(config.databaseUrl, database);
  await migrate({
    databaseUrl: config.databaseUrl,
    migrationsDirectory: MIGRATIONS,
    log: (line) => logger.info(line),
  });
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: config.databaseUrl }) });
  const store = createEventStore({ databaseUrl: config.databaseUrl, registry });
  const messaging = await connectMessaging({
    url: config.RABBITMQ_URL,
    service: 'event-store',
    logger,
    registry,
  });
  const relay = await startRelay({
    databaseUrl: config.databaseUrl,
    prisma,
    store,
    publisher: messaging,
    logger,
    batchSize: config.EVENT_STORE_RELAY_BATCH_SIZE,
    pollIntervalMs: config.EVENT_STORE_RELAY_POLL_MS,
  });
  const postgres = postgresReadiness(config.databaseUrl);
  let subgraph: Subgraph | undefined;
  const service = await startService({
    name: 'event-store',
    port: config.EVENT_STORE_PORT,
    logger,
    registry,
    readiness: [postgres],
    internalSecret: config.INTERNAL_SECRET,
    handleSignals: options.handleSignals ?? true,
    routes: async (app) => {
      subgraph = await mountSubgraph(app, store);
      mountEventStoreRoutes(app, store);
    },
    onShutdown: async () => {
      await store.close();
      await relay.stop();
      await subgraph?.stop();
      await messaging.close();
      await postgres.close();
      await prisma.$disconnect();
    },
  });
  return { service, store, relay, messaging };
};
