/**
 * The orchestrator's write path: the saga decider behind the kit's command handler (load the
 * saga stream, decide, append with the version read, retry on a concurrent change), metrics of
 * what was appended, and the command of each new return step sent right after it is recorded.
 * A return command lost between the append and the send (a crash) is sent again by the step's
 * deadline (SagaStepRetried); compensations are sent from the log (see reactions.ts). The events
 * of each append also go to `onAppended` (live saga updates, saga-updates.ts).
 */
import type { EventStoreClient, RecordedEvent } from '@magasin/event-store/client';
import { type EventEnvelope, parseEnvelope } from '@magasin/events';
import { type CommandHandler, type CommandResult, createCommandHandler } from '@magasin/subgraph-kit';
import type { Logger } from 'pino';
import {
  createSagaDecider,
  type SagaCommand,
  type SagaPolicy,
  type SagaState,
  sagaStreamId,
} from './domain/saga.ts';
import type { SagaEvent } from './domain/timeline.ts';
import type { SagaMetrics } from './metrics.ts';
import { SAGA_ACTOR, type SagaCommandSender } from './saga-commands.ts';

/** Decides and records what happens to sagas. */
export interface Orchestrator {
  /**
   * Handles a command on the saga `sagaId` of order `orderId`, caused by `causationId` (an event
   * or nothing), as `actor` (default the service). Sends the command of a new return step.
   */
  handle(
    sagaId: string,
    orderId: string,
    command: SagaCommand,
    options?: { causationId?: string | null; actor?: string },
  ): Promise<CommandResult<SagaState>>;
  /** The saga as it was before the event at `version` of its stream. */
  stateBefore(sagaId: string, version: number): Promise<SagaState>;
}

const RETURN_STEP_EVENTS = new Set(['SagaStarted', 'SagaStepCompleted', 'SagaStepRetried']);

/** Saga streams kept in memory: far more than the sagas in flight at once. */
const KEPT_SAGAS = 5_000;

/** Creates the orchestrator. */
export const createOrchestrator = (deps: {
  eventStore: EventStoreClient;
  sender: SagaCommandSender;
  metrics: SagaMetrics;
  policy: SagaPolicy;
  logger: Logger;
  /** Told of the events of each append, in the background (the live updates' fast path). */
  onAppended?: (sagaId: string, events: readonly RecordedEvent[]) => Promise<void>;
}): Orchestrator => {
  const decider = createSagaDecider(deps.policy);
  // Only this service writes saga streams: the sagas in flight are kept in memory, so a step
  // appends without reading its stream first. Bursts (OrderConfirmed, then StockCommitted and
  // SaleRecorded at once) take turns in this process; with several replicas they conflict and
  // retry, hence more attempts than the default.
  const sagas: CommandHandler<SagaCommand, SagaState> = createCommandHandler({
    eventStore: deps.eventStore,
    decider,
    maxAttempts: 20,
    cachedStreams: KEPT_SAGAS,
  });

  const asSagaEvent = (event: EventEnvelope): SagaEvent => {
    const parsed = parseEnvelope(event);
    if (!parsed.ok) throw new Error(`${event.streamId} v${event.version}: ${parsed.reason}`);
    return { type: parsed.event.type, data: parsed.event.data } as SagaEvent;
  };

  return {
    handle: async (sagaId, orderId, command, options = {}) => {
      const result = await sagas.handle(sagaStreamId(sagaId), command, {
        correlationId: orderId,
        causationId: options.causationId ?? null,
        actor: options.actor ?? SAGA_ACTOR,
      });
      deps.metrics.recordAppended(result.events, result.state);
      if (result.events.length > 0) void deps.onAppended?.(sagaId, result.events);
      const ended = result.state.status === 'CANCELLED' || result.state.status === 'TIMED_OUT';
      for (const event of result.events) {
        // What an operator wants to know about: timeouts, compensations, retries, late events.
        if (
          event.type === 'SagaTimedOut' ||
          event.type === 'SagaCompensationRequested' ||
          event.type === 'SagaStepRetried' ||
          (event.type === 'SagaStepCompleted' && ended)
        ) {
          deps.logger.warn(
            { sagaId, orderId, correlationId: orderId, event: event.type, data: event.data },
            `saga ${event.type}`,
          );
        }
      }
      if (
        result.state.status !== 'none' &&
        result.state.kind === 'RETURN' &&
        result.events.some((event) => RETURN_STEP_EVENTS.has(event.type))
      ) {
        await deps.sender.sendReturnStep(result.state);
      }
      return result;
    },
    stateBefore: async (sagaId, version) => {
      const { events } = await deps.eventStore.readStream(sagaStreamId(sagaId));
      return events
        .filter((event) => event.version < version)
        .map(asSagaEvent)
        .reduce(decider.evolve, decider.initialState());
    },
  };
};
