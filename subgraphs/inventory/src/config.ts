/** The inventory subgraph's configuration, read and validated once at start-up. */
import { loadSubgraphConfig, type SubgraphConfig } from '@magasin/subgraph-kit';

/** Service name: queue, projection checkpoint, database `magasin_inventory`. */
export const SERVICE = 'inventory';

/** The inventory subgraph's configuration: the kit's common settings, nothing of its own. */
export type InventoryConfig = SubgraphConfig;

/** Reads the environment (INVENTORY_PORT, default 4002); throws ConfigError naming every bad variable. */
export const loadInventoryConfig = (environment: NodeJS.ProcessEnv = process.env): InventoryConfig =>
  loadSubgraphConfig(SERVICE, { portEnv: 'INVENTORY_PORT', port: 4002 }, environment);
