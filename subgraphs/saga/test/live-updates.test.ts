/**
 * Live saga updates come from the orchestrator as soon as it records a step, not from the read
 * model: with every replica's projection stopped, a subscriber still follows a saga to its end,
 * each step once and in order, whichever replica recorded it.
 */
import {
  type GraphQLAnswer,
  subscriptionClient,
  type TestSubscriptionClient,
} from '@magasin/subgraph-kit/testing';
import { eventually } from '@magasin/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALICE,
  ITEMS,
  SAGA_FIELDS,
  type SagaAnswer,
  type SagaFixture,
  startSagaFixture,
  stepNames,
  TOTAL_CENTS,
} from './fixture.ts';

let fixture: SagaFixture;
let client: TestSubscriptionClient;
beforeAll(async () => {
  fixture = await startSagaFixture('saga_live_updates', { replicas: 2 });
  client = subscriptionClient(fixture.replicas[0]?.url as string, { identity: ALICE });
});
afterAll(async () => {
  await client?.close();
  await fixture?.stop();
});

const ORDER_SAGA = `subscription ($orderId: ID!) { orderSaga(orderId: $orderId) { ${SAGA_FIELDS} } }`;

describe('live saga updates', () => {
  it('reach a subscriber as the orchestrator records each step, while the read model stands still', async () => {
    const orderId = await fixture.placeOrder();
    await fixture.waitForSaga(orderId, (saga) => saga.steps.length === 1, 'started');
    const received: GraphQLAnswer<{ orderSaga: SagaAnswer }>[] = [];
    const done = client.collect<{ orderSaga: SagaAnswer }>(
      ORDER_SAGA,
      { orderId },
      { onNext: (answer) => received.push(answer), timeoutMs: 30_000 },
    );
    await eventually(() => (received.length > 0 ? true : undefined), { what: 'the current state' });

    // From here on, no projection applies anything, so none publishes anything either.
    await Promise.all(fixture.replicas.map((replica) => replica.deps.projector.stop()));

    const paymentId = `pay-${orderId}`;
    const steps: [string, () => Promise<unknown>][] = [
      ['StockReserved', () => fixture.emit(orderId, 'StockReserved', { orderId, items: ITEMS })],
      [
        'PaymentCaptured',
        () => fixture.emit(orderId, 'PaymentCaptured', { paymentId, orderId, amountCents: TOTAL_CENTS }),
      ],
      [
        'OrderConfirmed',
        () => fixture.emit(orderId, 'OrderConfirmed', { orderId, paymentId, totalCents: TOTAL_CENTS }),
      ],
      ['StockCommitted', () => fixture.emit(orderId, 'StockCommitted', { orderId, items: ITEMS })],
      [
        'SaleRecorded',
        () =>
          fixture.emit(orderId, 'SaleRecorded', {
            saleId: `sale-${orderId}`,
            orderId,
            customerId: ALICE.sub,
            amountCents: TOTAL_CENTS,
          }),
      ],
    ];
    for (const [name, emit] of steps) {
      await emit();
      // Each step reaches the subscriber before the next event is sent.
      await eventually(
        () => (stepNames(received.at(-1)?.data?.orderSaga ?? null).includes(name) ? true : undefined),
        { what: `${name} on the subscription`, timeoutMs: 15_000 },
      );
    }

    const answers = await done;
    const timelines = answers.map((answer) => stepNames(answer.data?.orderSaga ?? null));
    const path = ['OrderPlaced', ...steps.map(([name]) => name), 'SagaCompleted'];
    expect(timelines).toEqual(path.map((_, index) => path.slice(0, index + 1)));
    expect(answers.at(-1)?.data?.orderSaga.status).toBe('COMPLETED');
    // The read model never saw past the first step.
    expect(stepNames(await fixture.saga(orderId))).toEqual(['OrderPlaced']);
  });
});
