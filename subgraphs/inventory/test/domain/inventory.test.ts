import { DomainError, given } from '@magasin/subgraph-kit';
import { describe, expect, it } from 'vitest';
import { type InventoryEvent, inventoryDecider, type ProductStock } from '../../src/domain/inventory.ts';

const kettle: InventoryEvent = {
  type: 'ProductCreated',
  data: { productId: 'p-kettle', sku: 'KET-1', name: 'Kettle', priceCents: 2999, initialStock: 5 },
};
const teapot: InventoryEvent = {
  type: 'ProductCreated',
  data: { productId: 'p-teapot', sku: 'TEA-1', name: 'Teapot', priceCents: 1500, initialStock: 2 },
};
const reserved = (orderId: string, items: { productId: string; quantity: number }[]): InventoryEvent => ({
  type: 'StockReserved',
  data: { orderId, items },
});
const committed = (orderId: string, items: { productId: string; quantity: number }[]): InventoryEvent => ({
  type: 'StockCommitted',
  data: { orderId, items },
});

/** The DomainError `run` throws (fails the test when it throws nothing). */
const errorOf = (run: () => unknown): DomainError => {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError, nothing was thrown');
};

const levels = (product: ProductStock | undefined) =>
  product && { available: product.available, reserved: product.reserved, sold: product.sold };

describe('creating products', () => {
  it('creates a product with its initial stock available, name and sku trimmed', () => {
    const events = given(inventoryDecider).when({
      type: 'CreateProduct',
      data: { productId: 'p1', sku: ' MUG-1 ', name: ' Mug ', priceCents: 0, initialStock: 0 },
    });
    expect(events).toEqual([
      {
        type: 'ProductCreated',
        data: { productId: 'p1', sku: 'MUG-1', name: 'Mug', priceCents: 0, initialStock: 0 },
      },
    ]);
    expect(levels(given(inventoryDecider, events).state().products.get('p1'))).toEqual({
      available: 0,
      reserved: 0,
      sold: 0,
    });
  });

  it('refuses a sku already used by another product (CONFLICT)', () => {
    const error = errorOf(() =>
      given(inventoryDecider, [kettle]).when({
        type: 'CreateProduct',
        data: { productId: 'p2', sku: 'KET-1', name: 'Other kettle', priceCents: 100, initialStock: 1 },
      }),
    );
    expect(error.code).toBe('CONFLICT');
    expect(error.details).toMatchObject({ sku: 'KET-1', productId: 'p-kettle' });
  });

  it.each([
    ['a negative price', { priceCents: -1 }],
    ['a negative initial stock', { initialStock: -3 }],
    ['an empty sku', { sku: '   ' }],
    ['an empty name', { name: '' }],
  ])('refuses %s (BAD_USER_INPUT)', (_, change) => {
    const data = { productId: 'p1', sku: 'MUG-1', name: 'Mug', priceCents: 100, initialStock: 1, ...change };
    expect(errorOf(() => given(inventoryDecider).when({ type: 'CreateProduct', data })).code).toBe(
      'BAD_USER_INPUT',
    );
  });
});

describe('restocking', () => {
  it('adds the quantity to the available units', () => {
    const events = given(inventoryDecider, [kettle]).when({
      type: 'RestockProduct',
      data: { productId: 'p-kettle', quantity: 3 },
    });
    expect(events).toEqual([{ type: 'ProductRestocked', data: { productId: 'p-kettle', quantity: 3 } }]);
    expect(
      given(inventoryDecider, [kettle, ...events])
        .state()
        .products.get('p-kettle')?.available,
    ).toBe(8);
  });

  it('refuses a quantity of 0 or less (BAD_USER_INPUT) and an unknown product (NOT_FOUND)', () => {
    const inventory = given(inventoryDecider, [kettle]);
    expect(
      errorOf(() => inventory.when({ type: 'RestockProduct', data: { productId: 'p-kettle', quantity: 0 } }))
        .code,
    ).toBe('BAD_USER_INPUT');
    expect(
      errorOf(() => inventory.when({ type: 'RestockProduct', data: { productId: 'p-kettle', quantity: -2 } }))
        .code,
    ).toBe('BAD_USER_INPUT');
    expect(
      errorOf(() => inventory.when({ type: 'RestockProduct', data: { productId: 'nope', quantity: 1 } }))
        .code,
    ).toBe('NOT_FOUND');
  });

  it('refuses a restock that would overflow a stock level', () => {
    const error = errorOf(() =>
      given(inventoryDecider, [kettle]).when({
        type: 'RestockProduct',
        data: { productId: 'p-kettle', quantity: 2_147_483_647 },
      }),
    );
    expect(error.code).toBe('BAD_USER_INPUT');
  });
});

