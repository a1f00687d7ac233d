import type { CommandEnvelope } from '@magasin/events';
import { eventually } from '@magasin/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ITEMS,
  rebuildDifferences,
  recorded,
  type SagaFixture,
  startSagaFixture,
  stepNames,
  TOTAL_CENTS,
} from './fixture.ts';

let fixture: SagaFixture;
beforeAll(async () => {
  // Two replicas on one database and one queue: both timers race for every deadline.
  fixture = await startSagaFixture('saga_timeouts', { stepTimeoutMs: 1_500, replicas: 2 });
});
afterAll(async () => {
  await fixture?.stop();
});

const payloadOf = (command: CommandEnvelope) => command.payload as Record<string, unknown>;

/** The commands, each id once (the bus delivers at least once; receivers drop a resent id). */
const uniqueById = (commands: readonly CommandEnvelope[]) => [
  ...new Map(commands.map((command) => [command.commandId, command])).values(),
];

/** The commands received for an order so far, each id once. */
const sentFor = (orderId: string) =>
  uniqueById(fixture.commands.received.filter((command) => payloadOf(command).orderId === orderId));

/** The RefundPayment commands of an order (each id once), once there are `count`. */
const refundsOf = (orderId: string, count: number) =>
  eventually(
    () => {
      const refunds = sentFor(orderId).filter((command) => command.type === 'RefundPayment');
      return refunds.length >= count ? refunds : undefined;
    },
    { what: `${count} RefundPayment(s) for order ${orderId}`, timeoutMs: 20_000 },
  );

/**
 * Places `count` orders whose stock is reserved: each saga then waits for a payment that never
 * comes. Their reservation deadlines are held meanwhile (see withDeadlinesHeld): a slow relay
 * must not time a saga out before its StockReserved, which is not what these tests are about.
 */
const reservedOrders = (count: number) =>
  fixture.withDeadlinesHeld(() =>
    Promise.all(
      Array.from({ length: count }, async () => {
        const orderId = await fixture.placeOrder();
        await fixture.waitForSagaEvents(orderId, (events) => events.length > 0, 'started');
        await fixture.emit(orderId, 'StockReserved', { orderId, items: ITEMS });
        await fixture.waitForSagaEvents(orderId, (events) => recorded(events, 'StockReserved'), 'reserved');
        return orderId;
      }),
    ),
  );

