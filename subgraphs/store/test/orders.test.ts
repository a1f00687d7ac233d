/** Placing, reading and cancelling orders through the store subgraph (see harness.ts). */
import { newEventId } from '@magasin/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderIdFor, orderStream } from '../src/domain/order-id.ts';
import {
  ada,
  alice,
  bob,
  CANCEL_ORDER,
  codeOf,
  MUG,
  ORDERS,
  type OrderData,
  PLACE_ORDER,
  type StoreHarness,
  startStoreHarness,
  TEA,
  UNKNOWN_ORDER,
} from './harness.ts';

let h: StoreHarness;
beforeAll(async () => {
  h = await startStoreHarness('store_orders');
});
afterAll(async () => {
  await h?.stop();
});

describe('placeOrder', () => {
  it('prices the order from the catalog, merges lines of one product, and appends OrderPlaced v2', async () => {
    const order = await h.placeOrder(alice, {
      lines: [
        { productId: MUG, quantity: 2 },
        { productId: TEA, quantity: 3 },
        { productId: MUG, quantity: 1 },
      ],
    });
    expect(order).toMatchObject({
      customerId: 'alice',
      status: 'PENDING',
      cancellationReason: null,
      currency: 'EUR',
      totalCents: 3 * 1_250 + 3 * 480,
      lines: [
        { product: { id: MUG }, quantity: 3, unitPriceCents: 1_250 },
        { product: { id: TEA }, quantity: 3, unitPriceCents: 480 },
      ],
    });
    const { events } = await h.backbone.eventStore.readStream(orderStream(order.id));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'OrderPlaced',
      schemaVersion: 2,
      actor: 'alice',
      correlationId: order.id,
      data: {
        orderId: order.id,
        customerId: 'alice',
        totalCents: 5_190,
        currency: 'EUR',
        paymentToken: 'tok_visa',
      },
    });
  });

  it('with an idempotencyKey, returns the same order and appends one OrderPlaced, even when retried concurrently', async () => {
    const input = { idempotencyKey: 'checkout-42', lines: [{ productId: TEA, quantity: 2 }] };
    const [first, ...retries] = await Promise.all([1, 2, 3].map(() => h.placeOrder(alice, input)));
    const again = await h.placeOrder(alice, input);
    for (const order of [...retries, again]) expect(order).toEqual(first);
    expect(await h.typesIn(first?.id ?? '')).toEqual(['OrderPlaced']);

    const bobs = await h.placeOrder(bob, input);
    expect(bobs.id).not.toBe(first?.id);
    expect(bobs.customerId).toBe('bob');
    expect(await h.typesIn(bobs.id)).toEqual(['OrderPlaced']);
  });

  it('refuses an empty order, a quantity of 0 and a blank token with BAD_USER_INPUT, and appends nothing', async () => {
    for (const [input, code] of [
      [{ lines: [] }, 'BAD_USER_INPUT'],
      [{ lines: [{ productId: MUG, quantity: 0 }] }, 'BAD_USER_INPUT'],
      [{ lines: [{ productId: MUG, quantity: -2 }] }, 'BAD_USER_INPUT'],
      [{ lines: [{ productId: MUG, quantity: 1 }], paymentToken: '' }, 'BAD_USER_INPUT'],
      [{ lines: [{ productId: MUG, quantity: 1 }], idempotencyKey: '   ' }, 'BAD_USER_INPUT'],
    ] as const) {
      const key = `refused-${newEventId()}`;
      const answer = await h.as(alice)(PLACE_ORDER, {
        input: { paymentToken: 'tok_visa', idempotencyKey: key, ...input },
      });
      expect(codeOf(answer), JSON.stringify(input)).toBe(code);
      expect(answer.data).toBeNull();
      if (!('idempotencyKey' in input)) expect(await h.typesIn(orderIdFor('alice', key))).toEqual([]);
    }
  });

  it('refuses an unknown product with NOT_FOUND naming it', async () => {
    const ghost = 'c0ffee00-0000-4000-8000-00000000beef';
    const answer = await h.as(alice)(PLACE_ORDER, {
      input: {
        lines: [
          { productId: MUG, quantity: 1 },
          { productId: ghost, quantity: 1 },
        ],
        paymentToken: 'tok_visa',
      },
    });
    expect(answer.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND', productIds: [ghost] } });
  });

  it('needs an identity (UNAUTHENTICATED) with the customer role (FORBIDDEN for an admin)', async () => {
    const input = { lines: [{ productId: MUG, quantity: 1 }], paymentToken: 'tok_visa' };
    expect(codeOf(await h.as()(PLACE_ORDER, { input }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await h.as(ada)(PLACE_ORDER, { input }))).toBe('FORBIDDEN');
    expect(codeOf(await h.as()(ORDERS))).toBe('UNAUTHENTICATED');
  });
});

