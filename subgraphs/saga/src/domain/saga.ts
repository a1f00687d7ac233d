/**
 * The saga decider: one stream `saga-<sagaId>` per saga. The order saga (id = orderId) is
 * choreographed by the domain services; the orchestrator observes their events, records each as
 * a step, and decides what nobody else can: a deadline passed (time out and compensate) and an
 * event that came after the saga gave up (compensate it too). The return saga (id = returnId) is
 * orchestrated: each step is a command the orchestrator sends, with a deadline and retries.
 *
 * Observation order is not event order (the bus redelivers and runs handlers concurrently), so
 * progress is a function of the SET of events seen, never of their sequence. Pure: the clock
 * comes in the commands (`now`), command ids are derived (uuid v5), nothing is read or written.
 */
import type { CommandType, EventDataOf } from '@magasin/events';
import type { Decider } from '@magasin/subgraph-kit';
import { v5 as uuidv5 } from 'uuid';
import {
  isTerminal,
  ORDER_FAILURES,
  type SagaEvent,
  type SagaEventType,
  type SagaKind,
  type SagaStatus,
  statusAfter,
} from './timeline.ts';

/** Domain events of the order saga, in the order of the choreography. */
export const ORDER_SAGA_EVENTS = [
  'OrderPlaced',
  'StockReserved',
  'StockReservationRejected',
  'PaymentCaptured',
  'PaymentDeclined',
  'OrderConfirmed',
  'OrderCancelled',
  'StockCommitted',
  'StockReleased',
  'SaleRecorded',
  'PaymentRefunded',
] as const;
/** A domain event the order saga observes. */
export type OrderSagaEventType = (typeof ORDER_SAGA_EVENTS)[number];

/** The steps of the return saga, in order: each is the event answering one command. */
export const RETURN_STEPS = ['PaymentRefunded', 'StockReturned', 'RefundRecorded', 'OrderReturned'] as const;
/** A step of the return saga. */
export type ReturnStep = (typeof RETURN_STEPS)[number];

/** The command that asks for each step of the return saga. */
export const RETURN_STEP_COMMANDS = {
  PaymentRefunded: 'RefundPayment',
  StockReturned: 'RestockItems',
  RefundRecorded: 'RecordRefund',
  OrderReturned: 'MarkOrderReturned',
} as const satisfies Record<ReturnStep, CommandType>;

/** A domain event as the saga observes it. */
export type Observed<T extends OrderSagaEventType | ReturnStep = OrderSagaEventType | ReturnStep> = {
  [K in T]: { readonly type: K; readonly eventId: string; readonly data: EventDataOf<K> };
}[T];

/** What a saga stream can be told. */
export type SagaCommand =
  | {
      /** A domain event of the saga was seen on the bus (starts an order saga if needed). */
      readonly type: 'Observe';
      readonly kind: SagaKind;
      readonly event: Observed;
      readonly now: string;
    }
  | {
      /** Starts the return saga of a ReturnRequested. */
      readonly type: 'StartReturn';
      readonly data: {
        readonly returnId: string;
        readonly orderId: string;
        readonly refundCents: number;
        readonly items: number;
      };
      readonly now: string;
    }
  | {
      /** The deadline of `step` (as the deadline table holds it) has passed. */
      readonly type: 'Expire';
      readonly step: string;
      readonly deadlineAt: string;
      readonly now: string;
    };

/** A started saga. */
export interface ActiveSaga {
  readonly status: SagaStatus;
  readonly sagaId: string;
  readonly kind: SagaKind;
  readonly orderId: string;
  /** When it started, if its SagaStarted says (for the duration metric). */
  readonly startedAt: string | null;
  /** Domain events observed (their types). */
  readonly seen: readonly string[];
  /** What it waits for (`A + B` when several), null when nothing has a deadline. */
  readonly awaiting: string | null;
  readonly deadlineAt: string | null;
  /** Attempt of the awaited step (return saga), from 1. */
  readonly attempt: number;
  /** SagaCompensationRequested so far (numbers the compensating commands). */
  readonly compensations: number;
}

