import type { EventDataOf } from '@magasin/events';
import { given } from '@magasin/subgraph-kit';
import { describe, expect, it } from 'vitest';
import {
  compensationCommandId,
  createSagaDecider,
  type Observed,
  type OrderSagaEventType,
  pendingReturnCommand,
  type ReturnStep,
  returnStepCommandId,
  type SagaCommand,
} from '../../src/domain/saga.ts';
import type { SagaEvent } from '../../src/domain/timeline.ts';

const decider = createSagaDecider({ stepTimeoutMs: 10_000, returnStepAttempts: 2 });
const T0 = '2026-11-25T10:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();
const ORDER = 'order-1';
const RETURN = 'return-1';

const data: { [T in OrderSagaEventType | ReturnStep]: EventDataOf<T> } = {
  OrderPlaced: {
    orderId: ORDER,
    customerId: 'alice',
    lines: [{ productId: 'kettle', quantity: 2, unitPriceCents: 1500 }],
    totalCents: 3000,
    currency: 'EUR',
    paymentToken: 'tok_visa',
    placedAt: T0,
  },
  StockReserved: { orderId: ORDER, items: [{ productId: 'kettle', quantity: 2 }] },
  StockReservationRejected: {
    orderId: ORDER,
    reason: 'STOCK_UNAVAILABLE',
    shortages: [{ productId: 'kettle', requested: 2, available: 1 }],
  },
  PaymentCaptured: { paymentId: 'pay-1', orderId: ORDER, amountCents: 3000 },
  PaymentDeclined: { paymentId: 'pay-1', orderId: ORDER, amountCents: 3000, reason: 'card declined' },
  OrderConfirmed: { orderId: ORDER, paymentId: 'pay-1', totalCents: 3000 },
  OrderCancelled: { orderId: ORDER, reason: 'PAYMENT_DECLINED' },
  StockCommitted: { orderId: ORDER, items: [{ productId: 'kettle', quantity: 2 }] },
  StockReleased: {
    orderId: ORDER,
    items: [{ productId: 'kettle', quantity: 2 }],
    reason: 'PAYMENT_DECLINED',
  },
  SaleRecorded: { saleId: 'sale-1', orderId: ORDER, customerId: 'alice', amountCents: 3000 },
  PaymentRefunded: { paymentId: 'pay-1', orderId: ORDER, amountCents: 3000, returnId: null },
  StockReturned: { orderId: ORDER, returnId: RETURN, items: [{ productId: 'kettle', quantity: 2 }] },
  RefundRecorded: { refundId: 'refund-1', orderId: ORDER, returnId: RETURN, amountCents: 3000 },
  OrderReturned: { orderId: ORDER, returnId: RETURN },
};

const observed = <T extends OrderSagaEventType | ReturnStep>(type: T, override?: Partial<EventDataOf<T>>) =>
  ({ type, eventId: `${type}-event`, data: { ...data[type], ...override } }) as Observed;

const observe = (type: OrderSagaEventType, seconds = 1, override?: object): SagaCommand => ({
  type: 'Observe',
  kind: 'ORDER',
  event: observed(type, override),
  now: at(seconds),
});
const observeReturn = (type: ReturnStep, seconds = 1, override?: object): SagaCommand => ({
  type: 'Observe',
  kind: 'RETURN',
  event: observed(type, { returnId: RETURN, ...override } as never),
  now: at(seconds),
});

/** Runs commands one after another from no saga, returning every event decided. */
const history = (...commands: SagaCommand[]): SagaEvent[] => {
  const past: SagaEvent[] = [];
  for (const command of commands) past.push(...given(decider, past).when(command));
  return past;
};

const types = (events: SagaEvent[]) => events.map((event) => event.type);
const steps = (events: SagaEvent[]) =>
  events.flatMap((event) =>
    event.type === 'SagaStepCompleted' ? [[event.data.step, event.data.awaiting]] : [],
  );