describe('reserving an order', () => {
  it('reserves every line when all are available, lines of the same product merged', () => {
    const events = given(inventoryDecider, [kettle, teapot]).when({
      type: 'ReserveStock',
      data: {
        orderId: 'o1',
        lines: [
          { productId: 'p-kettle', quantity: 2 },
          { productId: 'p-teapot', quantity: 2 },
          { productId: 'p-kettle', quantity: 1 },
        ],
      },
    });
    expect(events).toEqual([
      reserved('o1', [
        { productId: 'p-kettle', quantity: 3 },
        { productId: 'p-teapot', quantity: 2 },
      ]),
    ]);
    const after = given(inventoryDecider, [kettle, teapot, ...events]).state();
    expect(levels(after.products.get('p-kettle'))).toEqual({ available: 2, reserved: 3, sold: 0 });
    expect(levels(after.products.get('p-teapot'))).toEqual({ available: 0, reserved: 2, sold: 0 });
  });

  it('reserves nothing when one line is short, and names every shortage', () => {
    const events = given(inventoryDecider, [kettle, teapot]).when({
      type: 'ReserveStock',
      data: {
        orderId: 'o1',
        lines: [
          { productId: 'p-kettle', quantity: 1 },
          { productId: 'p-teapot', quantity: 3 },
        ],
      },
    });
    expect(events).toEqual([
      {
        type: 'StockReservationRejected',
        data: {
          orderId: 'o1',
          reason: 'INSUFFICIENT_STOCK',
          shortages: [{ productId: 'p-teapot', requested: 3, available: 2 }],
        },
      },
    ]);
    const after = given(inventoryDecider, [kettle, teapot, ...events]).state();
    expect(after.products.get('p-kettle')?.available).toBe(5);
  });

  it('rejects an order of an unknown product as a shortage with nothing available', () => {
    const events = given(inventoryDecider, [kettle]).when({
      type: 'ReserveStock',
      data: { orderId: 'o1', lines: [{ productId: 'ghost', quantity: 1 }] },
    });
    expect(events).toEqual([
      {
        type: 'StockReservationRejected',
        data: {
          orderId: 'o1',
          reason: 'UNKNOWN_PRODUCT',
          shortages: [{ productId: 'ghost', requested: 1, available: 0 }],
        },
      },
    ]);
  });

  it('never oversells: a second order for the last units is rejected', () => {
    const events = given(inventoryDecider, [
      teapot,
      reserved('o1', [{ productId: 'p-teapot', quantity: 2 }]),
    ]).when({
      type: 'ReserveStock',
      data: { orderId: 'o2', lines: [{ productId: 'p-teapot', quantity: 1 }] },
    });
    expect(events[0]?.type).toBe('StockReservationRejected');
  });

  it('decides an order once: a redelivered order is neither reserved nor rejected again, whatever its state', () => {
    const command = {
      type: 'ReserveStock' as const,
      data: { orderId: 'o1', lines: [{ productId: 'p-kettle', quantity: 1 }] },
    };
    const r = reserved('o1', [{ productId: 'p-kettle', quantity: 1 }]);
    expect(given(inventoryDecider, [kettle, r]).when(command)).toEqual([]);
    expect(
      given(inventoryDecider, [kettle, r, committed('o1', [{ productId: 'p-kettle', quantity: 1 }])]).when(
        command,
      ),
    ).toEqual([]);
    const released: InventoryEvent = {
      type: 'StockReleased',
      data: { orderId: 'o1', items: [{ productId: 'p-kettle', quantity: 1 }], reason: 'PAYMENT_DECLINED' },
    };
    expect(given(inventoryDecider, [kettle, r, released]).when(command)).toEqual([]);
    const rejected: InventoryEvent = {
      type: 'StockReservationRejected',
      data: {
        orderId: 'o1',
        reason: 'INSUFFICIENT_STOCK',
        shortages: [{ productId: 'p-kettle', requested: 9, available: 5 }],
      },
    };
    expect(given(inventoryDecider, [kettle, rejected]).when(command)).toEqual([]);
  });
});

