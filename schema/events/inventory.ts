/** Contracts of the inventory context: catalog, stock levels and reservations. */
import { z } from 'zod';
import { cents, id, quantity } from './envelope.ts';

const item = z.object({ productId: id, quantity });

export const ProductCreated = z.object({
  productId: id,
  sku: z.string().min(1),
  name: z.string().min(1),
  priceCents: cents,
  initialStock: z.number().int().nonnegative(),
});

export const ProductRestocked = z.object({ productId: id, quantity });

export const StockReserved = z.object({ orderId: id, items: z.array(item).min(1) });

export const StockReservationRejected = z.object({
  orderId: id,
  reason: z.string().min(1),
  shortages: z.array(z.object({ productId: id, requested: quantity, available: z.number().int() })),
});

export const StockCommitted = z.object({ orderId: id, items: z.array(item).min(1) });

export const StockReleased = z.object({
  orderId: id,
  items: z.array(item).min(1),
  reason: z.string().min(1),
});

/** Returned items put back on the shelf (the "restocked" step of the return saga). */
export const StockReturned = z.object({ orderId: id, returnId: id, items: z.array(item).min(1) });
