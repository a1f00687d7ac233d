import { DomainError, given, type PendingEvent } from '@magasin/subgraph-kit';
import { describe, expect, it } from 'vitest';
import {
  type OrderEventType,
  orderReturnDecider,
  type RequestReturn,
} from '../../src/domain/order-return.ts';

const lines = [{ productId: 'kettle', quantity: 2, unitPriceCents: 1500 }];
const placed: PendingEvent<OrderEventType> = {
  type: 'OrderPlaced',
  data: {
    orderId: 'o-1',
    customerId: 'alice',
    lines,
    totalCents: 3000,
    currency: 'EUR',
    paymentToken: 'tok_visa',
    placedAt: '2026-11-25T10:00:00.000Z',
  },
};
const confirmed: PendingEvent<OrderEventType> = {
  type: 'OrderConfirmed',
  data: { orderId: 'o-1', paymentId: 'pay-1', totalCents: 3000 },
};
const requested: PendingEvent<OrderEventType> = {
  type: 'ReturnRequested',
  data: { orderId: 'o-1', returnId: 'r-0', customerId: 'alice', lines, refundCents: 3000 },
};
const request = (sub: string, admin = false): RequestReturn => ({
  type: 'RequestReturn',
  orderId: 'o-1',
  returnId: 'r-1',
  requester: { sub, admin },
});

const refusal = (past: PendingEvent<OrderEventType>[], command: RequestReturn) => {
  try {
    given(orderReturnDecider, past).when(command);
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
  return 'accepted';
};

describe('requesting the return of an order', () => {
  it('asks for a refund of the whole confirmed order, by its customer', () => {
    expect(given(orderReturnDecider, [placed, confirmed]).when(request('alice'))).toEqual([
      {
        type: 'ReturnRequested',
        data: { orderId: 'o-1', returnId: 'r-1', customerId: 'alice', lines, refundCents: 3000 },
      },
    ]);
  });

  it('lets an admin return anyone’s order', () => {
    expect(given(orderReturnDecider, [placed, confirmed]).when(request('root', true))).toHaveLength(1);
  });

  it('refuses an unknown order, someone else’s order, an order not CONFIRMED, and a second return', () => {
    expect(refusal([], request('alice'))).toBe('NOT_FOUND');
    expect(refusal([placed, confirmed], request('bob'))).toBe('FORBIDDEN');
    expect(refusal([placed], request('alice'))).toBe('CONFLICT');
    expect(
      refusal(
        [placed, { type: 'OrderCancelled', data: { orderId: 'o-1', reason: 'CUSTOMER_REQUEST' } }],
        request('alice'),
      ),
    ).toBe('CONFLICT');
    expect(refusal([placed, confirmed, requested], request('alice'))).toBe('CONFLICT');
    expect(
      refusal(
        [placed, confirmed, requested, { type: 'OrderReturned', data: { orderId: 'o-1', returnId: 'r-0' } }],
        request('alice'),
      ),
    ).toBe('CONFLICT');
  });
});