describe('order saga: observing the choreography', () => {
  it('starts when the order is placed, waiting for the reservation until its deadline', () => {
    expect(given(decider).when(observe('OrderPlaced', 0))).toEqual([
      {
        type: 'SagaStarted',
        data: {
          sagaId: ORDER,
          kind: 'ORDER',
          orderId: ORDER,
          awaiting: 'StockReserved',
          deadlineAt: at(10),
          startedAt: T0,
          detail: 'order of 2 x kettle, 3000 cents',
        },
      },
    ]);
  });

  it('decides nothing for an event it has already seen (a redelivery)', () => {
    const past = history(observe('OrderPlaced'), observe('StockReserved'));
    expect(given(decider, past).when(observe('OrderPlaced'))).toEqual([]);
    expect(given(decider, past).when(observe('StockReserved'))).toEqual([]);
  });

  it('records each step of the happy path and completes once the stock is sold and the sale recorded', () => {
    const events = history(
      observe('OrderPlaced', 0),
      observe('StockReserved', 1),
      observe('PaymentCaptured', 2),
      observe('OrderConfirmed', 3),
      observe('StockCommitted', 4),
      observe('SaleRecorded', 5),
    );
    expect(steps(events)).toEqual([
      ['StockReserved', 'PaymentCaptured'],
      ['PaymentCaptured', 'OrderConfirmed'],
      ['OrderConfirmed', 'StockCommitted + SaleRecorded'],
      ['StockCommitted', 'SaleRecorded'],
      ['SaleRecorded', null],
    ]);
    expect(events.at(-1)).toEqual({
      type: 'SagaCompleted',
      data: { sagaId: ORDER, kind: 'ORDER', orderId: ORDER, status: 'COMPLETED' },
    });
    expect(given(decider, events).state()).toMatchObject({
      status: 'COMPLETED',
      awaiting: null,
      deadlineAt: null,
    });
  });

  it('puts no deadline on the steps after the order is confirmed (past the pivot nothing is compensated)', () => {
    const events = history(
      observe('OrderPlaced'),
      observe('StockReserved'),
      observe('PaymentCaptured'),
      observe('OrderConfirmed'),
    );
    expect(events.at(-1)).toMatchObject({ type: 'SagaStepCompleted', data: { deadlineAt: null } });
  });

  it('starts with whichever event comes first, whatever the order the bus delivers them in', () => {
    const events = history(observe('StockReserved', 1), observe('OrderPlaced', 2));
    expect(types(events)).toEqual(['SagaStarted', 'SagaStepCompleted']);
    expect(given(decider, events).state()).toMatchObject({ status: 'RUNNING', awaiting: 'PaymentCaptured' });
  });

  it('completes only once every step is seen, whatever order the bus delivers them in, and compensates nothing', () => {
    const overtaken = history(
      observe('OrderPlaced'),
      observe('OrderConfirmed'),
      observe('StockCommitted'),
      observe('SaleRecorded'),
    );
    expect(given(decider, overtaken).state()).toMatchObject({
      status: 'RUNNING',
      awaiting: 'StockReserved + PaymentCaptured',
      deadlineAt: null,
    });
    const rest = given(decider, overtaken).when(observe('PaymentCaptured'));
    expect(types(rest)).toEqual(['SagaStepCompleted']);
    const last = given(decider, [...overtaken, ...rest]).when(observe('StockReserved'));
    expect(types(last)).toEqual(['SagaStepCompleted', 'SagaCompleted']);
    expect(last[1]).toMatchObject({ data: { status: 'COMPLETED' } });
  });

  it('waits for a reservation that a decline proves, before it compensates and ends', () => {
    const declined = history(observe('OrderPlaced'), observe('PaymentDeclined'), observe('OrderCancelled'));
    expect(given(decider, declined).state()).toMatchObject({
      status: 'COMPENSATING',
      awaiting: 'StockReserved + StockReleased',
    });
    const events = given(decider, declined).when(observe('StockReserved'));
    expect(types(events)).toEqual(['SagaStepCompleted']);
  });

  it('compensates a rejected reservation: waits for the order to be cancelled, then ends CANCELLED', () => {
    const rejected = history(observe('OrderPlaced'), observe('StockReservationRejected'));
    expect(given(decider, rejected).state()).toMatchObject({
      status: 'COMPENSATING',
      awaiting: 'OrderCancelled',
    });
    const cancelled = given(decider, rejected).when(
      observe('OrderCancelled', 2, { reason: 'STOCK_UNAVAILABLE' }),
    );
    expect(types(cancelled)).toEqual(['SagaStepCompleted', 'SagaCompleted']);
    expect(cancelled[1]).toMatchObject({ data: { status: 'CANCELLED' } });
  });

  it('compensates a declined payment: ends CANCELLED once the stock is released and the order cancelled', () => {
    const declined = history(observe('OrderPlaced'), observe('StockReserved'), observe('PaymentDeclined'));
    expect(given(decider, declined).state()).toMatchObject({
      status: 'COMPENSATING',
      awaiting: 'StockReleased + OrderCancelled',
    });
    const events = history(
      observe('OrderPlaced'),
      observe('StockReserved'),
      observe('PaymentDeclined'),
      observe('OrderCancelled'),
      observe('StockReleased'),
    );
    expect(events.at(-1)).toMatchObject({ type: 'SagaCompleted', data: { status: 'CANCELLED' } });
  });
});

