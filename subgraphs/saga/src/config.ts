/** The saga orchestrator's configuration, read and validated once at start-up. */
import { env } from '@magasin/service-kit';
import { loadSubgraphConfig } from '@magasin/subgraph-kit';

/** Service name: queue, projection checkpoint, database `magasin_saga`, event-store caller. */
export const SERVICE = 'saga';

const extra = {
  /** How long a saga step may take before the saga times out (or, for a return step, is retried). */
  SAGA_STEP_TIMEOUT_MS: env.positiveInt(10_000),
  /** Attempts of each return-saga step (first command + retries) before the return times out. */
  SAGA_RETURN_STEP_ATTEMPTS: env.positiveInt(3),
  /** How often the deadline timer looks for due deadlines. */
  SAGA_DEADLINE_POLL_MS: env.positiveInt(250),
  /** Due deadlines claimed per transaction. */
  SAGA_DEADLINE_BATCH: env.positiveInt(100),
  /** A subscription re-reads its saga this often when no update came (an update lost while RabbitMQ reconnected). */
  SAGA_SUBSCRIPTION_RESYNC_MS: env.positiveInt(5_000),
};

/** The saga orchestrator's configuration. */
export type SagaConfig = ReturnType<typeof loadSagaConfig>;

/**
 * Reads the environment (SAGA_PORT, default 4005; SAGA_DATABASE_URL, else DATABASE_URL +
 * /magasin_saga; RABBITMQ_URL, EVENT_STORE_URL, INTERNAL_SECRET, LOG_LEVEL and the SAGA_* above);
 * throws ConfigError naming every bad variable.
 */
export const loadSagaConfig = (environment: NodeJS.ProcessEnv = process.env) =>
  loadSubgraphConfig(SERVICE, { portEnv: 'SAGA_PORT', port: 4005, extra }, environment);