describe('deadlines', () => {
  it('times a stalled saga out once, even with two replicas, and sends the compensating commands', async () => {
    const orders = await reservedOrders(8);
    for (const orderId of orders) {
      const saga = await fixture.waitForSaga(orderId, (found) => found.status === 'TIMED_OUT', 'TIMED_OUT');
      expect(saga.steps.map((step) => [step.name, step.status])).toEqual([
        ['OrderPlaced', 'DONE'],
        ['StockReserved', 'DONE'],
        ['SagaTimedOut', 'TIMED_OUT'],
        ['SagaCompensationRequested', 'REQUESTED'],
        ['SagaCompleted', 'TIMED_OUT'],
      ]);
      expect(saga.steps[2]?.detail).toMatch(/^no PaymentCaptured by /);
      await fixture.commands.waitFor(orderId, undefined, 3);
      const commands = sentFor(orderId);
      expect(commands.map((command) => [command.type, payloadOf(command)])).toEqual([
        ['CancelOrder', { orderId, reason: 'SAGA_TIMED_OUT' }],
        ['ReleaseStock', { orderId, reason: 'SAGA_TIMED_OUT' }],
        ['RefundPayment', { orderId, returnId: null, amountCents: TOTAL_CENTS }],
      ]);
      expect(
        commands.every((command) => command.correlationId === orderId && command.actor === 'service:saga'),
      ).toBe(true);
    }
    // Let both timers look at the (now moved) deadlines a few more times: nothing fires again.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const orderId of orders) {
      const events = await fixture.sagaEvents(orderId);
      expect(events.filter((event) => event.type === 'SagaTimedOut')).toHaveLength(1);
      expect(sentFor(orderId)).toHaveLength(3);
    }
  });

  it('refunds a payment captured after the saga timed out', async () => {
    const [orderId = ''] = await reservedOrders(1);
    await fixture.waitForSaga(orderId, (saga) => saga.status === 'TIMED_OUT', 'TIMED_OUT');
    const [timeoutRefund] = await refundsOf(orderId, 1);
    await fixture.emit(orderId, 'PaymentCaptured', {
      paymentId: `pay-${orderId}`,
      orderId,
      amountCents: TOTAL_CENTS,
    });
    const refunds = await refundsOf(orderId, 2);
    expect(refunds).toHaveLength(2);
    expect(refunds[0]?.commandId).toBe(timeoutRefund?.commandId);
    expect(payloadOf(refunds[1] as CommandEnvelope)).toEqual({
      orderId,
      returnId: null,
      amountCents: TOTAL_CENTS,
    });
    const saga = await fixture.waitForSaga(
      orderId,
      (found) => stepNames(found).length === 7,
      'late capture recorded',
    );
    expect(saga.status).toBe('TIMED_OUT');
    expect(saga.steps.slice(5).map((step) => [step.name, step.status, step.detail])).toEqual([
      ['PaymentCaptured', 'LATE', `captured ${TOTAL_CENTS} cents (payment pay-${orderId})`],
      ['SagaCompensationRequested', 'REQUESTED', 'RefundPayment (LATE_PAYMENT_CAPTURED)'],
    ]);
    // The compensations' results arrive after the end: recorded too, compensating nothing more.
    await fixture.emit(orderId, 'OrderCancelled', { orderId, reason: 'SAGA_TIMED_OUT' });
    const after = await fixture.waitForSaga(
      orderId,
      (found) => stepNames(found).includes('OrderCancelled'),
      'cancel',
    );
    expect(after.steps.at(-1)).toMatchObject({ name: 'OrderCancelled', status: 'LATE' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sentFor(orderId)).toHaveLength(4);
  });

  it('does not time out a saga on a deadline its progress moved, nor once its order is confirmed', async () => {
    const pay = (orderId: string) => `pay-${orderId}`;
    // Taken to the pivot step by step with its deadlines held, and held until every deadline it
    // had is due: once released, none of them may time it out (each step moved its deadline on).
    const orderId = await fixture.withDeadlinesHeld(async () => {
      const id = await fixture.placeOrder();
      const next = async (step: string, emit: () => Promise<unknown>) => {
        await emit();
        return fixture.waitForSagaEvents(id, (events) => recorded(events, step), step);
      };
      await fixture.waitForSagaEvents(id, (events) => events.length > 0, 'started');
      await next('StockReserved', () => fixture.emit(id, 'StockReserved', { orderId: id, items: ITEMS }));
      await next('PaymentCaptured', () =>
        fixture.emit(id, 'PaymentCaptured', { paymentId: pay(id), orderId: id, amountCents: TOTAL_CENTS }),
      );
      const events = await next('OrderConfirmed', () =>
        fixture.emit(id, 'OrderConfirmed', { orderId: id, paymentId: pay(id), totalCents: TOTAL_CENTS }),
      );
      const deadlines = events.map((event) =>
        Date.parse((event.data as { deadlineAt?: string }).deadlineAt ?? ''),
      );
      const lastDue = Math.max(...deadlines.filter((due) => !Number.isNaN(due)));
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, lastDue - Date.now() + 100)));
      return id;
    });
    // Past the pivot there is no deadline: the last steps may take longer than a step may.
    await fixture.waitForSaga(
      orderId,
      (saga) => stepNames(saga).includes('OrderConfirmed'),
      'OrderConfirmed',
    );
    await new Promise((resolve) => setTimeout(resolve, fixture.config.SAGA_STEP_TIMEOUT_MS + 500));
    await fixture.emit(orderId, 'StockCommitted', { orderId, items: ITEMS });
    // The two last steps run in parallel in the services; one at a time here, for their order below.
    await fixture.waitForSagaEvents(
      orderId,
      (events) => recorded(events, 'StockCommitted'),
      'StockCommitted',
    );
    await fixture.emit(orderId, 'SaleRecorded', {
      saleId: `sale-${orderId}`,
      orderId,
      customerId: 'alice',
      amountCents: TOTAL_CENTS,
    });
    const saga = await fixture.waitForSaga(orderId, (found) => found.status === 'COMPLETED', 'COMPLETED');
    expect(saga.steps.map((step) => [step.name, step.status])).toEqual([
      ['OrderPlaced', 'DONE'],
      ['StockReserved', 'DONE'],
      ['PaymentCaptured', 'DONE'],
      ['OrderConfirmed', 'DONE'],
      ['StockCommitted', 'DONE'],
      ['SaleRecorded', 'DONE'],
      ['SagaCompleted', 'COMPLETED'],
    ]);
    expect(sentFor(orderId)).toEqual([]);
  });

  it('keeps no deadline of an ended saga', async () => {
    await eventually(
      async () => {
        const rows = await fixture.replicas[0]?.deps.prisma.sagaDeadline.findMany({
          where: { dueAt: { lt: new Date(Date.now() - 2_000) } },
        });
        return rows?.length === 0 ? true : undefined;
      },
      { what: 'no overdue deadline left' },
    );
  });

  it('leaves a read model (timeouts, retries included) equal to a rebuild, page by page and event by event', async () => {
    expect(await rebuildDifferences(fixture)).toEqual({ pages: [], byEvent: [] });
  });
});
