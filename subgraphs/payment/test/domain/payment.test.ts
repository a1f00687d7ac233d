import { DomainError, given } from '@magasin/subgraph-kit';
import { describe, expect, it } from 'vitest';
import {
  awaitsCharge,
  type PaymentCommand,
  type PaymentEvent,
  paymentDecider,
} from '../../src/domain/payment.ts';

const orderId = 'order-1';
const paymentId = 'payment-1';

const captured: PaymentEvent = { type: 'PaymentCaptured', data: { paymentId, orderId, amountCents: 4200 } };
const declined: PaymentEvent = {
  type: 'PaymentDeclined',
  data: { paymentId, orderId, amountCents: 4200, reason: 'card declined: insufficient funds' },
};
const refunded: PaymentEvent = {
  type: 'PaymentRefunded',
  data: { paymentId, orderId, amountCents: 4200, returnId: null },
};

const recordCapture: PaymentCommand = {
  type: 'RecordCharge',
  data: { orderId, paymentId, amountCents: 4200, outcome: { status: 'captured' } },
};
const recordDecline: PaymentCommand = {
  type: 'RecordCharge',
  data: {
    orderId,
    paymentId,
    amountCents: 4200,
    outcome: { status: 'declined', reason: 'card declined: insufficient funds' },
  },
};
const refund = (
  amountCents = 4200,
  extra: { paymentId?: string; returnId?: string | null } = {},
): PaymentCommand => ({
  type: 'RefundPayment',
  data: { orderId, amountCents, returnId: null, ...extra },
});

const domainError = (run: () => unknown): DomainError => {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError');
};

describe('payment decider: charges', () => {
  it('captures an order never charged', () => {
    expect(given(paymentDecider, []).when(recordCapture)).toEqual([captured]);
  });

  it('declines an order never charged, with the processor reason', () => {
    expect(given(paymentDecider, []).when(recordDecline)).toEqual([declined]);
  });

  it('decides nothing for a second capture of the same order', () => {
    expect(given(paymentDecider, [captured]).when(recordCapture)).toEqual([]);
  });

  it('decides nothing for a capture after a decline', () => {
    expect(given(paymentDecider, [declined]).when(recordCapture)).toEqual([]);
  });

  it('decides nothing for a capture after a refund', () => {
    expect(given(paymentDecider, [captured, refunded]).when(recordCapture)).toEqual([]);
  });

  it('asks for a charge only while nothing is recorded', () => {
    expect(awaitsCharge(given(paymentDecider, []).state())).toBe(true);
    expect(awaitsCharge(given(paymentDecider, [captured]).state())).toBe(false);
    expect(awaitsCharge(given(paymentDecider, [declined]).state())).toBe(false);
  });
});

describe('payment decider: refunds', () => {
  it('refunds a captured payment', () => {
    expect(given(paymentDecider, [captured]).when(refund())).toEqual([refunded]);
  });

  it('refunds a return with its returnId and the amount asked', () => {
    expect(given(paymentDecider, [captured]).when(refund(1000, { returnId: 'return-1', paymentId }))).toEqual(
      [{ type: 'PaymentRefunded', data: { paymentId, orderId, amountCents: 1000, returnId: 'return-1' } }],
    );
  });

  it('refunds only once', () => {
    expect(given(paymentDecider, [captured, refunded]).when(refund())).toEqual([]);
  });

  it('refunds nothing when nothing was captured', () => {
    expect(given(paymentDecider, []).when(refund())).toEqual([]);
  });

  it('refunds nothing after a decline', () => {
    expect(given(paymentDecider, [declined]).when(refund())).toEqual([]);
  });

  it('refuses to refund more than was captured', () => {
    const error = domainError(() => given(paymentDecider, [captured]).when(refund(4201)));
    expect(error.code).toBe('BAD_USER_INPUT');
  });

  it('refuses a refund of nothing', () => {
    const error = domainError(() => given(paymentDecider, [captured]).when(refund(0)));
    expect(error.code).toBe('BAD_USER_INPUT');
  });

  it('refuses a refund naming another payment of the order', () => {
    const error = domainError(() =>
      given(paymentDecider, [captured]).when(refund(4200, { paymentId: 'other' })),
    );
    expect(error.code).toBe('CONFLICT');
  });

  it('keeps the refund in the state', () => {
    expect(given(paymentDecider, [captured, refunded]).state()).toEqual({
      status: 'refunded',
      paymentId,
      orderId,
      amountCents: 4200,
      refundedCents: 4200,
      returnId: null,
    });
  });
});
