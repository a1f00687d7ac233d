/** Contracts of the payment context: captures, declines and refunds against the card processor. */
import { z } from 'zod';
import { cents, id } from './envelope.ts';

export const PaymentCaptured = z.object({ paymentId: id, orderId: id, amountCents: cents });

export const PaymentDeclined = z.object({
  paymentId: id,
  orderId: id,
  amountCents: cents,
  reason: z.string().min(1),
});

export const PaymentRefunded = z.object({
  paymentId: id,
  orderId: id,
  amountCents: cents,
  /** The return being refunded, or null when a late capture after a cancel is compensated. */
  returnId: id.nullable(),
});
