/**
 * A turn on one stream: the commands that queued on it, each decided on the state the ones
 * before it leave, their events appended together, each caller answered with its own events (or
 * its own error: a command the decider refuses fails alone). Shared by the command handler (a
 * turn per stream) and the stream writer (one hot stream).
 */
import type { NewEvent, RecordedEvent } from '@magasin/event-store/client';
import { type EventType, newEventId } from '@magasin/events';
import type { CommandMetadata, CommandResult } from './command-handler.ts';
import type { Decider, PendingEvent } from './decider.ts';

/** A command of a turn and its caller. */
export interface TurnCommand<Command, State> {
  command: Command;
  metadata: CommandMetadata;
  /** Of the caller's context, for the events it decides. */
  traceparent: string | null;
  resolve: (result: CommandResult<State>) => void;
  reject: (error: unknown) => void;
}

/** What one command of a turn decided: events and the state after them, or an error. */
export type Decision<State, E extends EventType> =
  | { events: PendingEvent<E>[]; state: State }
  | { error: unknown };

/** Each command of `turn` decided on the state the ones before it leave, from `state`. */
export const decideInTurn = <Command, State, E extends EventType>(
  decider: Decider<Command, State, E>,
  turn: readonly Pick<TurnCommand<Command, State>, 'command'>[],
  state: State,
): Decision<State, E>[] => {
  let folded = state;
  return turn.map(({ command }) => {
    try {
      const events = decider.decide(command, folded);
      folded = events.reduce(decider.evolve, folded);
      return { events, state: folded };
    } catch (error) {
      return { error };
    }
  });
};

/** The state after the decisions of a turn that started from `state`. */
export const stateAfter = <State, E extends EventType>(
  decisions: readonly Decision<State, E>[],
  state: State,
): State => decisions.reduce((folded, decision) => ('state' in decision ? decision.state : folded), state);

/** The events of a turn to append, in order, each with its command's metadata. */
export const eventsOfTurn = <Command, State, E extends EventType>(
  turn: readonly TurnCommand<Command, State>[],
  decisions: readonly Decision<State, E>[],
): NewEvent[] =>
  decisions.flatMap((decision, index) => {
    if (!('events' in decision)) return [];
    const { metadata, traceparent } = turn[index] as TurnCommand<Command, State>;
    return decision.events.map((event) => ({
      eventId: newEventId(),
      type: event.type,
      data: event.data,
      correlationId: metadata.correlationId,
      causationId: metadata.causationId ?? null,
      actor: metadata.actor,
      traceparent,
    }));
  });

/**
 * Answers each command of `turn`: its error, or its own events of `recorded` (the turn's append,
 * which followed `version`) and the state and version they leave.
 */
export const settleTurn = <Command, State, E extends EventType>(
  turn: readonly TurnCommand<Command, State>[],
  decisions: readonly Decision<State, E>[],
  version: number,
  recorded: readonly RecordedEvent[],
): void => {
  let offset = 0;
  decisions.forEach((decision, index) => {
    const { resolve, reject } = turn[index] as TurnCommand<Command, State>;
    if ('error' in decision) {
      reject(decision.error);
      return;
    }
    const events = recorded.slice(offset, offset + decision.events.length);
    offset += decision.events.length;
    resolve({ state: decision.state, version: version + offset, events });
  });
};

/**
 * Runs the turns of one queue until it is empty: each takes up to `maxBatch` of the commands
 * queued (those that queue while a turn runs go in the next one). Every command of a turn whose
 * `run` throws gets that error (those `run` settled already ignore it).
 */
export const drainTurns = async <Queued extends { reject: (error: unknown) => void }>(
  queue: Queued[],
  maxBatch: number,
  run: (turn: Queued[]) => Promise<void>,
): Promise<void> => {
  while (queue.length > 0) {
    const turn = queue.splice(0, maxBatch);
    await run(turn).catch((error: unknown) => {
      for (const queued of turn) queued.reject(error);
    });
  }
};
