/** Contracts of the store context: the order lifecycle (order saga start and end, return request). */
import { z } from 'zod';
import { cents, id, isoDateTime, quantity } from './envelope.ts';

/** One line of an order, priced when the order is placed. */
export const orderLine = z.object({ productId: id, quantity, unitPriceCents: cents });

/**
 * OrderPlaced v2. v1 had no `currency` and its lines carried `priceCents` instead of
 * `unitPriceCents`: see the upcaster in `catalog.ts`.
 */
export const OrderPlaced = z.object({
  orderId: id,
  customerId: id,
  lines: z.array(orderLine).min(1),
  totalCents: cents,
  currency: z.string().length(3),
  paymentToken: z.string().min(1),
  placedAt: isoDateTime,
});

/** OrderPlaced as written by schema version 1 (kept to upcast old events). */
export const OrderPlacedV1 = z.object({
  orderId: id,
  customerId: id,
  lines: z.array(z.object({ productId: id, quantity, priceCents: cents })).min(1),
  totalCents: cents,
  paymentToken: z.string().min(1),
  placedAt: isoDateTime,
});

export const OrderConfirmed = z.object({ orderId: id, paymentId: id, totalCents: cents });

export const OrderCancelled = z.object({
  orderId: id,
  reason: z.enum(['STOCK_UNAVAILABLE', 'PAYMENT_DECLINED', 'SAGA_TIMED_OUT', 'CUSTOMER_REQUEST']),
  detail: z.string().optional(),
});

export const ReturnRequested = z.object({
  orderId: id,
  returnId: id,
  customerId: id,
  lines: z.array(orderLine).min(1),
  refundCents: cents,
});

export const OrderReturned = z.object({ orderId: id, returnId: id });
