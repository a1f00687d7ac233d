/**
 * Starts the inventory subgraph from a configuration (the kit's runSubgraph with inventory's
 * parts). `main.ts` calls it; tests call it with port 0.
 */
import { readFileSync } from 'node:fs';
import { type RunningSubgraph, runSubgraph, type SubgraphDeps } from '@magasin/subgraph-kit';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type InventoryConfig, SERVICE } from './config.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import { productBatchSizes } from './graphql/product-loader.ts';
import { inventoryRequest, inventoryResolvers } from './graphql/resolvers.ts';
import { type InventoryStream, openInventoryStream } from './inventory-stream.ts';
import { projection } from './projections/products.ts';
import { inventoryReactions } from './reactions.ts';

/** The subgraph's SDL. */
export const typeDefs = readFileSync(new URL('./graphql/schema.graphql', import.meta.url), 'utf8');

/** Options of {@link runInventory}. */
export interface RunInventoryOptions {
  config: InventoryConfig;
  logger: Logger;
  registry: Registry;
  /** Default true: SIGINT/SIGTERM stop the service and exit. */
  handleSignals?: boolean;
}

/** Starts the inventory subgraph. */
export const runInventory = (options: RunInventoryOptions): Promise<RunningSubgraph<PrismaClient>> => {
  const batchSizes = productBatchSizes(options.registry);
  // One writer of the inventory stream, shared by the mutations and the bus reactions.
  let stream: InventoryStream | undefined;
  const inventoryOf = (deps: SubgraphDeps<PrismaClient>) => {
    stream ??= openInventoryStream(deps.eventStore);
    return stream;
  };
  return runSubgraph({
    name: SERVICE,
    config: options.config,
    logger: options.logger,
    registry: options.registry,
    handleSignals: options.handleSignals ?? true,
    projection,
    typeDefs,
    resolvers: (deps) => inventoryResolvers({ prisma: deps.prisma, inventory: inventoryOf(deps) }),
    context: (deps) => inventoryRequest(deps.prisma, batchSizes),
    consume: (deps) => inventoryReactions({ inventory: inventoryOf(deps), eventStore: deps.eventStore }),
    // Every reaction appends to the event store through the decider, which decides nothing for
    // a message it has seen: no handler holds a database connection while it waits its turn.
    inbox: 'record-after',
  });
};
