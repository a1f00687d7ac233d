/**
 * Live saga updates come from the orchestrator as soon as it records a step, not from the read
 * model: with every replica's projection stopped, a subscriber still follows a saga to its end,
 * each step once and in order, whichever replica recorded it.
 */

import { EXCHANGES } from '@magasin/events';
import {
  type GraphQLAnswer,
  subscriptionClient,
  type TestSubscriptionClient,
} from '@magasin/subgraph-kit/testing';
import { eventually } from '@magasin/test-kit';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALICE,
  happyPath,
  recorded,
  SAGA_FIELDS,
  type SagaAnswer,
  type SagaFixture,
  startSagaFixture,
  stepNames,
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

/** Sends the happy path, each event once the saga stream has recorded the previous one. */
const driveHappyPath = async (on: SagaFixture, orderId: string) => {
  for (const [name, emit] of happyPath(on, orderId)) {
    await emit();
    await on.waitForSagaEvents(orderId, (events) => recorded(events, name), name);
  }
};

describe('live saga updates', () => {
  it('are published once per step by one replica, not again by its projection', async () => {
    const single = await startSagaFixture('saga_live_single');
    const connection = await amqp.connect(single.backbone.rabbitmqUrl);
    try {
      const channel = await connection.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      await channel.bindQueue(queue, EXCHANGES.sagaUpdates, '');
      const versions: number[] = [];
      const orderId = await single.placeOrder();
      await channel.consume(
        queue,
        (message) => {
          if (!message) return;
          const update = JSON.parse(message.content.toString('utf8')) as { sagaId: string; version: number };
          if (update.sagaId === orderId) versions.push(update.version);
        },
        { noAck: true },
      );
      await driveHappyPath(single, orderId);
      await single.waitForSaga(orderId, (saga) => saga.status === 'COMPLETED', 'COMPLETED');
      // The projection has applied every step by now. It republishes none of the orchestrator's
      // updates, unless it applied a step before the orchestrator got its own append's answer
      // (both come from the event store): now and then one, never all 7 again.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(new Set(versions)).toEqual(new Set([1, 2, 3, 4, 5, 6, 7]));
      expect(versions.length).toBeLessThanOrEqual(9);
    } finally {
      await connection.close();
      await single.stop();
    }
  });

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

    const steps = happyPath(fixture, orderId);
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

  it('reach a subscriber that comes after the saga ended while the read model stood still', async () => {
    await Promise.all(fixture.replicas.map((replica) => replica.deps.projector.stop()));
    const orderId = await fixture.placeOrder();
    await driveHappyPath(fixture, orderId);
    await fixture.waitForSagaEvents(
      orderId,
      (events) => events.some((event) => event.type === 'SagaCompleted'),
      'SagaCompleted',
    );

    // The read model does not have the saga, and re-reading it (every 2 s here) would never end
    // this subscription: the saga's end comes from the updates the replica saw go by.
    const answers = await client.collect<{ orderSaga: SagaAnswer }>(
      ORDER_SAGA,
      { orderId },
      { timeoutMs: 15_000 },
    );
    expect(answers.map((answer) => answer.data?.orderSaga.status)).toEqual(['COMPLETED']);
    expect(stepNames(answers[0]?.data?.orderSaga ?? null)).toEqual([
      'OrderPlaced',
      ...happyPath(fixture, orderId).map(([name]) => name),
      'SagaCompleted',
    ]);
    expect(await fixture.saga(orderId)).toBeNull();
  });
});
