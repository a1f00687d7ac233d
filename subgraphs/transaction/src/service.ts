/**
 * Starts the transaction subgraph from a configuration: the ledger read model following the
 * log, the reactions on the bus, and the salesReport subgraph. `main.ts` calls it; tests call
 * it with port 0.
 */
import { readFileSync } from 'node:fs';
import { type RunningSubgraph, runSubgraph, type SubgraphConfig } from '@magasin/subgraph-kit';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { SERVICE } from './config.ts';
import { resolvers } from './graphql/resolvers.ts';
import { type LedgerPrisma, projection } from './projections/index.ts';
import { reactions } from './reactions.ts';

/** The subgraph's SDL. */
export const typeDefs = readFileSync(new URL('./graphql/schema.graphql', import.meta.url), 'utf8');

/** Starts the service; see the module comment. */
export const runTransaction = (options: {
  config: SubgraphConfig;
  logger: Logger;
  registry: Registry;
  /** Default true: SIGINT/SIGTERM stop the service and exit. */
  handleSignals?: boolean;
}): Promise<RunningSubgraph<LedgerPrisma>> =>
  runSubgraph({
    name: SERVICE,
    ...options,
    projection,
    typeDefs,
    resolvers,
    consume: reactions,
    // Sales and refunds are idempotent by the ledger's state (a redelivered message decides
    // nothing) and write nothing to this database: no handler holds a connection while it waits
    // on the event store.
    inbox: 'record-after',
  });
