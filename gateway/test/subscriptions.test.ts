import type { Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../src/server.ts';
import { WS_CLOSE_CODES } from '../src/subscriptions/websocket.ts';
import { type FixtureSaga, type FixtureSubgraphs, startFixtureSubgraphs } from './fixture/subgraphs.ts';
import { codes, startTestGateway, subscribe, token, wsClient } from './helpers.ts';

let fixture: FixtureSubgraphs;
let gateway: RunningGateway;
let alice: string;
let bob: string;
let admin: string;
const clients: Client[] = [];

/** A client that the test's end disposes. */
const client = (bearer?: string) => {
  const created = wsClient(gateway, bearer);
  clients.push(created);
  return created;
};

const followOrder = `subscription FollowOrder($orderId: ID!) {
  orderSaga(orderId: $orderId) {
    status
    steps { name }
    order { totalCents lines { quantity product { name } } }
  }
}`;

let sequence = 0;
/** A fresh order of alice's, with a running saga. */
const newOrder = (customerId = 'alice'): string => {
  sequence += 1;
  const id = `order-${sequence}`;
  fixture.world.orders.set(id, {
    id,
    customerId,
    lines: [
      { productId: 'p1', quantity: 2 },
      { productId: 'p2', quantity: 1 },
    ],
    status: 'PENDING',
  });
  fixture.world.sagas.publish(saga(id, 'RUNNING', ['OrderPlaced']));
  return id;
};

const saga = (id: string, status: FixtureSaga['status'], steps: string[]): FixtureSaga => ({
  id,
  status,
  steps: steps.map((name) => ({ name, status: 'DONE' })),
});

const expected = (status: string, steps: string[], kettle = 'Kettle') => ({
  data: {
    orderSaga: {
      status,
      steps: steps.map((name) => ({ name })),
      order: {
        totalCents: 6_800,
        lines: [
          { quantity: 2, product: { name: kettle } },
          { quantity: 1, product: { name: 'Teapot' } },
        ],
      },
    },
  },
});

beforeAll(async () => {
  fixture = await startFixtureSubgraphs();
  gateway = await startTestGateway(fixture);
  [alice, bob, admin] = await Promise.all([
    token('alice', ['customer']),
    token('bob', ['customer']),
    token('ada', ['admin']),
  ]);
});
beforeEach(() => {
  fixture.world.products.set('p1', { id: 'p1', name: 'Kettle', priceCents: 2_500, available: 4 });
  fixture.world.products.set('p2', { id: 'p2', name: 'Teapot', priceCents: 1_800, available: 9 });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((created) => created.dispose()));
});
afterAll(async () => {
  await gateway?.stop();
  await fixture?.stop();
});

