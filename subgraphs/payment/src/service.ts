/**
 * Starts the payment subgraph from a configuration (the kit's runSubgraph with payment's
 * parts). `main.ts` calls it; tests call it with port 0.
 */
import { readFileSync } from 'node:fs';
import { type RunningSubgraph, runSubgraph } from '@magasin/subgraph-kit';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type CardProcessor, simulatedCardProcessor } from './card-processor.ts';
import { type PaymentConfig, SERVICE } from './config.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import { paymentContext, resolvers } from './graphql/resolvers.ts';
import { createPrisma, projection } from './projections/index.ts';
import { paymentReactions } from './reactions.ts';

/** The subgraph's SDL. */
export const typeDefs = readFileSync(new URL('./graphql/schema.graphql', import.meta.url), 'utf8');

/** Options of {@link runPayment}. */
export interface RunPaymentOptions {
  config: PaymentConfig;
  logger: Logger;
  registry: Registry;
  /** Default true: SIGINT/SIGTERM stop the service and exit. */
  handleSignals?: boolean;
  /** Default: the simulated processor with PAYMENT_PROCESSOR_LATENCY_MS. */
  processor?: CardProcessor;
  /** Told every SQL statement of the service's Prisma client (tests count queries); default none. */
  onQuery?: (sql: string) => void;
}

/** Starts the payment subgraph. */
export const runPayment = (options: RunPaymentOptions): Promise<RunningSubgraph<PrismaClient>> => {
  const { config } = options;
  const processor =
    options.processor ?? simulatedCardProcessor({ latencyMs: config.PAYMENT_PROCESSOR_LATENCY_MS });
  return runSubgraph({
    name: SERVICE,
    config,
    logger: options.logger,
    registry: options.registry,
    handleSignals: options.handleSignals ?? true,
    projection: options.onQuery
      ? { ...projection, createPrisma: (url) => createPrisma(url, { onQuery: options.onQuery }) }
      : projection,
    typeDefs,
    resolvers,
    context: (deps) => paymentContext(deps.prisma),
    consume: (deps) =>
      paymentReactions({
        eventStore: deps.eventStore,
        processor,
        processorTimeoutMs: config.PAYMENT_PROCESSOR_TIMEOUT_MS,
      }),
    // Charges and refunds are idempotent on their own (decider, expected version, processor
    // idempotency keys) and write nothing to this database: no handler holds a connection while
    // the card processor answers (or does not, until PAYMENT_PROCESSOR_TIMEOUT_MS).
    inbox: 'record-after',
  });
};
