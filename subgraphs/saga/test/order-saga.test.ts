import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  ALICE,
  BOB,
  ITEMS,
  rebuildDifferences,
  SAGA_FIELDS,
  type SagaAnswer,
  type SagaFixture,
  startSagaFixture,
  stepNames,
  TOTAL_CENTS,
} from './fixture.ts';

let fixture: SagaFixture;
beforeAll(async () => {
  fixture = await startSagaFixture('saga_order');
});
afterAll(async () => {
  await fixture?.stop();
});

/** Emits one event and waits until the saga has recorded it (as the next service would react). */
const step = async (orderId: string, emit: () => Promise<unknown>, name: string) => {
  await emit();
  return fixture.waitForSaga(orderId, (saga) => stepNames(saga).includes(name), `${name} recorded`);
};

const placed = async () => {
  const orderId = await fixture.placeOrder();
  await fixture.waitForSaga(orderId, (saga) => saga.steps.length > 0, 'started');
  return orderId;
};

describe('the order saga, observed', () => {
  it('records every step of the happy path in order and ends COMPLETED', async () => {
    const orderId = await placed();
    await step(
      orderId,
      () => fixture.emit(orderId, 'StockReserved', { orderId, items: ITEMS }),
      'StockReserved',
    );
    await step(
      orderId,
      () =>
        fixture.emit(orderId, 'PaymentCaptured', {
          paymentId: `pay-${orderId}`,
          orderId,
          amountCents: TOTAL_CENTS,
        }),
      'PaymentCaptured',
    );
    await step(
      orderId,
      () =>
        fixture.emit(orderId, 'OrderConfirmed', {
          orderId,
          paymentId: `pay-${orderId}`,
          totalCents: TOTAL_CENTS,
        }),
      'OrderConfirmed',
    );
    await step(
      orderId,
      () => fixture.emit(orderId, 'StockCommitted', { orderId, items: ITEMS }),
      'StockCommitted',
    );
    await fixture.emit(orderId, 'SaleRecorded', {
      saleId: `sale-${orderId}`,
      orderId,
      customerId: ALICE.sub,
      amountCents: TOTAL_CENTS,
    });
    const saga = await fixture.waitForSaga(orderId, (found) => found.status === 'COMPLETED', 'COMPLETED');

    expect(saga).toMatchObject({ id: orderId, kind: 'ORDER', status: 'COMPLETED', order: { id: orderId } });
    expect(saga.steps.map((s) => [s.name, s.status])).toEqual([
      ['OrderPlaced', 'DONE'],
      ['StockReserved', 'DONE'],
      ['PaymentCaptured', 'DONE'],
      ['OrderConfirmed', 'DONE'],
      ['StockCommitted', 'DONE'],
      ['SaleRecorded', 'DONE'],
      ['SagaCompleted', 'COMPLETED'],
    ]);
    expect(saga.steps[0]?.detail).toBe('order of 2 x kettle, 1 x teapot, 5000 cents');
    expect(saga.steps[2]?.detail).toBe(`captured 5000 cents (payment pay-${orderId})`);
    expect(saga.endedAt).toBe(saga.steps.at(-1)?.at);
    const times = saga.steps.map((s) => Date.parse(s.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(fixture.commands.received.filter((command) => command.correlationId === orderId)).toEqual([]);
  });

  it('compensates an order out of stock: the order is cancelled, the saga ends CANCELLED, nothing is commanded', async () => {
    const orderId = await placed();
    const rejected = await step(
      orderId,
      () =>
        fixture.emit(orderId, 'StockReservationRejected', {
          orderId,
          reason: 'STOCK_UNAVAILABLE',
          shortages: [{ productId: 'kettle', requested: 2, available: 0 }],
        }),
      'StockReservationRejected',
    );
    expect(rejected.status).toBe('COMPENSATING');
    await fixture.emit(orderId, 'OrderCancelled', { orderId, reason: 'STOCK_UNAVAILABLE' });
    const saga = await fixture.waitForSaga(orderId, (found) => found.status === 'CANCELLED', 'CANCELLED');
    expect(saga.steps.map((s) => [s.name, s.status, s.detail])).toEqual([
      ['OrderPlaced', 'DONE', 'order of 2 x kettle, 1 x teapot, 5000 cents'],
      ['StockReservationRejected', 'FAILED', 'STOCK_UNAVAILABLE: kettle (requested 2, available 0)'],
      ['OrderCancelled', 'COMPENSATED', 'cancelled: STOCK_UNAVAILABLE'],
      ['SagaCompleted', 'CANCELLED', null],
    ]);
    expect(saga.endedAt).not.toBeNull();
    expect(fixture.commands.received.filter((command) => command.correlationId === orderId)).toEqual([]);
  });

  it('compensates a declined payment: ends CANCELLED once the stock is released and the order cancelled', async () => {
    const orderId = await placed();
    await step(
      orderId,
      () => fixture.emit(orderId, 'StockReserved', { orderId, items: ITEMS }),
      'StockReserved',
    );
    await step(
      orderId,
      () =>
        fixture.emit(orderId, 'PaymentDeclined', {
          paymentId: `pay-${orderId}`,
          orderId,
          amountCents: TOTAL_CENTS,
          reason: 'card declined',
        }),
      'PaymentDeclined',
    );
    const releasing = await fixture.saga(orderId);
    expect(releasing?.status).toBe('COMPENSATING');
    await step(
      orderId,
      () => fixture.emit(orderId, 'StockReleased', { orderId, items: ITEMS, reason: 'PAYMENT_DECLINED' }),
      'StockReleased',
    );
    await fixture.emit(orderId, 'OrderCancelled', { orderId, reason: 'PAYMENT_DECLINED' });
    const saga = await fixture.waitForSaga(orderId, (found) => found.status === 'CANCELLED', 'CANCELLED');
    expect(saga.steps.map((s) => [s.name, s.status])).toEqual([
      ['OrderPlaced', 'DONE'],
      ['StockReserved', 'DONE'],
      ['PaymentDeclined', 'FAILED'],
      ['StockReleased', 'COMPENSATED'],
      ['OrderCancelled', 'COMPENSATED'],
      ['SagaCompleted', 'CANCELLED'],
    ]);
  });
});

describe('reading sagas', () => {
  it('shows a saga to its customer and to admins only', async () => {
    const orderId = await placed();
    const query = `query ($id: ID!) { saga(id: $id) { id status } }`;
    expect((await fixture.graphql(ALICE)(query, { id: orderId })).data).toEqual({
      saga: { id: orderId, status: 'RUNNING' },
    });
    expect((await fixture.graphql(BOB)(query, { id: orderId })).errors?.[0]?.extensions?.code).toBe(
      'FORBIDDEN',
    );
    expect((await fixture.graphql()(query, { id: orderId })).errors?.[0]?.extensions?.code).toBe(
      'UNAUTHENTICATED',
    );
    expect((await fixture.graphql(ADMIN)(query, { id: crypto.randomUUID() })).data).toEqual({ saga: null });
    expect((await fixture.graphql(ADMIN)(query, { id: 'not-an-id' })).errors?.[0]?.extensions?.code).toBe(
      'BAD_USER_INPUT',
    );
  });

  it('contributes the saga to orders through federation, in one batch for many orders', async () => {
    const [first, second] = [await placed(), await placed()];
    const answer = await fixture.graphql(ALICE)<{ _entities: { id: string; saga: SagaAnswer | null }[] }>(
      `query ($representations: [_Any!]!) {
        _entities(representations: $representations) { ... on Order { id saga { ${SAGA_FIELDS} } returnSagas { id } } }
      }`,
      {
        representations: [
          { __typename: 'Order', id: first },
          { __typename: 'Order', id: second },
        ],
      },
    );
    expect(answer.errors).toBeUndefined();
    expect(answer.data?._entities.map((order) => [order.id, order.saga?.id, order.saga?.status])).toEqual([
      [first, first, 'RUNNING'],
      [second, second, 'RUNNING'],
    ]);
  });

  it('exposes saga metrics', async () => {
    const [replica] = fixture.replicas;
    const metrics = await (await fetch(`${replica?.url}/metrics`)).text();
    expect(metrics).toMatch(/magasin_sagas_started_total\{kind="ORDER"\} [1-9]/);
    expect(metrics).toMatch(/magasin_sagas_completed_total\{kind="ORDER"\} [1-9]/);
    expect(metrics).toMatch(/magasin_sagas_compensated_total\{kind="ORDER"\} [1-9]/);
    expect(metrics).toMatch(/magasin_sagas_active\{kind="ORDER"\} [1-9]/);
    expect(metrics).toContain(
      'magasin_saga_duration_seconds_bucket{le="0.05",kind="ORDER",status="COMPLETED"}',
    );
  });

  it('rebuilds the read model from the log exactly as it is live, page by page and event by event', async () => {
    expect(await rebuildDifferences(fixture)).toEqual({ pages: [], byEvent: [] });
  });
});