/** What a saga stream can be. */
export type SagaState = { readonly status: 'none' } | ActiveSaga;

/** Why compensating commands were sent. */
export type CompensationReason = 'SAGA_TIMED_OUT' | 'LATE_PAYMENT_CAPTURED' | 'LATE_STOCK_RESERVED';
/** A compensating command of the order saga. */
export type Compensation = 'CancelOrder' | 'ReleaseStock' | 'RefundPayment';

/** How long a step may take and how often a return step is tried. */
export interface SagaPolicy {
  /** SAGA_STEP_TIMEOUT_MS. */
  stepTimeoutMs: number;
  /** Attempts of each return step (first send + retries) before the saga times out. */
  returnStepAttempts: number;
}

/** The stream of a saga. */
export const sagaStreamId = (sagaId: string): string => `saga-${sagaId}`;

/** Namespace of the orchestrator's derived command ids. */
const COMMAND_ID_NAMESPACE = '9c1f3e2a-5b7d-4e6f-8a9b-0c1d2e3f4a5b';

/** Id of the `index`-th compensation's `command`: the same whoever derives it, however often. */
export const compensationCommandId = (sagaId: string, index: number, command: Compensation): string =>
  uuidv5(`${sagaId}/compensation/${index}/${command}`, COMMAND_ID_NAMESPACE);

/** Id of the command of a return step at an attempt. */
export const returnStepCommandId = (sagaId: string, step: ReturnStep, attempt: number): string =>
  uuidv5(`${sagaId}/${step}/${attempt}`, COMMAND_ID_NAMESPACE);

/** Where an order saga stands given the events seen. */
export interface OrderProgress {
  phase: 'RUNNING' | 'COMPENSATING' | 'COMPLETED' | 'CANCELLED';
  /** What it waits for: events known to have happened but not seen yet come first. */
  awaiting: string[];
  /** Whether the awaited events are on a deadline (not once the order is confirmed). */
  deadline: boolean;
}

/** What an event of the choreography proves happened before it. */
const IMPLIED: Readonly<Record<string, readonly string[]>> = {
  PaymentCaptured: ['StockReserved'],
  PaymentDeclined: ['StockReserved'],
  OrderConfirmed: ['PaymentCaptured'],
  StockCommitted: ['OrderConfirmed'],
  SaleRecorded: ['OrderConfirmed'],
  StockReleased: ['StockReserved'],
  PaymentRefunded: ['PaymentCaptured'],
};

/** The events seen and every event they prove happened (a capture proves the reservation, ...). */
export const happenedOf = (seen: ReadonlySet<string>): Set<string> => {
  const happened = new Set(seen);
  const pending = [...seen];
  for (let type = pending.pop(); type !== undefined; type = pending.pop()) {
    for (const earlier of IMPLIED[type] ?? []) {
      if (!happened.has(earlier)) {
        happened.add(earlier);
        pending.push(earlier);
      }
    }
  }
  return happened;
};

/**
 * The order saga's progress as a function of the set of events seen. An event that must have
 * happened (a capture before a confirmation) but was not seen yet is still waited for, so the
 * timeline is whole when the saga ends, whatever order the bus delivered the events in.
 */
