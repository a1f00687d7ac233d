/**
 * The inventory stream's writer on a real event store: commands that arrive together are
 * decided in shared turns and appended together, each on the state the earlier ones left; a
 * refused command fails alone; two writers (replicas) on the one stream lose nothing.
 */
import { newEventId } from '@magasin/events';
import { DomainError } from '@magasin/subgraph-kit';
import { startTestBackbone, type TestBackbone } from '@magasin/subgraph-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVENTORY_STREAM, type InventoryStream, openInventoryStream } from '../src/inventory-stream.ts';

let backbone: TestBackbone;
let writer: InventoryStream;

beforeAll(async () => {
  backbone = await startTestBackbone('inventory_stream');
  writer = openInventoryStream(backbone.eventStore);
});
afterAll(async () => {
  await backbone?.stop();
});

const by = (orderId = newEventId()) => ({ correlationId: orderId, causationId: null, actor: 'test' });

const createProduct = async (stream: InventoryStream, initialStock: number): Promise<string> => {
  const productId = newEventId();
  await stream.handle(
    {
      type: 'CreateProduct',
      data: { productId, sku: `SKU-${productId}`, name: 'Lamp', priceCents: 100, initialStock },
    },
    by(),
  );
  return productId;
};

const available = async (stream: InventoryStream, productId: string): Promise<number> => {
  // A command that decides nothing answers with the current state.
  const { state } = await stream.handle({ type: 'CommitStock', data: { orderId: newEventId() } }, by());
  return state.products.get(productId)?.available ?? Number.NaN;
};

describe('the inventory stream writer', () => {
  it('decides 30 reservations sent together on 10 units in shared turns: 10 reserved, 20 rejected', async () => {
    const productId = await createProduct(writer, 10);
    const before = writer.stats();
    const orderIds = Array.from({ length: 30 }, () => newEventId());
    const results = await Promise.all(
      orderIds.map((orderId) =>
        writer.handle(
          { type: 'ReserveStock', data: { orderId, lines: [{ productId, quantity: 1 }] } },
          by(orderId),
        ),
      ),
    );
    const types = results.map((result) => result.events.map((event) => event.type));
    expect(types.filter(([type]) => type === 'StockReserved')).toHaveLength(10);
    expect(types.filter(([type]) => type === 'StockReservationRejected')).toHaveLength(20);
    // Each event carries its own command's correlation id, in the order the commands were sent.
    expect(results.map((result) => result.events[0]?.correlationId)).toEqual(orderIds);
    const positions = results.map((result) => result.events[0]?.position ?? 0);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(writer.stats().turns - before.turns).toBeLessThan(30);
    expect(await available(writer, productId)).toBe(0);
  });

  it('fails a refused command alone: the others of its turn are appended', async () => {
    const productId = await createProduct(writer, 0);
    const outcomes = await Promise.allSettled([
      writer.handle({ type: 'RestockProduct', data: { productId, quantity: 3 } }, by()),
      writer.handle({ type: 'RestockProduct', data: { productId: newEventId(), quantity: 3 } }, by()),
      writer.handle({ type: 'RestockProduct', data: { productId, quantity: -1 } }, by()),
      writer.handle({ type: 'RestockProduct', data: { productId, quantity: 4 } }, by()),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
    const codes = outcomes.map((outcome) =>
      outcome.status === 'rejected' ? (outcome.reason as DomainError).code : 'ok',
    );
    expect(codes).toEqual(['ok', 'NOT_FOUND', 'BAD_USER_INPUT', 'ok']);
    expect(outcomes[1]?.status === 'rejected' && outcomes[1].reason).toBeInstanceOf(DomainError);
    expect(await available(writer, productId)).toBe(7);
  });

  it('loses nothing when two writers (replicas) append to the stream at once', async () => {
    const replica = openInventoryStream(backbone.eventStore);
    const productId = await createProduct(writer, 0);
    await Promise.all(
      Array.from({ length: 80 }, (_, index) =>
        (index % 2 === 0 ? writer : replica).handle(
          { type: 'RestockProduct', data: { productId, quantity: 1 } },
          by(),
        ),
      ),
    );
    expect(await available(writer, productId)).toBe(80);
    expect(await available(replica, productId)).toBe(80);
    const stored = await backbone.eventStore.readStream(INVENTORY_STREAM);
    const restocks = stored.events.filter(
      (event) =>
        event.type === 'ProductRestocked' && (event.data as { productId: string }).productId === productId,
    );
    expect(restocks).toHaveLength(80);
  });

  it('fails every command of a turn when the event store cannot be reached, and stores nothing', async () => {
    const { createEventStoreClient } = await import('@magasin/event-store/client');
    const unreachable = openInventoryStream(
      createEventStoreClient({ url: 'http://127.0.0.1:9', secret: 'x', caller: 'inventory' }),
    );
    const outcomes = await Promise.allSettled(
      [1, 2].map(() =>
        unreachable.handle({ type: 'RestockProduct', data: { productId: newEventId(), quantity: 1 } }, by()),
      ),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect(String((outcomes[0] as PromiseRejectedResult).reason)).toMatch(/event store|ECONNREFUSED|fetch/i);
  });
});