describe('federated subscriptions', () => {
  it('resolves the fields of other subgraphs on every update, current state first, until terminal', async () => {
    const orderId = newOrder();
    const subscription = subscribe(client(alice), followOrder, { orderId });
    expect(await subscription.received(1)).toEqual([expected('RUNNING', ['OrderPlaced'])]);

    fixture.world.sagas.publish(saga(orderId, 'RUNNING', ['OrderPlaced', 'StockReserved']));
    await subscription.received(2);
    // Every event is resolved anew: a name changed in the catalog shows in the next update.
    fixture.world.products.set('p1', { id: 'p1', name: 'Kettle v2', priceCents: 2_500, available: 4 });
    fixture.world.sagas.publish(
      saga(orderId, 'COMPLETED', ['OrderPlaced', 'StockReserved', 'PaymentCaptured']),
    );

    expect(await subscription.ended).toBeUndefined();
    expect(subscription.results).toEqual([
      expected('RUNNING', ['OrderPlaced']),
      expected('RUNNING', ['OrderPlaced', 'StockReserved']),
      expected('COMPLETED', ['OrderPlaced', 'StockReserved', 'PaymentCaptured'], 'Kettle v2'),
    ]);
    await expect.poll(() => fixture.world.sagas.active).toBe(0);
  });

  it("relays the owning subgraph's refusal as a GraphQL error: someone else's order", async () => {
    const orderId = newOrder();
    const subscription = subscribe(client(bob), followOrder, { orderId });
    expect(await subscription.ended).toBeUndefined();
    expect(subscription.results).toHaveLength(1);
    expect(subscription.results[0]?.data).toBeNull();
    expect(codes(subscription.results[0] ?? {})).toEqual(['FORBIDDEN']);
    expect(subscription.results[0]?.errors?.[0]?.message).toBe(
      `order ${orderId} belongs to another customer`,
    );
  });

  it('relays UNAUTHENTICATED for an anonymous subscriber and NOT_FOUND for an unknown order', async () => {
    const anonymous = subscribe(client(), followOrder, { orderId: newOrder() });
    await anonymous.ended;
    expect(codes(anonymous.results[0] ?? {})).toEqual(['UNAUTHENTICATED']);
    const unknown = subscribe(client(alice), followOrder, { orderId: 'no-such-order' });
    await unknown.ended;
    expect(codes(unknown.results[0] ?? {})).toEqual(['NOT_FOUND']);
  });

  it('ends the upstream subscription when the client leaves', async () => {
    const orderId = newOrder();
    const before = fixture.world.sagas.active;
    const subscription = subscribe(client(alice), followOrder, { orderId });
    await subscription.received(1);
    expect(fixture.world.sagas.active).toBe(before + 1);
    subscription.unsubscribe();
    await expect.poll(() => fixture.world.sagas.active).toBe(before);
  });

  it('ends the upstream subscription when the client disconnects', async () => {
    const orderId = newOrder();
    const before = fixture.world.sagas.active;
    const leaving = client(alice);
    await subscribe(leaving, followOrder, { orderId }).received(1);
    await leaving.dispose();
    await expect.poll(() => fixture.world.sagas.active).toBe(before);
  });

  it('serves many clients of one saga with one upstream subscription and one resolution per update', async () => {
    const orderId = newOrder();
    const openedBefore = fixture.world.sagas.opened;
    const subscriptions = Array.from({ length: 25 }, () =>
      subscribe(client(alice), followOrder, { orderId }),
    );
    for (const subscription of subscriptions) {
      expect(await subscription.received(1)).toEqual([expected('RUNNING', ['OrderPlaced'])]);
    }
    expect(fixture.world.sagas.opened).toBe(openedBefore + 1);

    const storeRequests = () =>
      fixture.world.requests.filter((request) => request.subgraph === 'store').length;
    const storeBefore = storeRequests();
    fixture.world.sagas.publish(saga(orderId, 'RUNNING', ['OrderPlaced', 'StockReserved']));
    for (const subscription of subscriptions) await subscription.received(2);
    expect(storeRequests() - storeBefore).toBe(1);

    // A late joiner gets the current state at once, from the shared subscription.
    const late = subscribe(client(alice), followOrder, { orderId });
    expect(await late.received(1)).toEqual([expected('RUNNING', ['OrderPlaced', 'StockReserved'])]);
    expect(fixture.world.sagas.opened).toBe(openedBefore + 1);

    for (const subscription of [...subscriptions, late]) subscription.unsubscribe();
    await expect.poll(() => fixture.world.sagas.active).toBe(0);
  });

  it('never shares a subscription between different users', async () => {
    const orderId = newOrder();
    const openedBefore = fixture.world.sagas.opened;
    const own = subscribe(client(alice), followOrder, { orderId });
    const admins = subscribe(client(admin), followOrder, { orderId });
    await Promise.all([own.received(1), admins.received(1)]);
    expect(fixture.world.sagas.opened).toBe(openedBefore + 2);
    expect(fixture.world.sagas.subscribers.slice(-2).sort()).toEqual(['ada', 'alice']);
  });
});

