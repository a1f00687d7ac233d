/**
 * The shape of a stream's behaviour (Emmett's decider): pure `decide` and `evolve`, no I/O,
 * and the given/when/then helper its tests read as.
 */
import type { EventDataOf, EventType } from '@magasin/events';

/** An event a decider decided, before the store gives it an envelope. */
export type PendingEvent<T extends EventType = EventType> = {
  [K in T]: { readonly type: K; readonly data: EventDataOf<K> };
}[T];

/** A stream's behaviour: what a command decides given the state, and how events change it. */
export interface Decider<Command, State, E extends EventType> {
  /** The events a command produces; throws a DomainError when a rule is broken. */
  decide(command: Command, state: State): PendingEvent<E>[];
  evolve(state: State, event: PendingEvent<E>): State;
  initialState(): State;
}

/** The state after `events`, from the initial state. */
export const fold = <Command, State, E extends EventType>(
  decider: Decider<Command, State, E>,
  events: readonly PendingEvent<E>[],
): State => events.reduce(decider.evolve, decider.initialState());

/**
 * Given/when/then for decider tests: `given(decider, past).when(command)` returns the decided
 * events (or throws the DomainError), `.state()` the state after the past events.
 */
export const given = <Command, State, E extends EventType>(
  decider: Decider<Command, State, E>,
  past: readonly PendingEvent<E>[] = [],
) => ({
  when: (command: Command): PendingEvent<E>[] => decider.decide(command, fold(decider, past)),
  state: (): State => fold(decider, past),
});
