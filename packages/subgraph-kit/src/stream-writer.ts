/**
 * The one writer of a hot stream in this process (inventory's single stream): commands queue
 * up, and each turn decides every queued command against the cached state, one after another,
 * and appends all their events in one append with the version it read. N commands that arrive
 * together cost one event-store round trip for the catch-up read and one for the append, not N
 * of each, and never conflict with each other.
 *
 * A command the decider refuses fails alone (its caller gets the DomainError); the others of
 * its turn go on. A replica appending meanwhile makes the append conflict: the turn reloads and
 * decides again, up to `maxAttempts`, then every command of the turn fails with CONFLICT. Any
 * other append failure (event store down) fails every command of the turn, and nothing of it is
 * stored: the callers retry (a bus message goes back to its queue).
 *
 * The command handler takes turns the same way on every stream (turn.ts holds what both share);
 * this writer differs in building each command at the start of its turn (`handleWhen`) and in
 * catching up with the stream before every turn.
 */
import {
  type EventStoreClient,
  type RecordedEvent,
  WrongExpectedVersionError,
} from '@magasin/event-store/client';
import type { EventType } from '@magasin/events';
import { currentTraceparent } from '@magasin/telemetry';
import { type CommandMetadata, type CommandResult, foldStoredEvents } from './command-handler.ts';
import type { Decider } from './decider.ts';
import { DomainError } from './errors.ts';
import { decideInTurn, drainTurns, eventsOfTurn, settleTurn, stateAfter, type TurnCommand } from './turn.ts';

/** Decides the commands of one stream in turns; see the module comment. */
export interface StreamWriter<Command, State> {
  /** Decides `command` in the next turn and appends what it decided. Throws the decider's DomainError. */
  handle(command: Command, metadata: CommandMetadata): Promise<CommandResult<State>>;
  /**
   * Like `handle`, with the command built at the start of the turn that decides it: what `build`
   * reads (the order stream, say) was written before any command decided after it. `build`
   * returning undefined decides nothing (resolves undefined).
   */
  handleWhen(
    build: () => Promise<Command | undefined>,
    metadata: CommandMetadata,
  ): Promise<CommandResult<State> | undefined>;
  /** Commands decided per turn, for metrics and tests: how many turns ran and how many commands they took. */
  stats(): { turns: number; commands: number };
}

/** Options of {@link openStreamWriter}. */
export interface StreamWriterOptions<Command, State, E extends EventType> {
  eventStore: EventStoreClient;
  decider: Decider<Command, State, E>;
  streamId: string;
  /** Attempts when another writer keeps appending (version conflicts) before CONFLICT; default 10. */
  maxAttempts?: number;
  /** Commands decided in one turn at most; default 200. */
  maxBatch?: number;
}

interface Queued<Command, State> {
  build: () => Promise<Command | undefined>;
  metadata: CommandMetadata;
  traceparent: string | null;
  resolve: (result: CommandResult<State> | undefined) => void;
  reject: (error: unknown) => void;
}

/** The writer of `streamId`; see the module comment. */
export const openStreamWriter = <Command, State, E extends EventType>(
  options: StreamWriterOptions<Command, State, E>,
): StreamWriter<Command, State> => {
  const { eventStore, decider, streamId } = options;
  const maxAttempts = options.maxAttempts ?? 10;
  const maxBatch = options.maxBatch ?? 200;
  let known: { state: State; version: number } | undefined;
  const queue: Queued<Command, State>[] = [];
  let draining = false;
  let turns = 0;
  let decided = 0;

  /** The cached state brought up to date with the events appended since (by anyone). */
  const catchUp = async (): Promise<{ state: State; version: number }> => {
    const slice = await eventStore.readStream(streamId, { fromVersion: (known?.version ?? 0) + 1 });
    known = {
      state: foldStoredEvents(decider, known?.state ?? decider.initialState(), slice.events),
      version: slice.events.at(-1)?.version ?? known?.version ?? 0,
    };
    return known;
  };

  const runTurn = async (batch: Queued<Command, State>[]): Promise<void> => {
    // Build every command first, together: each reads only what it needs.
    const built = await Promise.allSettled(batch.map((item) => item.build()));
    const turn: TurnCommand<Command, State>[] = [];
    built.forEach((outcome, index) => {
      const item = batch[index] as Queued<Command, State>;
      if (outcome.status === 'rejected') item.reject(outcome.reason);
      else if (outcome.value === undefined) item.resolve(undefined);
      else turn.push({ ...item, command: outcome.value });
    });
    if (turn.length === 0) return;
    for (let attempt = 1; ; attempt++) {
      let base: { state: State; version: number };
      try {
        base = await catchUp();
      } catch (error) {
        for (const item of turn) item.reject(error);
        return;
      }
      const decisions = decideInTurn(decider, turn, base.state);
      const events = eventsOfTurn(turn, decisions);
      let appended: RecordedEvent[] = [];
      if (events.length > 0) {
        try {
          appended = (
            await eventStore.append(streamId, base.version === 0 ? 'no_stream' : base.version, events)
          ).events;
        } catch (error) {
          if (error instanceof WrongExpectedVersionError && attempt < maxAttempts) continue;
          const failure =
            error instanceof WrongExpectedVersionError
              ? new DomainError(
                  'CONFLICT',
                  `${streamId} kept changing while this was decided (${attempt} attempts): try again`,
                  { streamId },
                )
              : error;
          for (const item of turn) item.reject(failure);
          return;
        }
        known = { state: stateAfter(decisions, base.state), version: base.version + events.length };
      }
      settleTurn(turn, decisions, base.version, appended);
      decided += turn.length;
      return;
    }
  };

  const drain = async () => {
    try {
      await drainTurns(queue, maxBatch, (batch) => {
        turns++;
        return runTurn(batch);
      });
    } finally {
      draining = false;
    }
  };

  const enqueue = (
    build: () => Promise<Command | undefined>,
    metadata: CommandMetadata,
  ): Promise<CommandResult<State> | undefined> =>
    new Promise((resolve, reject) => {
      queue.push({ build, metadata, traceparent: currentTraceparent() ?? null, resolve, reject });
      if (!draining) {
        // Started after the current task: commands sent together share the first turn too.
        draining = true;
        queueMicrotask(() => void drain());
      }
    });

  return {
    handle: (command, metadata) => enqueue(async () => command, metadata) as Promise<CommandResult<State>>,
    handleWhen: enqueue,
    stats: () => ({ turns, commands: decided }),
  };
};