describe('the WebSocket endpoint', () => {
  it('closes a connection whose token is forged with 4401 and the reason', async () => {
    const forged = await token('mallory', ['admin'], { secret: 'not-the-gateway-secret-at-all' });
    const subscription = subscribe(client(forged), followOrder, { orderId: newOrder() });
    const closed = (await subscription.ended) as { code?: number; reason?: string };
    expect(closed.code).toBe(WS_CLOSE_CODES.unauthenticated);
    expect(closed.reason).toBe('UNAUTHENTICATED: the token signature is invalid');
    expect(subscription.results).toEqual([]);
  });

  it('applies the same limits as HTTP, with their codes', async () => {
    const wide = `subscription { orderSaga(orderId: "x") { ${Array.from({ length: 31 }, (_, i) => `s${i}: status`).join(' ')} } }`;
    const subscription = subscribe(client(alice), wide);
    const errors = (await subscription.ended) as { message: string; extensions?: Record<string, unknown> }[];
    expect(codes({ errors })).toEqual(['TOO_MANY_ALIASES']);
  });

  it('refuses an invalid operation with GRAPHQL_VALIDATION_FAILED', async () => {
    const subscription = subscribe(client(alice), 'subscription { orderSaga(orderId: "x") { nope } }');
    const errors = (await subscription.ended) as { message: string; extensions?: Record<string, unknown> }[];
    expect(codes({ errors })).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('runs queries too, with the connection identity', async () => {
    const orderId = newOrder();
    const subscription = subscribe(
      client(alice),
      `{ order(id: "${orderId}") { totalCents } products { name } }`,
    );
    expect(await subscription.ended).toBeUndefined();
    expect(subscription.results).toEqual([
      { data: { order: { totalCents: 6_800 }, products: [{ name: 'Kettle' }, { name: 'Teapot' }] } },
    ]);
  });
});

describe('WebSocket connection limits and lifetime', () => {
  it('refuses more operations at once than MAX_SUBSCRIPTIONS_PER_CONNECTION on one connection', async () => {
    const limited = await startTestGateway(fixture, { MAX_SUBSCRIPTIONS_PER_CONNECTION: '2' });
    const connection = wsClient(limited, alice);
    try {
      const open = [newOrder(), newOrder()].map((orderId) => subscribe(connection, followOrder, { orderId }));
      await Promise.all(open.map((subscription) => subscription.received(1)));
      const third = subscribe(connection, followOrder, { orderId: newOrder() });
      const errors = (await third.ended) as { extensions?: Record<string, unknown> }[];
      expect(codes({ errors })).toEqual(['TOO_MANY_SUBSCRIPTIONS']);
    } finally {
      await connection.dispose();
      await limited.stop();
    }
  });

  it('closes a connection with 4401 when its token expires', async () => {
    const shortLived = await token('alice', ['customer'], { ttl: '2s' });
    const subscription = subscribe(client(shortLived), followOrder, { orderId: newOrder() });
    await subscription.received(1);
    const closed = (await subscription.ended) as { code?: number; reason?: string };
    expect(closed).toMatchObject({
      code: WS_CLOSE_CODES.unauthenticated,
      reason: 'UNAUTHENTICATED: the token has expired',
    });
    await expect.poll(() => fixture.world.sagas.active).toBe(0);
  });

  it('closes its WebSockets with 1001 and their upstream subscriptions when it stops', async () => {
    const stopping = await startTestGateway(fixture);
    const connection = wsClient(stopping, alice);
    const subscription = subscribe(connection, followOrder, { orderId: newOrder() });
    await subscription.received(1);
    await stopping.stop();
    expect(await subscription.ended).toMatchObject({ code: WS_CLOSE_CODES.goingAway });
    await expect.poll(() => fixture.world.sagas.active).toBe(0);
    await connection.dispose();
  });
});