describe('order saga: deadlines', () => {
  const reserved = history(observe('OrderPlaced', 0), observe('StockReserved', 1));
  const expire = (step: string, deadlineAt: string, seconds: number): SagaCommand => ({
    type: 'Expire',
    step,
    deadlineAt,
    now: at(seconds),
  });

  it('times out a step past its deadline: compensating commands, then TIMED_OUT', () => {
    const events = given(decider, reserved).when(expire('PaymentCaptured', at(11), 12));
    expect(events).toEqual([
      {
        type: 'SagaTimedOut',
        data: { sagaId: ORDER, kind: 'ORDER', orderId: ORDER, step: 'PaymentCaptured', deadlineAt: at(11) },
      },
      {
        type: 'SagaCompensationRequested',
        data: {
          sagaId: ORDER,
          orderId: ORDER,
          reason: 'SAGA_TIMED_OUT',
          commandIds: [
            compensationCommandId(ORDER, 1, 'CancelOrder'),
            compensationCommandId(ORDER, 1, 'ReleaseStock'),
            compensationCommandId(ORDER, 1, 'RefundPayment'),
          ],
          detail: 'CancelOrder, ReleaseStock, RefundPayment (SAGA_TIMED_OUT)',
        },
      },
      { type: 'SagaCompleted', data: { sagaId: ORDER, kind: 'ORDER', orderId: ORDER, status: 'TIMED_OUT' } },
    ]);
  });

  it('fires a deadline once: an old, early or already fired deadline decides nothing', () => {
    expect(given(decider, reserved).when(expire('StockReserved', at(10), 12))).toEqual([]);
    expect(given(decider, reserved).when(expire('PaymentCaptured', at(11), 10))).toEqual([]);
    const timedOut = [...reserved, ...given(decider, reserved).when(expire('PaymentCaptured', at(11), 12))];
    expect(given(decider, timedOut).when(expire('PaymentCaptured', at(11), 13))).toEqual([]);
  });

  it('releases stock only when it may be reserved, and refunds only when a capture may come', () => {
    const declined = history(
      observe('OrderPlaced', 0),
      observe('StockReserved', 1),
      observe('PaymentDeclined', 2),
    );
    const events = given(decider, declined).when(expire('StockReleased + OrderCancelled', at(12), 13));
    expect(events[1]).toMatchObject({ data: { detail: 'CancelOrder, ReleaseStock (SAGA_TIMED_OUT)' } });
    const placed = history(observe('OrderPlaced', 0));
    expect(given(decider, placed).when(expire('StockReserved', at(10), 11))[1]).toMatchObject({
      data: { detail: 'CancelOrder, ReleaseStock, RefundPayment (SAGA_TIMED_OUT)' },
    });
  });

  it('refunds a capture that comes after the timeout, with a command of its own', () => {
    const timedOut = [...reserved, ...given(decider, reserved).when(expire('PaymentCaptured', at(11), 12))];
    const late = given(decider, timedOut).when(observe('PaymentCaptured', 20));
    expect(late).toEqual([
      {
        type: 'SagaStepCompleted',
        data: {
          sagaId: ORDER,
          step: 'PaymentCaptured',
          eventId: 'PaymentCaptured-event',
          awaiting: null,
          deadlineAt: null,
          detail: 'captured 3000 cents (payment pay-1)',
        },
      },
      {
        type: 'SagaCompensationRequested',
        data: {
          sagaId: ORDER,
          orderId: ORDER,
          reason: 'LATE_PAYMENT_CAPTURED',
          commandIds: [compensationCommandId(ORDER, 2, 'RefundPayment')],
          detail: 'RefundPayment (LATE_PAYMENT_CAPTURED)',
        },
      },
    ]);
    expect(compensationCommandId(ORDER, 2, 'RefundPayment')).not.toBe(
      compensationCommandId(ORDER, 1, 'RefundPayment'),
    );
  });

  it('refunds a capture that lands after the customer cancelled, and waits for the refund', () => {
    const cancelled = history(
      observe('OrderPlaced'),
      observe('StockReserved'),
      observe('OrderCancelled', 2, { reason: 'CUSTOMER_REQUEST' }),
    );
    const events = given(decider, cancelled).when(observe('PaymentCaptured', 3));
    expect(types(events)).toEqual(['SagaStepCompleted', 'SagaCompensationRequested']);
    expect(given(decider, [...cancelled, ...events]).state()).toMatchObject({
      status: 'COMPENSATING',
      awaiting: 'StockReleased + PaymentRefunded',
    });
  });
});

