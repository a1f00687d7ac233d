/**
 * The payment of one order (stream `payment-<orderId>`): at most one charge, at most one refund.
 * The card processor is called outside the decider; its answer comes in as a command
 * (`RecordCharge`), so a redelivered or concurrent capture decides nothing the second time.
 */
import type { CommandPayloadOf } from '@magasin/events';
import { type Decider, DomainError, type PendingEvent } from '@magasin/subgraph-kit';

/** The events a payment stream holds. */
export type PaymentEventType = 'PaymentCaptured' | 'PaymentDeclined' | 'PaymentRefunded';
/** One event of a payment stream. */
export type PaymentEvent = PendingEvent<PaymentEventType>;

/** What the card processor answered to a charge. */
export type ChargeOutcome =
  | { readonly status: 'captured' }
  | { readonly status: 'declined'; readonly reason: string };

/** What a payment stream can be told. */
export type PaymentCommand =
  | {
      /** Records the processor's answer to the charge of an order (`paymentId` = the processor's charge id). */
      readonly type: 'RecordCharge';
      readonly data: {
        readonly orderId: string;
        readonly paymentId: string;
        readonly amountCents: number;
        readonly outcome: ChargeOutcome;
      };
    }
  | {
      /** Gives back captured money: the saga's RefundPayment, or an order cancelled after a capture. */
      readonly type: 'RefundPayment';
      readonly data: CommandPayloadOf<'RefundPayment'>;
    };

/** What a payment stream is. */
export type Payment =
  | { readonly status: 'unknown' }
  | {
      readonly status: 'captured';
      readonly paymentId: string;
      readonly orderId: string;
      readonly amountCents: number;
    }
  | {
      readonly status: 'declined';
      readonly paymentId: string;
      readonly orderId: string;
      readonly amountCents: number;
      readonly reason: string;
    }
  | {
      readonly status: 'refunded';
      readonly paymentId: string;
      readonly orderId: string;
      readonly amountCents: number;
      readonly refundedCents: number;
      readonly returnId: string | null;
    };

/** The stream of the payment of an order. */
export const paymentStreamId = (orderId: string): string => `payment-${orderId}`;

/** Whether the order still has to be charged: only a payment that never reached the processor's answer. */
export const awaitsCharge = (payment: Payment): boolean => payment.status === 'unknown';

const recordCharge = (
  data: Extract<PaymentCommand, { type: 'RecordCharge' }>['data'],
  payment: Payment,
): PaymentEvent[] => {
  // A charge already recorded (captured, declined or refunded since) is final: the same
  // StockReserved delivered again, or handled by two consumers at once, decides nothing.
  if (payment.status !== 'unknown') return [];
  const { orderId, paymentId, amountCents, outcome } = data;
  switch (outcome.status) {
    case 'captured':
      return [{ type: 'PaymentCaptured', data: { paymentId, orderId, amountCents } }];
    case 'declined':
      return [{ type: 'PaymentDeclined', data: { paymentId, orderId, amountCents, reason: outcome.reason } }];
    default: {
      const unknown: never = outcome;
      throw new Error(`unknown charge outcome ${JSON.stringify(unknown)}`);
    }
  }
};

const refundPayment = (data: CommandPayloadOf<'RefundPayment'>, payment: Payment): PaymentEvent[] => {
  // Nothing captured (never charged, or declined) or already refunded: nothing to give back.
  if (payment.status !== 'captured') return [];
  if (data.paymentId !== undefined && data.paymentId !== payment.paymentId) {
    throw new DomainError(
      'CONFLICT',
      `payment ${data.paymentId} is not the payment of order ${payment.orderId} (${payment.paymentId})`,
      { orderId: payment.orderId, paymentId: data.paymentId },
    );
  }
  if (data.amountCents < 1 || data.amountCents > payment.amountCents) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `a refund of order ${payment.orderId} must be between 1 and ${payment.amountCents} cents (the amount captured), got ${data.amountCents}`,
      { orderId: payment.orderId, amountCents: data.amountCents, capturedCents: payment.amountCents },
    );
  }
  return [
    {
      type: 'PaymentRefunded',
      data: {
        paymentId: payment.paymentId,
        orderId: payment.orderId,
        amountCents: data.amountCents,
        returnId: data.returnId,
      },
    },
  ];
};

/** What a command decides, given the payment; throws a DomainError for an impossible refund. */
export const decide = (command: PaymentCommand, payment: Payment): PaymentEvent[] => {
  switch (command.type) {
    case 'RecordCharge':
      return recordCharge(command.data, payment);
    case 'RefundPayment':
      return refundPayment(command.data, payment);
    default: {
      const unknown: never = command;
      throw new Error(`unknown payment command ${JSON.stringify(unknown)}`);
    }
  }
};

/** The payment after one of its events. */
export const evolve = (payment: Payment, event: PaymentEvent): Payment => {
  switch (event.type) {
    case 'PaymentCaptured':
      return { status: 'captured', ...event.data };
    case 'PaymentDeclined':
      return { status: 'declined', ...event.data };
    case 'PaymentRefunded':
      if (payment.status === 'unknown') return payment;
      return {
        status: 'refunded',
        paymentId: payment.paymentId,
        orderId: payment.orderId,
        amountCents: payment.amountCents,
        refundedCents: event.data.amountCents,
        returnId: event.data.returnId,
      };
    default: {
      const unknown: never = event;
      throw new Error(`unknown payment event ${JSON.stringify(unknown)}`);
    }
  }
};

/** A payment before any event: never charged. */
export const initialState = (): Payment => ({ status: 'unknown' });

/** The payment decider, for the kit's command handler and given/when/then tests. */
export const paymentDecider: Decider<PaymentCommand, Payment, PaymentEventType> = {
  decide,
  evolve,
  initialState,
};
