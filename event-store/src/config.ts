/** The event store's configuration, read once at start-up. */
import { DEV_INTERNAL_SECRET, env, loadConfig, serviceDatabaseUrl } from '@magasin/service-kit';
import { z } from 'zod';

/** Database of the event store (see `magasin.service.database` in package.json). */
export const DATABASE = 'magasin_event_store';

const schema = z.object({
  EVENT_STORE_PORT: env.port(4006),
  RABBITMQ_URL: env.url('amqp://guest:guest@127.0.0.1:5672'),
  INTERNAL_SECRET: env.secret(DEV_INTERNAL_SECRET),
  LOG_LEVEL: env.logLevel(),
  /** Events per relay publication. */
  EVENT_STORE_RELAY_BATCH_SIZE: env.positiveInt(500),
  /** Longest the relay goes without looking for new events (commits wake it sooner). */
  EVENT_STORE_RELAY_POLL_MS: env.positiveInt(1_000),
});

/** Validated configuration plus the database URL (`EVENT_STORE_DATABASE_URL`, else `DATABASE_URL` + /magasin_event_store). */
export type EventStoreConfig = z.infer<typeof schema> & { databaseUrl: string };

/** Reads and validates the environment; throws ConfigError naming every bad variable. */
export const loadEventStoreConfig = (environment: NodeJS.ProcessEnv = process.env): EventStoreConfig => ({
  ...loadConfig(schema, environment),
  databaseUrl: serviceDatabaseUrl(DATABASE, environment),
});
