/**
 * Starts the store subgraph from a configuration: orders (placeOrder, cancelOrder, order,
 * orders), the order saga's reactions on the bus, and the read model following the log.
 * `main.ts` calls it; tests call it with port 0.
 */
import { readFileSync } from 'node:fs';
import { type RunningSubgraph, runSubgraph } from '@magasin/subgraph-kit';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { SERVICE, type StoreConfig } from './config.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import { createLoaders, orderReadMetrics } from './graphql/loaders.ts';
import { createResolvers } from './graphql/resolvers.ts';
import { projection } from './projections/index.ts';
import { createReactions } from './reactions.ts';

/** The store's federation SDL. */
export const typeDefs = readFileSync(new URL('./graphql/schema.graphql', import.meta.url), 'utf8');

export { projection } from './projections/index.ts';

/** Starts the store; see the module comment. */
export const runStore = async (options: {
  config: StoreConfig;
  logger: Logger;
  registry: Registry;
  /** Default true: SIGINT/SIGTERM stop the service and exit. */
  handleSignals?: boolean;
}): Promise<RunningSubgraph<PrismaClient>> => {
  const metrics = orderReadMetrics(options.registry);
  return runSubgraph({
    name: SERVICE,
    config: options.config,
    logger: options.logger,
    registry: options.registry,
    ...(options.handleSignals === undefined ? {} : { handleSignals: options.handleSignals }),
    projection,
    typeDefs,
    resolvers: createResolvers,
    context: (deps) => createLoaders(deps.prisma, metrics),
    consume: createReactions,
    // Confirming and cancelling orders is idempotent by the order's state (a redelivered message
    // decides nothing) and writes nothing to this database: no handler holds a connection while
    // it waits on the event store.
    inbox: 'record-after',
  });
};
