/** The audit contract's rules: card data never leaves a producer, and what a record is about. */
import { describe, expect, it } from 'vitest';
import { isSensitiveKey, MASKED, maskCardData, RecordMutation, subjectIdsIn } from '../src/index.ts';

describe('masking card data', () => {
  it('masks fields named for card data or credentials, at any depth', () => {
    expect(
      maskCardData({
        input: { paymentToken: 'anything', lines: [{ productId: 'p-1', quantity: 1 }] },
        card_number: '1234',
        cvv: 123,
        authorization: 'x',
        missingToken: null,
      }),
    ).toEqual({
      input: { paymentToken: MASKED, lines: [{ productId: 'p-1', quantity: 1 }] },
      card_number: MASKED,
      cvv: MASKED,
      authorization: MASKED,
      missingToken: null,
    });
  });

  it('masks values that look like card data wherever they are', () => {
    expect(
      maskCardData({
        note: 'tok_visa',
        pan: undefined,
        list: ['4111-1111-1111-1111', 'eyJh.eyJz.sig', 'Bearer abc'],
      }),
    ).toEqual({ note: MASKED, pan: undefined, list: [MASKED, MASKED, MASKED] });
  });

  it('leaves business data alone', () => {
    const data = {
      orderId: '0193a7c4-1b2e-7c3d-8e4f-5a6b7c8d9e0f',
      paymentId: 'p-1',
      company: 'ACME',
      totalCents: 1234,
    };
    expect(maskCardData(data)).toEqual(data);
    expect(isSensitiveKey('paymentId')).toBe(false);
    expect(isSensitiveKey('idempotencyKey')).toBe(false);
  });
});

describe('subject ids', () => {
  it('are the business ids of a value two levels deep, never a person, not inside lists', () => {
    expect(
      subjectIdsIn({
        order: {
          id: 'o-1',
          customerId: 'alice',
          lines: [{ productId: 'p-1' }],
          payment: { paymentId: 'pay-1' },
        },
      }),
    ).toEqual(['o-1', 'pay-1']);
    expect(subjectIdsIn({ orderId: 'o-2', order: { id: 'o-2' } }, 0)).toEqual(['o-2']);
  });
});

describe('the RecordMutation contract', () => {
  it('refuses a record without fields or with an unknown outcome', () => {
    const record = {
      operationName: null,
      fields: [{ name: 'placeOrder', arguments: {} }],
      outcome: 'ACCEPTED',
      errorCodes: [],
      subjectIds: [],
      roles: [],
      receivedAt: '2026-11-25T10:00:00.000Z',
      durationMs: 3,
    };
    expect(RecordMutation.safeParse(record).success).toBe(true);
    expect(RecordMutation.safeParse({ ...record, fields: [] }).success).toBe(false);
    expect(RecordMutation.safeParse({ ...record, outcome: 'MAYBE' }).success).toBe(false);
  });
});