describe('order and orders', () => {
  it("shows a customer their own orders, newest first, and an admin everyone's", async () => {
    const older = await h.placeOrder(bob);
    const newer = await h.placeOrder(bob, { lines: [{ productId: TEA, quantity: 1 }] });
    const carols = await h.placeOrder({ sub: 'carol', roles: ['customer'] });
    await Promise.all([older, newer, carols].map((order) => h.projected(order.id)));

    const mine =
      (await h.as(bob)<{ orders: { id: string; customerId: string }[] }>(ORDERS)).data?.orders ?? [];
    expect(mine.every((order) => order.customerId === 'bob')).toBe(true);
    const ids = mine.map((order) => order.id);
    expect(ids).toContain(older.id);
    expect(ids.indexOf(newer.id)).toBeLessThan(ids.indexOf(older.id));
    expect(ids).not.toContain(carols.id);

    const all =
      (await h.as(ada)<{ orders: { id: string; customerId: string }[] }>(ORDERS)).data?.orders ?? [];
    expect(all[0]?.id).toBe(carols.id);
    expect(new Set(all.map((order) => order.customerId))).toEqual(new Set(['alice', 'bob', 'carol']));
  });

  it("reads an order for its customer and an admin; FORBIDDEN for someone else's, NOT_FOUND when unknown", async () => {
    const order = await h.placeOrder(alice, { lines: [{ productId: TEA, quantity: 4 }] });
    await h.projected(order.id);
    expect((await h.readOrder(alice, order.id)).data?.order).toEqual(order);
    expect((await h.readOrder(ada, order.id)).data?.order).toEqual(order);
    expect(codeOf(await h.readOrder(bob, order.id))).toBe('FORBIDDEN');
    expect(codeOf(await h.readOrder(alice, UNKNOWN_ORDER))).toBe('NOT_FOUND');
    expect(codeOf(await h.readOrder(alice, 'not-a-uuid'))).toBe('BAD_USER_INPUT');
  });
});

describe('cancelOrder', () => {
  it('cancels a pending order of its customer (CUSTOMER_REQUEST); a second cancel is a CONFLICT', async () => {
    const order = await h.placeOrder(alice);
    const cancelled = await h.as(alice)<{ cancelOrder: OrderData }>(CANCEL_ORDER, { orderId: order.id });
    expect(cancelled.data?.cancelOrder).toEqual({
      ...order,
      status: 'CANCELLED',
      cancellationReason: 'CUSTOMER_REQUEST',
    });
    const { events } = await h.backbone.eventStore.readStream(orderStream(order.id));
    expect(events.at(-1)).toMatchObject({
      type: 'OrderCancelled',
      actor: 'alice',
      data: { orderId: order.id, reason: 'CUSTOMER_REQUEST' },
    });
    expect(codeOf(await h.as(alice)(CANCEL_ORDER, { orderId: order.id }))).toBe('CONFLICT');
    expect((await h.orderWithStatus(order.id, 'CANCELLED')).cancellationReason).toBe('CUSTOMER_REQUEST');
  });

  it("refuses someone else's order (FORBIDDEN) but lets an admin cancel it", async () => {
    const order = await h.placeOrder(bob);
    expect(codeOf(await h.as(alice)(CANCEL_ORDER, { orderId: order.id }))).toBe('FORBIDDEN');
    expect(await h.typesIn(order.id)).toEqual(['OrderPlaced']);
    const cancelled = await h.as(ada)<{ cancelOrder: OrderData }>(CANCEL_ORDER, { orderId: order.id });
    expect(cancelled.data?.cancelOrder.status).toBe('CANCELLED');
  });

  it('refuses an unknown order (NOT_FOUND) and an anonymous caller (UNAUTHENTICATED)', async () => {
    expect(codeOf(await h.as(alice)(CANCEL_ORDER, { orderId: UNKNOWN_ORDER }))).toBe('NOT_FOUND');
    expect(codeOf(await h.as()(CANCEL_ORDER, { orderId: UNKNOWN_ORDER }))).toBe('UNAUTHENTICATED');
  });
});
