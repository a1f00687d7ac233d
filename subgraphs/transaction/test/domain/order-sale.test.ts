import type { PendingEvent } from '@magasin/subgraph-kit';
import { describe, expect, it } from 'vitest';
import { saleOfOrder } from '../../src/domain/order-sale.ts';

const placed: PendingEvent = {
  type: 'OrderPlaced',
  data: {
    orderId: 'o-1',
    customerId: 'alice',
    lines: [{ productId: 'p-1', quantity: 2, unitPriceCents: 500 }],
    totalCents: 1_000,
    currency: 'EUR',
    paymentToken: 'tok_visa',
    placedAt: '2026-11-25T10:00:00.000Z',
  },
};
const confirmed: PendingEvent = {
  type: 'OrderConfirmed',
  data: { orderId: 'o-1', paymentId: 'pay-1', totalCents: 1_000 },
};

describe('the sale an order stream supports', () => {
  it('is the customer who placed the order and the confirmed amount', () => {
    expect(saleOfOrder([placed, confirmed])).toEqual({ customerId: 'alice', amountCents: 1_000 });
  });

  it('does not exist while the order is only placed', () => {
    expect(saleOfOrder([placed])).toBeUndefined();
  });

  it('does not exist for a stream without OrderPlaced', () => {
    expect(saleOfOrder([confirmed])).toBeUndefined();
  });

  it('ignores the rest of the order lifecycle', () => {
    const returned: PendingEvent = { type: 'OrderReturned', data: { orderId: 'o-1', returnId: 'r-1' } };
    expect(saleOfOrder([placed, confirmed, returned])).toEqual({ customerId: 'alice', amountCents: 1_000 });
  });
});
