import type { EventDataOf } from '@magasin/events';
import { DomainError, given } from '@magasin/subgraph-kit';
import { describe, expect, it } from 'vitest';
import { type LedgerEvent, ledgerDecider } from '../../src/domain/ledger.ts';

const orderId = 'order-1';
const sale: EventDataOf<'SaleRecorded'> = {
  saleId: 'sale-1',
  orderId,
  customerId: 'alice',
  amountCents: 4_200,
};
const refund: EventDataOf<'RefundRecorded'> = {
  refundId: 'refund-1',
  orderId,
  returnId: 'return-1',
  amountCents: 4_200,
};
const saleRecorded: LedgerEvent = { type: 'SaleRecorded', data: sale };
const refundRecorded: LedgerEvent = { type: 'RefundRecorded', data: refund };

const domainError = (run: () => unknown): DomainError => {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError, nothing was thrown');
};

describe('ledger of an order', () => {
  it('records the sale of a confirmed order', () => {
    expect(given(ledgerDecider).when({ type: 'RecordSale', data: sale })).toEqual([saleRecorded]);
  });

  it('records nothing more when the same order is confirmed again', () => {
    expect(
      given(ledgerDecider, [saleRecorded]).when({ type: 'RecordSale', data: { ...sale, saleId: 'sale-2' } }),
    ).toEqual([]);
  });

  it('records nothing more when a refunded order is confirmed again', () => {
    expect(
      given(ledgerDecider, [saleRecorded, refundRecorded]).when({ type: 'RecordSale', data: sale }),
    ).toEqual([]);
  });

  it('records the refund of a sold order', () => {
    expect(given(ledgerDecider, [saleRecorded]).when({ type: 'RecordRefund', data: refund })).toEqual([
      refundRecorded,
    ]);
  });

  it('records a refund once per return, whatever is redelivered', () => {
    expect(
      given(ledgerDecider, [saleRecorded, refundRecorded]).when({
        type: 'RecordRefund',
        data: { ...refund, refundId: 'refund-2' },
      }),
    ).toEqual([]);
  });

  it('refuses a refund for an order with no sale (NOT_FOUND)', () => {
    const error = domainError(() => given(ledgerDecider).when({ type: 'RecordRefund', data: refund }));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.details).toEqual({ orderId });
  });

  it('refuses a second return of an order already refunded (CONFLICT: returns cover the whole order)', () => {
    const error = domainError(() =>
      given(ledgerDecider, [saleRecorded, refundRecorded]).when({
        type: 'RecordRefund',
        data: { ...refund, refundId: 'refund-2', returnId: 'return-2' },
      }),
    );
    expect(error.code).toBe('CONFLICT');
    expect(error.details).toEqual({ orderId, returnId: 'return-1' });
  });

  it('refuses a refund larger than the sale (BAD_USER_INPUT)', () => {
    const error = domainError(() =>
      given(ledgerDecider, [saleRecorded]).when({
        type: 'RecordRefund',
        data: { ...refund, amountCents: 4_201 },
      }),
    );
    expect(error.code).toBe('BAD_USER_INPUT');
  });

  it('keeps what was sold and refunded in its state', () => {
    expect(given(ledgerDecider, [saleRecorded, refundRecorded]).state()).toEqual({
      status: 'refunded',
      orderId,
      saleId: 'sale-1',
      customerId: 'alice',
      amountCents: 4_200,
      returnId: 'return-1',
      refundId: 'refund-1',
      refundedCents: 4_200,
    });
  });
});