describe('return saga: orchestrated step by step', () => {
  const start: SagaCommand = {
    type: 'StartReturn',
    data: { returnId: RETURN, orderId: ORDER, refundCents: 3000, items: 2 },
    now: T0,
  };

  it('starts waiting for the refund, then each step waits for the next until the order is returned', () => {
    const events = history(
      start,
      observeReturn('PaymentRefunded', 1),
      observeReturn('StockReturned', 2),
      observeReturn('RefundRecorded', 3),
      observeReturn('OrderReturned', 4),
    );
    expect(events[0]).toMatchObject({
      type: 'SagaStarted',
      data: { kind: 'RETURN', sagaId: RETURN, awaiting: 'PaymentRefunded', deadlineAt: at(10) },
    });
    expect(steps(events)).toEqual([
      ['PaymentRefunded', 'StockReturned'],
      ['StockReturned', 'RefundRecorded'],
      ['RefundRecorded', 'OrderReturned'],
      ['OrderReturned', null],
    ]);
    expect(events.at(-1)).toMatchObject({
      type: 'SagaCompleted',
      data: { kind: 'RETURN', status: 'COMPLETED' },
    });
  });

  it('names the command each running step waits on', () => {
    const refunded = history(start, observeReturn('PaymentRefunded', 1));
    expect(pendingReturnCommand(given(decider, history(start)).state())).toEqual({
      step: 'PaymentRefunded',
      command: 'RefundPayment',
      commandId: returnStepCommandId(RETURN, 'PaymentRefunded', 1),
    });
    expect(pendingReturnCommand(given(decider, refunded).state())).toMatchObject({ command: 'RestockItems' });
  });

  it('sends a step again past its deadline, then times out once its attempts are spent', () => {
    const started = history(start);
    const retried = given(decider, started).when({
      type: 'Expire',
      step: 'PaymentRefunded',
      deadlineAt: at(10),
      now: at(11),
    });
    expect(retried).toEqual([
      {
        type: 'SagaStepRetried',
        data: {
          sagaId: RETURN,
          kind: 'RETURN',
          orderId: ORDER,
          step: 'PaymentRefunded',
          attempt: 2,
          commandId: returnStepCommandId(RETURN, 'PaymentRefunded', 2),
          deadlineAt: at(21),
        },
      },
    ]);
    const again = given(decider, [...started, ...retried]).when({
      type: 'Expire',
      step: 'PaymentRefunded',
      deadlineAt: at(21),
      now: at(22),
    });
    expect(types(again)).toEqual(['SagaTimedOut', 'SagaCompleted']);
  });

  it('refuses a step of a return saga that was never started', () => {
    expect(() => given(decider).when(observeReturn('PaymentRefunded'))).toThrow(/no return saga/);
  });
});
