/** Order as a federation entity: batched reference resolution, visibility, SDL. */
import type { Histogram } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alice, bob, codeOf, type OrderData, type StoreHarness, startStoreHarness, TEA } from './harness.ts';

let h: StoreHarness;
beforeAll(async () => {
  h = await startStoreHarness('store_federation');
});
afterAll(async () => {
  await h?.stop();
});

describe('federation', () => {
  const ENTITIES = `query ($representations: [_Any!]!) {
    _entities(representations: $representations) { ... on Order { id customerId status totalCents lines { product { id } quantity } } }
  }`;

  const batches = async () => {
    const metric = h.registry.getSingleMetric('magasin_store_order_batch_size') as Histogram;
    const { values } = await metric.get();
    const value = (name: string) => values.find((v) => v.metricName === name)?.value ?? 0;
    return {
      count: value('magasin_store_order_batch_size_count'),
      sum: value('magasin_store_order_batch_size_sum'),
    };
  };

  it('resolves a list of Order entities with one batched read, lines pointing at Product stubs', async () => {
    const orders = [
      await h.placeOrder(alice),
      await h.placeOrder(alice),
      await h.placeOrder(alice, { lines: [{ productId: TEA, quantity: 2 }] }),
    ];
    await Promise.all(orders.map((order) => h.projected(order.id)));
    const before = await batches();
    const answer = await h.as(alice)<{ _entities: OrderData[] }>(ENTITIES, {
      representations: orders.map((order) => ({ __typename: 'Order', id: order.id })),
    });
    expect(answer.errors).toBeUndefined();
    expect(answer.data?._entities.map((order) => order.id)).toEqual(orders.map((order) => order.id));
    expect(answer.data?._entities[2]).toMatchObject({
      customerId: 'alice',
      status: 'PENDING',
      lines: [{ product: { id: TEA }, quantity: 2 }],
    });
    expect(await batches()).toEqual({ count: before.count + 1, sum: before.sum + 3 });
  });

  it("does not resolve someone else's order as an entity", async () => {
    const order = await h.placeOrder(alice);
    await h.projected(order.id);
    const answer = await h.as(bob)<{ _entities: (OrderData | null)[] }>(ENTITIES, {
      representations: [{ __typename: 'Order', id: order.id }],
    });
    expect(answer.data?._entities).toEqual([null]);
    expect(codeOf(answer)).toBe('FORBIDDEN');
  });

  it('publishes a Federation 2 SDL with Order as an entity and Product as a stub', async () => {
    const answer = await h.as()<{ _service: { sdl: string } }>('{ _service { sdl } }');
    const sdl = answer.data?._service.sdl ?? '';
    expect(sdl).toMatch(/type Order\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/type Product\s+@key\(fields: "id", resolvable: false\)/);
  });
});
