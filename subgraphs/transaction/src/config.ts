/** The transaction service's configuration, read once at start-up. */
import { loadSubgraphConfig, type SubgraphConfig } from '@magasin/subgraph-kit';

/** Service name: queue, projection checkpoint, database `magasin_transaction`, event-store caller. */
export const SERVICE = 'transaction';

/**
 * Reads and validates the environment (`TRANSACTION_PORT`, default 4004; `TRANSACTION_DATABASE_URL`,
 * else `DATABASE_URL` + /magasin_transaction; RABBITMQ_URL, EVENT_STORE_URL, INTERNAL_SECRET,
 * LOG_LEVEL); throws ConfigError naming every bad variable.
 */
export const loadTransactionConfig = (environment: NodeJS.ProcessEnv = process.env): SubgraphConfig =>
  loadSubgraphConfig(SERVICE, { portEnv: 'TRANSACTION_PORT', port: 4004 }, environment);
