/**
 * What a saga looks like to its readers: a status and a timeline with one step per event of its
 * stream. Pure functions of the saga events, shared by the decider (status) and the projection
 * (status and steps), so that the state the orchestrator decides on and the one users see agree.
 */
import type { EventDataOf } from '@magasin/events';
import type { PendingEvent } from '@magasin/subgraph-kit';

/** ORDER (id = orderId) or RETURN (id = returnId). */
export type SagaKind = EventDataOf<'SagaStarted'>['kind'];

/** The GraphQL `SagaStatus`. */
export type SagaStatus = 'RUNNING' | 'COMPENSATING' | 'COMPLETED' | 'CANCELLED' | 'TIMED_OUT';

/** Statuses a saga never leaves. */
export const TERMINAL_STATUSES: ReadonlySet<SagaStatus> = new Set(['COMPLETED', 'CANCELLED', 'TIMED_OUT']);

/** Whether a saga in `status` has ended. */
export const isTerminal = (status: SagaStatus): boolean => TERMINAL_STATUSES.has(status);

/** The events of a saga stream. */
export type SagaEventType =
  | 'SagaStarted'
  | 'SagaStepCompleted'
  | 'SagaStepRetried'
  | 'SagaTimedOut'
  | 'SagaCompensationRequested'
  | 'SagaCompleted';
/** One event of a saga stream. */
export type SagaEvent = PendingEvent<SagaEventType>;

/** Events of the order saga that mean it will not complete: compensation starts. */
export const ORDER_FAILURES: ReadonlySet<string> = new Set([
  'StockReservationRejected',
  'PaymentDeclined',
  'OrderCancelled',
]);

/** Events of the order saga that undo an earlier step. */
const ORDER_COMPENSATIONS: ReadonlySet<string> = new Set([
  'StockReleased',
  'PaymentRefunded',
  'OrderCancelled',
]);

/** The saga's status once `event` is applied to a saga in `previous` (null before it started). */
export const statusAfter = (previous: SagaStatus | null, kind: SagaKind, event: SagaEvent): SagaStatus => {
  switch (event.type) {
    case 'SagaStarted':
      return previous ?? 'RUNNING';
    case 'SagaCompleted':
      return event.data.status;
    default: {
      const current = previous ?? 'RUNNING';
      if (isTerminal(current)) return current;
      if (event.type === 'SagaCompensationRequested') return 'COMPENSATING';
      if (event.type === 'SagaStepCompleted' && kind === 'ORDER' && ORDER_FAILURES.has(event.data.step)) {
        return 'COMPENSATING';
      }
      return current;
    }
  }
};

/** One entry of a saga's timeline, without its time (the event's occurredAt). */
export interface StepEntry {
  /** The observed domain event (`StockReserved`, ...), else the saga event (`SagaTimedOut`, ...). */
  name: string;
  /**
   * DONE, FAILED (a failure that starts compensation), COMPENSATED (an earlier step undone),
   * LATE (observed after the saga ended), RETRIED, TIMED_OUT, REQUESTED (compensating commands
   * sent), and for SagaCompleted the final status.
   */
  status: string;
  detail: string | null;
}

/** The timeline entry of `event`, applied to a saga in `previous` (null before it started). */
export const stepEntryOf = (previous: SagaStatus | null, kind: SagaKind, event: SagaEvent): StepEntry => {
  switch (event.type) {
    case 'SagaStarted':
      return {
        name: kind === 'ORDER' ? 'OrderPlaced' : 'ReturnRequested',
        status: 'DONE',
        detail: event.data.detail ?? null,
      };
    case 'SagaStepCompleted': {
      const { step } = event.data;
      const status =
        previous !== null && isTerminal(previous)
          ? 'LATE'
          : kind === 'ORDER' && ORDER_COMPENSATIONS.has(step) && previous === 'COMPENSATING'
            ? 'COMPENSATED'
            : kind === 'ORDER' && ORDER_FAILURES.has(step)
              ? 'FAILED'
              : 'DONE';
      return { name: step, status, detail: event.data.detail ?? null };
    }
    case 'SagaStepRetried':
      return {
        name: event.data.step,
        status: 'RETRIED',
        detail: `no answer by the deadline: command sent again (attempt ${event.data.attempt})`,
      };
    case 'SagaTimedOut':
      return {
        name: 'SagaTimedOut',
        status: 'TIMED_OUT',
        detail: `no ${event.data.step} by ${event.data.deadlineAt}`,
      };
    case 'SagaCompensationRequested':
      return {
        name: 'SagaCompensationRequested',
        status: 'REQUESTED',
        detail: event.data.detail ?? event.data.reason,
      };
    case 'SagaCompleted':
      return { name: 'SagaCompleted', status: event.data.status, detail: null };
    default: {
      const unknown: never = event;
      throw new Error(`unknown saga event ${JSON.stringify(unknown)}`);
    }
  }
};

/** A step of a saga as the API shows it. */
export interface SagaStepView extends StepEntry {
  /** ISO time the step was recorded. */
  at: string;
  /** The saga's status once the step was recorded. */
  sagaStatus: SagaStatus;
}

/** A saga as the API shows it (and as saga updates carry it). */
export interface SagaView {
  id: string;
  kind: SagaKind;
  orderId: string;
  status: SagaStatus;
  /** Version of the saga stream: the number of steps. */
  version: number;
  startedAt: string;
  endedAt: string | null;
  steps: SagaStepView[];
}

/** The saga as it was once its first `version` steps were recorded. */
export const viewAt = (view: SagaView, version: number): SagaView => {
  if (version >= view.version) return view;
  const steps = view.steps.slice(0, version);
  const last = steps.at(-1);
  if (!last) throw new Error(`saga ${view.id} has no step ${version}`);
  return {
    ...view,
    version,
    steps,
    status: last.sagaStatus,
    endedAt: steps.find((step) => step.name === 'SagaCompleted')?.at ?? null,
  };
};
