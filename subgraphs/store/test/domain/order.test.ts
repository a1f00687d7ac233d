import { DomainError, given } from '@magasin/subgraph-kit';
import { describe, expect, it } from 'vitest';
import { type OrderCommand, type OrderEvent, orderDecider } from '../../src/domain/order.ts';
import { ORDER_ID_NAMESPACE, orderIdFor, requireOrderId } from '../../src/domain/order-id.ts';

const orderId = '0195a6c0-0000-7000-8000-000000000001';
const placedAt = '2026-11-25T10:00:00.000Z';
const prices = new Map([
  ['mug', 1_250],
  ['tea', 480],
]);

const place = (
  overrides: Partial<Extract<OrderCommand, { type: 'PlaceOrder' }>['data']> = {},
): OrderCommand => ({
  type: 'PlaceOrder',
  data: {
    orderId,
    customerId: 'alice',
    lines: [{ productId: 'mug', quantity: 2 }],
    paymentToken: 'tok_visa',
    placedAt,
    prices,
    ...overrides,
  },
});

const placed: OrderEvent = {
  type: 'OrderPlaced',
  data: {
    orderId,
    customerId: 'alice',
    lines: [{ productId: 'mug', quantity: 2, unitPriceCents: 1_250 }],
    totalCents: 2_500,
    currency: 'EUR',
    paymentToken: 'tok_visa',
    placedAt,
  },
};
const confirmed: OrderEvent = {
  type: 'OrderConfirmed',
  data: { orderId, paymentId: 'pay-1', totalCents: 2_500 },
};
const cancelled: OrderEvent = { type: 'OrderCancelled', data: { orderId, reason: 'PAYMENT_DECLINED' } };
const returned: OrderEvent = { type: 'OrderReturned', data: { orderId, returnId: 'ret-1' } };

const cancel = (
  requestedBy: Extract<OrderCommand, { type: 'CancelOrder' }>['data']['requestedBy'],
): OrderCommand => ({
  type: 'CancelOrder',
  data: { orderId, reason: 'CUSTOMER_REQUEST', requestedBy },
});