export const orderProgress = (seen: ReadonlySet<string>): OrderProgress => {
  const happened = happenedOf(seen);
  const unseen: string[] = ORDER_SAGA_EVENTS.filter((type) => happened.has(type) && !seen.has(type));
  /** Waiting for the unseen events and `next`, in `phase`; `ended` once there is nothing left. */
  const progress = (
    phase: 'RUNNING' | 'COMPENSATING',
    ended: 'COMPLETED' | 'CANCELLED' | null,
    next: string[],
    deadline: boolean,
  ): OrderProgress => {
    const awaiting = [...unseen, ...next.filter((type) => !unseen.includes(type))];
    return { phase: awaiting.length === 0 && ended ? ended : phase, awaiting, deadline };
  };
  // Past the pivot: a confirmed order is never compensated; its last steps are retried by the bus.
  if (happened.has('OrderConfirmed')) {
    const next = ['StockCommitted', 'SaleRecorded'].filter((type) => !happened.has(type));
    return progress('RUNNING', 'COMPLETED', next, false);
  }
  if ([...ORDER_FAILURES].some((type) => happened.has(type))) {
    const next: string[] = [];
    if (happened.has('StockReserved') && !happened.has('StockReleased')) next.push('StockReleased');
    if (!happened.has('OrderCancelled')) next.push('OrderCancelled');
    if (happened.has('PaymentCaptured') && !happened.has('PaymentRefunded')) next.push('PaymentRefunded');
    return progress('COMPENSATING', 'CANCELLED', next, true);
  }
  if (!happened.has('StockReserved')) return progress('RUNNING', null, ['StockReserved'], true);
  if (!happened.has('PaymentCaptured')) return progress('RUNNING', null, ['PaymentCaptured'], true);
  return progress('RUNNING', null, ['OrderConfirmed'], true);
};

/** The next step of a return saga given the steps seen, null when all are done. */
export const nextReturnStep = (seen: ReadonlySet<string>): ReturnStep | null =>
  RETURN_STEPS.find((step) => !seen.has(step)) ?? null;

/**
 * The compensating commands for `reason`, given the events seen before. A timeout undoes what
 * was or may have been done: stock released unless the reservation was rejected or already
 * released, payment refunded unless it was declined, rejected earlier or already refunded (a
 * capture may still come: payment ignores a refund of nothing), the order cancelled unless it
 * already is. A late event undoes itself.
 */
export const compensationPlan = (reason: CompensationReason, seen: ReadonlySet<string>): Compensation[] => {
  switch (reason) {
    case 'SAGA_TIMED_OUT': {
      const happened = happenedOf(seen);
      const plan: Compensation[] = [];
      if (!happened.has('OrderCancelled')) plan.push('CancelOrder');
      if (!happened.has('StockReservationRejected') && !happened.has('StockReleased'))
        plan.push('ReleaseStock');
      if (
        !happened.has('PaymentDeclined') &&
        !happened.has('StockReservationRejected') &&
        !happened.has('PaymentRefunded')
      ) {
        plan.push('RefundPayment');
      }
      return plan;
    }
    case 'LATE_PAYMENT_CAPTURED':
      return ['RefundPayment'];
    case 'LATE_STOCK_RESERVED':
      return ['ReleaseStock'];
    default: {
      const unknown: never = reason;
      throw new Error(`unknown compensation reason ${JSON.stringify(unknown)}`);
    }
  }
};

const items = (list: readonly { productId: string; quantity: number }[]) =>
  list.map((item) => `${item.quantity} x ${item.productId}`).join(', ');

/** What the timeline says about an observed event. */
export const describeObserved = (event: Observed): string => {
  switch (event.type) {
    case 'OrderPlaced':
      return `order of ${items(event.data.lines)}, ${event.data.totalCents} cents`;
    case 'StockReserved':
      return `reserved ${items(event.data.items)}`;
    case 'StockReservationRejected':
      return `${event.data.reason}: ${event.data.shortages
        .map((s) => `${s.productId} (requested ${s.requested}, available ${s.available})`)
        .join(', ')}`;
    case 'PaymentCaptured':
      return `captured ${event.data.amountCents} cents (payment ${event.data.paymentId})`;
    case 'PaymentDeclined':
      return `declined: ${event.data.reason}`;
    case 'OrderConfirmed':
      return `confirmed (payment ${event.data.paymentId})`;
    case 'OrderCancelled':
      return `cancelled: ${event.data.reason}${event.data.detail ? ` (${event.data.detail})` : ''}`;
    case 'StockCommitted':
      return `sold ${items(event.data.items)}`;
    case 'StockReleased':
      return `released ${items(event.data.items)} (${event.data.reason})`;
    case 'SaleRecorded':
      return `sale of ${event.data.amountCents} cents recorded`;
    case 'PaymentRefunded':
      return `refunded ${event.data.amountCents} cents`;
    case 'StockReturned':
      return `returned ${items(event.data.items)} to stock`;
    case 'RefundRecorded':
      return `refund of ${event.data.amountCents} cents recorded`;
    case 'OrderReturned':
      return 'order returned';
    default: {
      const unknown: never = event;
      throw new Error(`unknown observed event ${JSON.stringify(unknown)}`);
    }
  }
};

