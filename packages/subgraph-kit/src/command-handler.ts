/**
 * Load, decide, append: the write path of every service. A stream is loaded from the event
 * store (or taken from the in-memory cache of recently used streams), the decider runs, and its
 * events are appended with the version that was read; a concurrent change (another process)
 * reloads and decides again. Commands on one stream in one process take turns, and those that
 * queue meanwhile are appended together.
 */
import {
  type EventStoreClient,
  type RecordedEvent,
  WrongExpectedVersionError,
} from '@magasin/event-store/client';
import { type EventEnvelope, type EventType, parseEnvelope } from '@magasin/events';
import { currentTraceparent } from '@magasin/telemetry';
import { LRUCache } from 'lru-cache';
import type { Decider, PendingEvent } from './decider.ts';
import { DomainError } from './errors.ts';
import { decideInTurn, drainTurns, eventsOfTurn, settleTurn, stateAfter, type TurnCommand } from './turn.ts';

/** Who asked for a command and why: copied onto every event it produces. */
export interface CommandMetadata {
  /** The order (or other business flow) the command belongs to. */
  correlationId: string;
  /** Id of the event or command that caused this one; null for a user's mutation. */
  causationId?: string | null;
  /** `identity.sub` for a mutation, `service:<name>` for a reaction. */
  actor: string;
}

/** What a handled command did. */
export interface CommandResult<State> {
  /** The stream's state after the appended events: what a mutation answers with. */
  state: State;
  /** The stream's version after the append (unchanged when nothing was decided). */
  version: number;
  /** The events appended, with positions; empty when the decider decided nothing. */
  events: RecordedEvent[];
}

/** Handles commands for the streams of one decider. */
export interface CommandHandler<Command, State> {
  handle(streamId: string, command: Command, metadata: CommandMetadata): Promise<CommandResult<State>>;
  /** The current state and version of a stream, read from the store. */
  load(streamId: string): Promise<{ state: State; version: number }>;
}

/** Options of {@link createCommandHandler}. */
export interface CommandHandlerOptions<Command, State, E extends EventType> {
  eventStore: EventStoreClient;
  decider: Decider<Command, State, E>;
  /**
   * How many streams to keep in memory, the most recently used (default 0: none). A command on a
   * kept stream is decided on its kept state and appended at its kept version without reading
   * the stream first; a stream not kept is taken for a new one (initial state, no stream). Safe
   * with other writers and replicas: if the stream moved meanwhile (or exists), the append fails
   * with a version conflict and the command is decided again on the stream as read (only its
   * newer events are read). A decision of nothing, or a domain error, on kept state is checked
   * on the stream as read before it is answered. Meant for streams this service writes mostly
   * alone (a saga's, an order's), where it saves a read of the stream per command.
   */
  cachedStreams?: number;
  /** Attempts before a persistent version conflict becomes a CONFLICT error; default 5. */
  maxAttempts?: number;
  /** Commands queued on one stream decided and appended together, at most; default 50. */
  maxBatch?: number;
}

/** The data of a stored event at the current schema version (old versions upcast). */
const current = (event: EventEnvelope): EventEnvelope => {
  const parsed = parseEnvelope(event);
  if (!parsed.ok) throw new Error(`stream ${event.streamId} v${event.version}: ${parsed.reason}`);
  return parsed.event;
};

/** `state` evolved by stored events (their data upcast to the current schema version). */
export const foldStoredEvents = <Command, State, E extends EventType>(
  decider: Decider<Command, State, E>,
  state: State,
  events: readonly EventEnvelope[],
): State =>
  events.reduce(
    (folded, event) =>
      decider.evolve(folded, { type: event.type, data: current(event).data } as PendingEvent<E>),
    state,
  );

/** Creates the command handler of a decider; see the module comment. */
export const createCommandHandler = <Command, State, E extends EventType>(
  options: CommandHandlerOptions<Command, State, E>,
): CommandHandler<Command, State> => {
  const { eventStore, decider } = options;
  const cache =
    (options.cachedStreams ?? 0) > 0
      ? new LRUCache<string, { state: State; version: number }>({ max: options.cachedStreams as number })
      : undefined;
  const maxBatch = options.maxBatch ?? 50;
  const apply = (state: State, events: readonly EventEnvelope[]): State =>
    foldStoredEvents(decider, state, events);

  const load = async (streamId: string): Promise<{ state: State; version: number }> => {
    const known = cache?.get(streamId);
    const slice = await eventStore.readStream(streamId, { fromVersion: (known?.version ?? 0) + 1 });
    const loaded = {
      state: apply(known?.state ?? decider.initialState(), slice.events),
      version: slice.events.at(-1)?.version ?? known?.version ?? 0,
    };
    cache?.set(streamId, loaded);
    return loaded;
  };

  /**
   * Runs a turn on `streamId` (see turn.ts) and settles each of its commands. Throws (for the
   * whole turn) what no command caused: the store unreachable, conflicts past `maxAttempts`.
   */
  const runTurn = async (streamId: string, turn: readonly TurnCommand<Command, State>[]): Promise<void> => {
    const maxAttempts = options.maxAttempts ?? 5;
    // The kept state is trusted once, for decisions the append will check. A stream not kept
    // is taken for a new one (most are: an order placed, a saga started), which the append
    // checks too (expected: no stream).
    let kept = cache ? (cache.get(streamId) ?? { state: decider.initialState(), version: 0 }) : undefined;
    for (let attempt = 1; ; ) {
      const { state, version } = kept ?? (await load(streamId));
      const fromKept = kept !== undefined;
      kept = undefined;
      const decisions = decideInTurn(decider, turn, state);
      // An error or nothing decided on kept state, perhaps only because it is behind: decide
      // on the stream as read.
      if (fromKept && decisions.some((decision) => !('events' in decision) || decision.events.length === 0)) {
        continue;
      }
      const events = eventsOfTurn(turn, decisions);
      if (events.length === 0) {
        settleTurn(turn, decisions, version, []);
        return;
      }
      try {
        const result = await eventStore.append(streamId, version === 0 ? 'no_stream' : version, events);
        cache?.set(streamId, { state: stateAfter(decisions, state), version: result.version });
        settleTurn(turn, decisions, version, result.events);
        return;
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        if (attempt >= maxAttempts) {
          throw new DomainError(
            'CONFLICT',
            `${streamId} kept changing while this was decided (${attempt} attempts): try again`,
            { streamId },
          );
        }
        attempt++;
      }
    }
  };

  // Commands on the same stream in this process take turns: each decides on what the ones before
  // appended instead of conflicting with them (and reading the stream again). Those that queue
  // while a turn appends are decided together and appended at once in the next turn (the append
  // runs in the async context of the first of them; each event keeps its command's metadata).
  const queues = new Map<string, TurnCommand<Command, State>[]>();
  const drain = async (streamId: string, queue: TurnCommand<Command, State>[]) => {
    await drainTurns(queue, maxBatch, (turn) => runTurn(streamId, turn));
    queues.delete(streamId);
  };
  const handle = (
    streamId: string,
    command: Command,
    metadata: CommandMetadata,
  ): Promise<CommandResult<State>> =>
    new Promise((resolve, reject) => {
      const queued = { command, metadata, traceparent: currentTraceparent() ?? null, resolve, reject };
      const queue = queues.get(streamId);
      if (queue) {
        queue.push(queued);
        return;
      }
      const started = [queued];
      queues.set(streamId, started);
      void drain(streamId, started); // settles every queued command itself
    });

  return { handle, load };
};
