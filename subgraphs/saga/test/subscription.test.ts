import {
  type GraphQLAnswer,
  subscriptionClient,
  type TestSubscriptionClient,
} from '@magasin/subgraph-kit/testing';
import { eventually } from '@magasin/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALICE,
  BOB,
  happyPath,
  ITEMS,
  SAGA_FIELDS,
  type SagaAnswer,
  type SagaFixture,
  startSagaFixture,
  stepNames,
  TOTAL_CENTS,
} from './fixture.ts';

let fixture: SagaFixture;
const clients: TestSubscriptionClient[] = [];
beforeAll(async () => {
  // Two replicas: whichever applies an event publishes it; every replica serves its subscribers.
  fixture = await startSagaFixture('saga_subscription', { replicas: 2 });
});
afterAll(async () => {
  await Promise.allSettled(clients.map((client) => client.close()));
  await fixture?.stop();
});

const ORDER_SAGA = `subscription ($orderId: ID!) { orderSaga(orderId: $orderId) { ${SAGA_FIELDS} } }`;
type Answer = GraphQLAnswer<{ orderSaga: SagaAnswer }>;

const client = (replica: number, identity = ALICE) => {
  const url = fixture.replicas[replica]?.url;
  if (!url) throw new Error(`no replica ${replica}`);
  const created = subscriptionClient(url, { identity });
  clients.push(created);
  return created;
};

/** The happy path of an order, one event at a time, each once the saga has recorded the previous one. */
const driveHappyPath = async (orderId: string) => {
  for (const [name, emit] of happyPath(fixture, orderId)) {
    await emit();
    await fixture.waitForSaga(orderId, (saga) => stepNames(saga).includes(name), name);
  }
};

const HAPPY_PATH = [
  'OrderPlaced',
  'StockReserved',
  'PaymentCaptured',
  'OrderConfirmed',
  'StockCommitted',
  'SaleRecorded',
  'SagaCompleted',
];

describe('Subscription.orderSaga over graphql-ws', () => {
  it('sends the current state, then the saga after each step in order, and completes when it ends', async () => {
    const orderId = await fixture.placeOrder();
    await fixture.waitForSaga(orderId, (saga) => saga.steps.length === 1, 'started');
    const received: Answer[] = [];
    const [first, second] = [client(0), client(1)];
    const done = Promise.all([
      first.collect<Answer['data'] & object>(
        ORDER_SAGA,
        { orderId },
        { onNext: (answer) => received.push(answer) },
      ),
      second.collect<Answer['data'] & object>(ORDER_SAGA, { orderId }),
    ]);
    await eventually(() => (received.length > 0 ? true : undefined), { what: 'the current state' });
    await driveHappyPath(orderId);
    const [onFirst, onSecond] = await done;

    const timelines = onFirst.map((answer) => stepNames(answer.data?.orderSaga ?? null));
    expect(timelines).toEqual(HAPPY_PATH.map((_, index) => HAPPY_PATH.slice(0, index + 1)));
    expect(onFirst.map((answer) => answer.data?.orderSaga.status)).toEqual([
      ...Array(HAPPY_PATH.length - 1).fill('RUNNING'),
      'COMPLETED',
    ]);
    expect(onFirst.at(-1)?.data?.orderSaga).toMatchObject({
      id: orderId,
      kind: 'ORDER',
      order: { id: orderId },
    });
    expect(onFirst.at(-1)?.data?.orderSaga.endedAt).not.toBeNull();
    // The other replica served the same updates.
    expect(onSecond).toEqual(onFirst);
  });

  it('gives a late subscriber the whole timeline at once, then completes', async () => {
    const orderId = await fixture.placeOrder();
    await fixture.waitForSaga(orderId, (saga) => saga.steps.length === 1, 'started');
    await driveHappyPath(orderId);
    await fixture.waitForSaga(orderId, (saga) => saga.status === 'COMPLETED', 'COMPLETED');
    const answers = await client(1).collect<{ orderSaga: SagaAnswer }>(ORDER_SAGA, { orderId });
    expect(answers).toHaveLength(1);
    expect(stepNames(answers[0]?.data?.orderSaga ?? null)).toEqual(HAPPY_PATH);
  });

  it('follows a saga the subscriber reconnects to mid-way, from the full timeline so far', async () => {
    const orderId = await fixture.placeOrder();
    await fixture.waitForSaga(orderId, (saga) => saga.steps.length === 1, 'started');
    await fixture.emit(orderId, 'StockReserved', { orderId, items: ITEMS });
    await fixture.waitForSaga(orderId, (saga) => saga.steps.length === 2, 'reserved');
    const received: Answer[] = [];
    const done = client(0).collect<{ orderSaga: SagaAnswer }>(
      ORDER_SAGA,
      { orderId },
      { onNext: (answer) => received.push(answer as Answer) },
    );
    await eventually(() => (received.length > 0 ? true : undefined), { what: 'the current state' });
    expect(stepNames(received[0]?.data?.orderSaga ?? null)).toEqual(['OrderPlaced', 'StockReserved']);
    await fixture.emit(orderId, 'PaymentDeclined', {
      paymentId: `pay-${orderId}`,
      orderId,
      amountCents: TOTAL_CENTS,
      reason: 'card declined',
    });
    await fixture.emit(orderId, 'StockReleased', { orderId, items: ITEMS, reason: 'PAYMENT_DECLINED' });
    await fixture.emit(orderId, 'OrderCancelled', { orderId, reason: 'PAYMENT_DECLINED' });
    const answers = await done;
    expect(answers.at(-1)?.data?.orderSaga.status).toBe('CANCELLED');
    const versions = answers.map((answer) => answer.data?.orderSaga.steps.length ?? 0);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
  });

  it('refuses someone else’s order (FORBIDDEN) and an unknown order (NOT_FOUND)', async () => {
    const orderId = await fixture.placeOrder();
    const forbidden = await client(0, BOB).collect(ORDER_SAGA, { orderId });
    expect(forbidden[0]?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const unknown = await client(0).collect(ORDER_SAGA, { orderId: crypto.randomUUID() });
    expect(unknown[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('accepts only connections signed like internal requests', async () => {
    const url = fixture.replicas[0]?.url as string;
    const unsigned = subscriptionClient(url, { identity: ALICE, unsigned: true });
    clients.push(unsigned);
    const failure = await unsigned
      .collect(ORDER_SAGA, { orderId: crypto.randomUUID() })
      .catch((error: Error) => error);
    expect(((failure as Error).cause as { code?: number }).code).toBe(4403);
  });
});
