/**
 * Starts the saga orchestrator from a configuration: the saga read model following the log
 * (publishing each change on the saga-updates fanout), the reactions on the bus, the deadline
 * timer, and the subgraph with its subscriptions over graphql-ws. `main.ts` calls it; tests call
 * it with port 0.
 */
import { readFileSync } from 'node:fs';
import { type RunningSubgraph, runSubgraph, type SubgraphDeps } from '@magasin/subgraph-kit';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type SagaConfig, SERVICE } from './config.ts';
import { type DeadlineTimer, startDeadlineTimer } from './deadlines.ts';
import { createResolvers, sagaContext } from './graphql/resolvers.ts';
import { sagaMetrics } from './metrics.ts';
import { createOrchestrator, type Orchestrator } from './orchestrator.ts';
import { projection, type SagaPrisma } from './projections/index.ts';
import { sagaReactions } from './reactions.ts';
import { createSagaCommandSender } from './saga-commands.ts';
import { publishSagaUpdates, SagaUpdateHub, SagaUpdatePublisher } from './saga-updates.ts';

/** The subgraph's SDL. */
export const typeDefs = readFileSync(new URL('./graphql/schema.graphql', import.meta.url), 'utf8');

/** Options of {@link runSaga}. */
export interface RunSagaOptions {
  config: SagaConfig;
  logger: Logger;
  registry: Registry;
  /** Default true: SIGINT/SIGTERM stop the service and exit. */
  handleSignals?: boolean;
}

/** The running orchestrator. */
export interface RunningSaga extends RunningSubgraph<SagaPrisma> {
  orchestrator: Orchestrator;
}

/** Starts the saga orchestrator. */
export const runSaga = async (options: RunSagaOptions): Promise<RunningSaga> => {
  const { config, logger } = options;
  const policy = {
    stepTimeoutMs: config.SAGA_STEP_TIMEOUT_MS,
    returnStepAttempts: config.SAGA_RETURN_STEP_ATTEMPTS,
  };
  // Built from the kit's deps on first use (resolvers and reactions get them at start-up).
  let parts:
    | {
        orchestrator: Orchestrator;
        hub: SagaUpdateHub;
        sender: ReturnType<typeof createSagaCommandSender>;
        publisher: SagaUpdatePublisher;
      }
    | undefined;
  const partsOf = (deps: SubgraphDeps<SagaPrisma>) => {
    if (!parts) {
      const sender = createSagaCommandSender({ eventStore: deps.eventStore, messaging: deps.messaging });
      const publisher = new SagaUpdatePublisher({
        eventStore: deps.eventStore,
        messaging: deps.messaging,
        logger,
        registry: deps.registry,
      });
      parts = {
        sender,
        publisher,
        hub: new SagaUpdateHub({ messaging: deps.messaging, logger }),
        orchestrator: createOrchestrator({
          eventStore: deps.eventStore,
          sender,
          metrics: sagaMetrics(deps.registry, deps.prisma),
          policy,
          logger,
          onAppended: (sagaId, events) => publisher.publish(sagaId, events),
        }),
      };
    }
    return parts;
  };
  let timer: DeadlineTimer | undefined;
  const running = await runSubgraph({
    name: SERVICE,
    config,
    logger,
    registry: options.registry,
    handleSignals: options.handleSignals ?? true,
    projection,
    typeDefs,
    resolvers: (deps) =>
      createResolvers({
        prisma: deps.prisma,
        eventStore: deps.eventStore,
        orchestrator: partsOf(deps).orchestrator,
        hub: partsOf(deps).hub,
        resyncMs: config.SAGA_SUBSCRIPTION_RESYNC_MS,
        logger,
      }),
    context: (deps) => sagaContext(deps.prisma, deps.eventStore),
    consume: (deps) => sagaReactions(partsOf(deps)),
    // The orchestrator's effects are appends to the event store and commands, idempotent on
    // their own: no handler holds a database connection while it waits on them.
    inbox: 'record-after',
    subscriptions: true,
    onProjected: (events, deps) =>
      publishSagaUpdates(events, { ...deps, published: partsOf(deps).publisher }),
    onShutdown: async () => {
      await timer?.stop();
      await parts?.hub.close();
    },
  });
  const { orchestrator, hub } = partsOf(running.deps);
  // Updates are remembered from start-up, for subscribers that come after them. If RabbitMQ
  // refuses now, the first subscriber tries again.
  await hub.start().catch((error: unknown) => {
    logger.warn({ err: error }, 'not listening to saga updates yet; the first subscriber will try again');
  });
  timer = startDeadlineTimer({
    prisma: running.deps.prisma,
    orchestrator,
    logger,
    pollMs: config.SAGA_DEADLINE_POLL_MS,
    batch: config.SAGA_DEADLINE_BATCH,
  });
  return { ...running, orchestrator };
};