describe('releasing and committing', () => {
  const past = [kettle, reserved('o1', [{ productId: 'p-kettle', quantity: 2 }])];

  it('releases a reservation back to available', () => {
    const events = given(inventoryDecider, past).when({
      type: 'ReleaseStock',
      data: { orderId: 'o1', reason: 'PAYMENT_DECLINED' },
    });
    expect(events).toEqual([
      {
        type: 'StockReleased',
        data: { orderId: 'o1', items: [{ productId: 'p-kettle', quantity: 2 }], reason: 'PAYMENT_DECLINED' },
      },
    ]);
    expect(
      levels(
        given(inventoryDecider, [...past, ...events])
          .state()
          .products.get('p-kettle'),
      ),
    ).toEqual({
      available: 5,
      reserved: 0,
      sold: 0,
    });
  });

  it('commits a reservation as sold', () => {
    const events = given(inventoryDecider, past).when({ type: 'CommitStock', data: { orderId: 'o1' } });
    expect(events).toEqual([committed('o1', [{ productId: 'p-kettle', quantity: 2 }])]);
    expect(
      levels(
        given(inventoryDecider, [...past, ...events])
          .state()
          .products.get('p-kettle'),
      ),
    ).toEqual({
      available: 3,
      reserved: 0,
      sold: 2,
    });
  });

  it('releases nothing that is not reserved: unknown, rejected, released twice, or already sold', () => {
    const release = { type: 'ReleaseStock' as const, data: { orderId: 'o1', reason: 'CUSTOMER_REQUEST' } };
    expect(given(inventoryDecider, [kettle]).when(release)).toEqual([]);
    const released = given(inventoryDecider, past).when(release);
    expect(given(inventoryDecider, [...past, ...released]).when(release)).toEqual([]);
    expect(
      given(inventoryDecider, [...past, committed('o1', [{ productId: 'p-kettle', quantity: 2 }])]).when(
        release,
      ),
    ).toEqual([]);
  });

  it('commits nothing twice, nor a released order', () => {
    const commit = { type: 'CommitStock' as const, data: { orderId: 'o1' } };
    expect(
      given(inventoryDecider, [...past, committed('o1', [{ productId: 'p-kettle', quantity: 2 }])]).when(
        commit,
      ),
    ).toEqual([]);
    const released = given(inventoryDecider, past).when({
      type: 'ReleaseStock',
      data: { orderId: 'o1', reason: 'SAGA_TIMED_OUT' },
    });
    expect(given(inventoryDecider, [...past, ...released]).when(commit)).toEqual([]);
    expect(given(inventoryDecider, [kettle]).when(commit)).toEqual([]);
  });
});

describe('returns', () => {
  const sold = [
    kettle,
    reserved('o1', [{ productId: 'p-kettle', quantity: 3 }]),
    committed('o1', [{ productId: 'p-kettle', quantity: 3 }]),
  ];
  const restock = (returnId: string, quantity: number) => ({
    type: 'ReturnStock' as const,
    data: { orderId: 'o1', returnId, items: [{ productId: 'p-kettle', quantity }] },
  });

  it('puts returned units back on the shelf: sold decreases, available increases', () => {
    const events = given(inventoryDecider, sold).when(restock('r1', 2));
    expect(events).toEqual([
      {
        type: 'StockReturned',
        data: { orderId: 'o1', returnId: 'r1', items: [{ productId: 'p-kettle', quantity: 2 }] },
      },
    ]);
    expect(
      levels(
        given(inventoryDecider, [...sold, ...events])
          .state()
          .products.get('p-kettle'),
      ),
    ).toEqual({
      available: 4,
      reserved: 0,
      sold: 1,
    });
  });

  it('applies a return once per returnId', () => {
    const events = given(inventoryDecider, sold).when(restock('r1', 2));
    expect(given(inventoryDecider, [...sold, ...events]).when(restock('r1', 2))).toEqual([]);
  });

  it('refuses to return more than the order bought (BAD_USER_INPUT), counting earlier returns', () => {
    expect(errorOf(() => given(inventoryDecider, sold).when(restock('r1', 4))).code).toBe('BAD_USER_INPUT');
    const first = given(inventoryDecider, sold).when(restock('r1', 2));
    const error = errorOf(() => given(inventoryDecider, [...sold, ...first]).when(restock('r2', 2)));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.details).toMatchObject({ returnable: 1, requested: 2 });
  });

  it('refuses a return for an order with nothing sold yet (CONFLICT, so the bus retries it)', () => {
    expect(errorOf(() => given(inventoryDecider, sold.slice(0, 2)).when(restock('r1', 1))).code).toBe(
      'CONFLICT',
    );
    expect(errorOf(() => given(inventoryDecider, [kettle]).when(restock('r1', 1))).code).toBe('CONFLICT');
  });
});

describe('conservation', () => {
  it('keeps available + reserved + sold = initial + restocks through every move (a return moves sold back)', () => {
    let past: InventoryEvent[] = [kettle];
    const step = (command: Parameters<typeof inventoryDecider.decide>[0]) => {
      past = [...past, ...given(inventoryDecider, past).when(command)];
    };
    step({ type: 'RestockProduct', data: { productId: 'p-kettle', quantity: 4 } });
    for (const orderId of ['a', 'b', 'c', 'd', 'e']) {
      step({ type: 'ReserveStock', data: { orderId, lines: [{ productId: 'p-kettle', quantity: 2 }] } });
    }
    step({ type: 'CommitStock', data: { orderId: 'a' } });
    step({ type: 'CommitStock', data: { orderId: 'b' } });
    step({ type: 'ReleaseStock', data: { orderId: 'c', reason: 'PAYMENT_DECLINED' } });
    step({
      type: 'ReturnStock',
      data: { orderId: 'a', returnId: 'ra', items: [{ productId: 'p-kettle', quantity: 1 }] },
    });
    const product = given(inventoryDecider, past).state().products.get('p-kettle');
    // 5 initial + 4 restocked = 9 units in all; 'e' was rejected (only 1 unit left when it came).
    expect(levels(product)).toEqual({ available: 4, reserved: 2, sold: 3 });
    expect(past.filter((e) => e.type === 'StockReservationRejected')).toHaveLength(1);
  });
});