/** The DomainError code `decide` throws. */
const codeOf = (decision: () => unknown): string | undefined => {
  try {
    decision();
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
  return undefined;
};

describe('placing an order', () => {
  it('prices the lines from the catalog and totals them in EUR', () => {
    expect(
      given(orderDecider).when(
        place({
          lines: [
            { productId: 'mug', quantity: 2 },
            { productId: 'tea', quantity: 3 },
          ],
        }),
      ),
    ).toEqual([
      {
        type: 'OrderPlaced',
        data: {
          orderId,
          customerId: 'alice',
          lines: [
            { productId: 'mug', quantity: 2, unitPriceCents: 1_250 },
            { productId: 'tea', quantity: 3, unitPriceCents: 480 },
          ],
          totalCents: 3_940,
          currency: 'EUR',
          paymentToken: 'tok_visa',
          placedAt,
        },
      },
    ]);
  });

  it('merges lines of the same product into one', () => {
    const [event] = given(orderDecider).when(
      place({
        lines: [
          { productId: 'tea', quantity: 1 },
          { productId: 'mug', quantity: 1 },
          { productId: 'tea', quantity: 2 },
        ],
      }),
    );
    expect(event?.type === 'OrderPlaced' && event.data.lines).toEqual([
      { productId: 'tea', quantity: 3, unitPriceCents: 480 },
      { productId: 'mug', quantity: 1, unitPriceCents: 1_250 },
    ]);
  });

  it('places nothing again when the order already exists (same idempotency key)', () => {
    expect(given(orderDecider, [placed]).when(place({ lines: [{ productId: 'tea', quantity: 9 }] }))).toEqual(
      [],
    );
    expect(given(orderDecider, [placed, cancelled]).when(place())).toEqual([]);
  });

  it('refuses an empty order', () => {
    expect(codeOf(() => given(orderDecider).when(place({ lines: [] })))).toBe('BAD_USER_INPUT');
  });

  it.each([0, -1, 1.5])('refuses quantity %s', (quantity) => {
    expect(codeOf(() => given(orderDecider).when(place({ lines: [{ productId: 'mug', quantity }] })))).toBe(
      'BAD_USER_INPUT',
    );
  });

  it('refuses an unknown product, naming it', () => {
    expect(() =>
      given(orderDecider).when(
        place({
          lines: [
            { productId: 'mug', quantity: 1 },
            { productId: 'ghost', quantity: 1 },
          ],
        }),
      ),
    ).toThrow(expect.objectContaining({ code: 'NOT_FOUND', details: { productIds: ['ghost'] } }));
  });

  it('refuses a blank payment token', () => {
    expect(codeOf(() => given(orderDecider).when(place({ paymentToken: '  ' })))).toBe('BAD_USER_INPUT');
  });

  it('refuses a total no client could read back (beyond a GraphQL Int)', () => {
    expect(
      codeOf(() => given(orderDecider).when(place({ lines: [{ productId: 'mug', quantity: 2_000_000 }] }))),
    ).toBe('BAD_USER_INPUT');
  });
});

describe('cancelling an order', () => {
  it('cancels a pending order of its customer', () => {
    expect(given(orderDecider, [placed]).when(cancel({ kind: 'customer', customerId: 'alice' }))).toEqual([
      { type: 'OrderCancelled', data: { orderId, reason: 'CUSTOMER_REQUEST' } },
    ]);
  });

  it("lets an admin cancel anyone's pending order", () => {
    expect(given(orderDecider, [placed]).when(cancel({ kind: 'admin' }))).toHaveLength(1);
  });

  it("refuses someone else's order", () => {
    expect(
      codeOf(() => given(orderDecider, [placed]).when(cancel({ kind: 'customer', customerId: 'bob' }))),
    ).toBe('FORBIDDEN');
  });

  it('refuses an unknown order', () => {
    expect(codeOf(() => given(orderDecider).when(cancel({ kind: 'admin' })))).toBe('NOT_FOUND');
  });

  it('refuses a confirmed, cancelled or returned order with CONFLICT', () => {
    for (const past of [
      [placed, confirmed],
      [placed, cancelled],
      [placed, confirmed, returned],
    ]) {
      expect(
        codeOf(() => given(orderDecider, past).when(cancel({ kind: 'customer', customerId: 'alice' }))),
      ).toBe('CONFLICT');
    }
  });

  it('decides nothing when the service cancels an order that is no longer pending', () => {
    expect(given(orderDecider, [placed, confirmed]).when(cancel({ kind: 'service' }))).toEqual([]);
    expect(given(orderDecider, [placed, cancelled]).when(cancel({ kind: 'service' }))).toEqual([]);
  });

  it('records why the saga cancelled, with its detail', () => {
    expect(
      given(orderDecider, [placed]).when({
        type: 'CancelOrder',
        data: {
          orderId,
          reason: 'STOCK_UNAVAILABLE',
          detail: 'mug: 2 requested, 1 available',
          requestedBy: { kind: 'service' },
        },
      }),
    ).toEqual([
      {
        type: 'OrderCancelled',
        data: { orderId, reason: 'STOCK_UNAVAILABLE', detail: 'mug: 2 requested, 1 available' },
      },
    ]);
  });
});

describe('confirming an order (payment captured)', () => {
  const confirm: OrderCommand = { type: 'ConfirmOrder', data: { orderId, paymentId: 'pay-1' } };

  it('confirms a pending order with its payment and total', () => {
    expect(given(orderDecider, [placed]).when(confirm)).toEqual([confirmed]);
  });

  it('decides nothing for a redelivered capture or a capture after a cancel', () => {
    expect(given(orderDecider, [placed, confirmed]).when(confirm)).toEqual([]);
    expect(given(orderDecider, [placed, cancelled]).when(confirm)).toEqual([]);
  });

  it('refuses a capture for an order it never placed', () => {
    expect(codeOf(() => given(orderDecider).when(confirm))).toBe('NOT_FOUND');
  });
});

describe('marking an order returned', () => {
  const markReturned: OrderCommand = { type: 'MarkOrderReturned', data: { orderId, returnId: 'ret-1' } };

  it('returns a confirmed order', () => {
    expect(given(orderDecider, [placed, confirmed]).when(markReturned)).toEqual([returned]);
    expect(given(orderDecider, [placed, confirmed, returned]).state()).toMatchObject({
      status: 'returned',
      returnId: 'ret-1',
      totalCents: 2_500,
    });
  });

  it('decides nothing when it is returned already', () => {
    expect(given(orderDecider, [placed, confirmed, returned]).when(markReturned)).toEqual([]);
  });

  it('refuses an order that was never confirmed', () => {
    expect(codeOf(() => given(orderDecider, [placed]).when(markReturned))).toBe('CONFLICT');
    expect(codeOf(() => given(orderDecider, [placed, cancelled]).when(markReturned))).toBe('CONFLICT');
  });
});

describe('the state of an order', () => {
  it('follows the saga: pending, then confirmed with its payment', () => {
    expect(given(orderDecider, [placed]).state()).toMatchObject({ status: 'pending', totalCents: 2_500 });
    expect(given(orderDecider, [placed, confirmed]).state()).toMatchObject({
      status: 'confirmed',
      paymentId: 'pay-1',
    });
    expect(given(orderDecider, [placed, cancelled]).state()).toMatchObject({
      status: 'cancelled',
      reason: 'PAYMENT_DECLINED',
    });
  });
});

describe('order ids', () => {
  it('gives the same id for the same customer and key, another for another customer', () => {
    expect(orderIdFor('alice', 'k1')).toBe(orderIdFor('alice', 'k1'));
    expect(orderIdFor('bob', 'k1')).not.toBe(orderIdFor('alice', 'k1'));
    expect(ORDER_ID_NAMESPACE).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives a new id each time without a key', () => {
    expect(orderIdFor('alice')).not.toBe(orderIdFor('alice'));
  });

  it('refuses a blank key and an id that is not a UUID', () => {
    expect(codeOf(() => orderIdFor('alice', ' '))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => requireOrderId('order-1'))).toBe('BAD_USER_INPUT');
    expect(requireOrderId(orderIdFor('alice', 'k'))).toMatch(/^[0-9a-f-]{36}$/);
  });
});