const plus = (ms: number, now: string): string => new Date(Date.parse(now) + ms).toISOString();

const sameInstant = (a: string | null, b: string): boolean => a !== null && Date.parse(a) === Date.parse(b);

/** Builds the decider of a policy. */
export const createSagaDecider = (
  policy: SagaPolicy,
): Decider<SagaCommand, SagaState, SagaEventType> & {
  evolve(state: SagaState, event: SagaEvent): SagaState;
} => {
  const evolve = (state: SagaState, event: SagaEvent): SagaState => {
    if (event.type === 'SagaStarted') {
      if (state.status !== 'none') return state;
      const { sagaId, kind, orderId, awaiting, deadlineAt } = event.data;
      return {
        status: statusAfter(null, kind, event),
        sagaId,
        kind,
        orderId,
        startedAt: event.data.startedAt ?? null,
        seen: [kind === 'ORDER' ? 'OrderPlaced' : 'ReturnRequested'],
        awaiting,
        deadlineAt,
        attempt: 1,
        compensations: 0,
      };
    }
    if (state.status === 'none') return state;
    const status = statusAfter(state.status, state.kind, event);
    switch (event.type) {
      case 'SagaStepCompleted':
        return {
          ...state,
          status,
          seen: state.seen.includes(event.data.step) ? state.seen : [...state.seen, event.data.step],
          awaiting: event.data.awaiting,
          deadlineAt: event.data.deadlineAt,
          attempt: 1,
        };
      case 'SagaStepRetried':
        return {
          ...state,
          status,
          awaiting: event.data.step,
          deadlineAt: event.data.deadlineAt,
          attempt: event.data.attempt,
        };
      case 'SagaTimedOut':
        return { ...state, status, awaiting: null, deadlineAt: null };
      case 'SagaCompensationRequested':
        return { ...state, status, compensations: state.compensations + 1 };
      case 'SagaCompleted':
        return { ...state, status, awaiting: null, deadlineAt: null };
      default: {
        const unknown: never = event;
        throw new Error(`unknown saga event ${JSON.stringify(unknown)}`);
      }
    }
  };

  const compensation = (
    saga: ActiveSaga,
    reason: CompensationReason,
    seen: ReadonlySet<string>,
  ): SagaEvent[] => {
    const plan = compensationPlan(reason, seen);
    if (plan.length === 0) return [];
    const index = saga.compensations + 1;
    return [
      {
        type: 'SagaCompensationRequested',
        data: {
          sagaId: saga.sagaId,
          orderId: saga.orderId,
          reason,
          commandIds: plan.map((command) => compensationCommandId(saga.sagaId, index, command)),
          detail: `${plan.join(', ')} (${reason})`,
        },
      },
    ];
  };

  /** Applies decided events as they are decided, so later ones see the earlier ones. */
  const run = (state: SagaState, steps: ((current: SagaState) => SagaEvent[])[]): SagaEvent[] => {
    const decided: SagaEvent[] = [];
    let current = state;
    for (const step of steps) {
      for (const event of step(current)) {
        decided.push(event);
        current = evolve(current, event);
      }
    }
    return decided;
  };

  const startOrder = (orderId: string, now: string, detail: string): SagaEvent => ({
    type: 'SagaStarted',
    data: {
      sagaId: orderId,
      kind: 'ORDER',
      orderId,
      awaiting: 'StockReserved',
      deadlineAt: plus(policy.stepTimeoutMs, now),
      startedAt: now,
      detail,
    },
  });

  const observeOrder = (event: Observed, state: SagaState, now: string): SagaEvent[] => {
    const orderId = event.data.orderId;
    return run(state, [
      // An event can overtake OrderPlaced on the bus: the saga starts with whichever comes first.
      (current) =>
        current.status !== 'none'
          ? []
          : [
              startOrder(
                orderId,
                now,
                event.type === 'OrderPlaced' ? describeObserved(event) : 'order placed',
              ),
            ],
      (current) => {
        if (current.status === 'none' || current.seen.includes(event.type)) return [];
        if (current.kind !== 'ORDER')
          throw new Error(`saga ${current.sagaId} is a ${current.kind} saga, not an order saga`);
        const seen = new Set([...current.seen, event.type]);
        const ended = isTerminal(current.status);
        const progress = orderProgress(seen);
        const onDeadline = !ended && progress.awaiting.length > 0 && progress.deadline;
        return [
          {
            type: 'SagaStepCompleted',
            data: {
              sagaId: current.sagaId,
              step: event.type,
              eventId: event.eventId,
              awaiting: ended || progress.awaiting.length === 0 ? null : progress.awaiting.join(' + '),
              deadlineAt: onDeadline ? plus(policy.stepTimeoutMs, now) : null,
              detail: describeObserved(event),
            },
          },
        ];
      },
      // What happened after the saga gave up (or after the order was cancelled) is undone.
      (current) => {
        if (current.status === 'none') return [];
        const seen = new Set(current.seen);
        const givenUp =
          current.status === 'CANCELLED' ||
          current.status === 'TIMED_OUT' ||
          (seen.has('OrderCancelled') && !happenedOf(seen).has('OrderConfirmed'));
        // Only what nobody expected: an event the saga already knew had happened is not late.
        if (!givenUp || state.status === 'none' || happenedOf(new Set(state.seen)).has(event.type)) return [];
        if (event.type === 'PaymentCaptured' && !seen.has('PaymentRefunded')) {
          return compensation(current, 'LATE_PAYMENT_CAPTURED', seen);
        }
        if (event.type === 'StockReserved' && !seen.has('StockReleased')) {
          return compensation(current, 'LATE_STOCK_RESERVED', seen);
        }
        return [];
      },
      (current) => {
        if (current.status === 'none' || isTerminal(current.status)) return [];
        const { phase } = orderProgress(new Set(current.seen));
        if (phase !== 'COMPLETED' && phase !== 'CANCELLED') return [];
        return [
          {
            type: 'SagaCompleted',
            data: { sagaId: current.sagaId, kind: 'ORDER', orderId: current.orderId, status: phase },
          },
        ];
      },
    ]);
  };

  const observeReturn = (event: Observed<ReturnStep>, state: SagaState, now: string): SagaEvent[] => {
    if (state.status === 'none') {
      throw new Error(
        `no return saga for ${event.type} ${event.eventId}: it is started before its first command`,
      );
    }
    if (state.kind !== 'RETURN')
      throw new Error(`saga ${state.sagaId} is an ${state.kind} saga, not a return saga`);
    if (state.seen.includes(event.type)) return [];
    return run(state, [
      (current) => {
        if (current.status === 'none') return [];
        const seen = new Set([...current.seen, event.type]);
        const next = isTerminal(current.status) ? null : nextReturnStep(seen);
        return [
          {
            type: 'SagaStepCompleted',
            data: {
              sagaId: current.sagaId,
              step: event.type,
              eventId: event.eventId,
              awaiting: next,
              deadlineAt: next ? plus(policy.stepTimeoutMs, now) : null,
              detail: describeObserved(event),
            },
          },
        ];
      },
      (current) =>
        current.status === 'none' ||
        isTerminal(current.status) ||
        nextReturnStep(new Set(current.seen)) !== null
          ? []
          : [
              {
                type: 'SagaCompleted',
                data: {
                  sagaId: current.sagaId,
                  kind: 'RETURN',
                  orderId: current.orderId,
                  status: 'COMPLETED',
                },
              },
            ],
    ]);
  };

  const expire = (command: Extract<SagaCommand, { type: 'Expire' }>, state: SagaState): SagaEvent[] => {
    // Already progressed, retried, ended, or not due yet: an old or early deadline decides nothing.
    if (state.status === 'none' || isTerminal(state.status)) return [];
    if (state.awaiting !== command.step || !sameInstant(state.deadlineAt, command.deadlineAt)) return [];
    if (Date.parse(command.now) < Date.parse(command.deadlineAt)) return [];
    const { sagaId, kind, orderId } = state;
    if (kind === 'RETURN' && state.attempt < policy.returnStepAttempts) {
      const step = command.step as ReturnStep;
      const attempt = state.attempt + 1;
      return [
        {
          type: 'SagaStepRetried',
          data: {
            sagaId,
            kind,
            orderId,
            step,
            attempt,
            commandId: returnStepCommandId(sagaId, step, attempt),
            deadlineAt: plus(policy.stepTimeoutMs, command.now),
          },
        },
      ];
    }
    return run(state, [
      () => [
        {
          type: 'SagaTimedOut',
          data: { sagaId, kind, orderId, step: command.step, deadlineAt: command.deadlineAt },
        },
      ],
      // A return that cannot finish is not undone (the refund stands): it is left to an operator.
      (current) =>
        kind === 'ORDER' && current.status !== 'none'
          ? compensation(current, 'SAGA_TIMED_OUT', new Set(current.seen))
          : [],
      () => [{ type: 'SagaCompleted', data: { sagaId, kind, orderId, status: 'TIMED_OUT' } }],
    ]);
  };

  const decide = (command: SagaCommand, state: SagaState): SagaEvent[] => {
    switch (command.type) {
      case 'Observe':
        return command.kind === 'ORDER'
          ? observeOrder(command.event, state, command.now)
          : observeReturn(command.event as Observed<ReturnStep>, state, command.now);
      case 'StartReturn': {
        if (state.status !== 'none') return [];
        const { returnId, orderId, refundCents, items: count } = command.data;
        return [
          {
            type: 'SagaStarted',
            data: {
              sagaId: returnId,
              kind: 'RETURN',
              orderId,
              awaiting: RETURN_STEPS[0],
              deadlineAt: plus(policy.stepTimeoutMs, command.now),
              startedAt: command.now,
              detail: `return of ${count} item(s) of order ${orderId}: refund ${refundCents} cents`,
            },
          },
        ];
      }
      case 'Expire':
        return expire(command, state);
      default: {
        const unknown: never = command;
        throw new Error(`unknown saga command ${JSON.stringify(unknown)}`);
      }
    }
  };

  return { decide, evolve, initialState: (): SagaState => ({ status: 'none' }) };
};

/** The command a running return saga waits on, with the id of its current attempt; null if none. */
export const pendingReturnCommand = (
  saga: SagaState,
): { step: ReturnStep; command: (typeof RETURN_STEP_COMMANDS)[ReturnStep]; commandId: string } | null => {
  if (saga.status === 'none' || saga.kind !== 'RETURN' || isTerminal(saga.status) || saga.awaiting === null)
    return null;
  const step = RETURN_STEPS.find((candidate) => candidate === saga.awaiting);
  if (!step) return null;
  return {
    step,
    command: RETURN_STEP_COMMANDS[step],
    commandId: returnStepCommandId(saga.sagaId, step, saga.attempt),
  };
};
