/** The store's configuration, read and validated once at start-up. */
import { loadSubgraphConfig, type SubgraphConfig } from '@magasin/subgraph-kit';

/** Service name: queue, projection checkpoint, database `magasin_store`, event-store caller. */
export const SERVICE = 'store';

/** Validated configuration (`STORE_PORT`, default 4001; `STORE_DATABASE_URL`, else `DATABASE_URL` + /magasin_store). */
export type StoreConfig = SubgraphConfig;

/** Reads and validates the environment; throws ConfigError naming every bad variable. */
export const loadStoreConfig = (environment: NodeJS.ProcessEnv = process.env): StoreConfig =>
  loadSubgraphConfig(SERVICE, { portEnv: 'STORE_PORT', port: 4001 }, environment);
