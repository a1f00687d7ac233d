/**
 * An order as GraphQL shows it, built either from the read model (queries, entities) or from
 * the decider's state (mutations answer with what they decided, not with a lagging projection).
 */
import type { CancelReason, Order } from '../domain/order.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import type { OrderStatusName } from '../projections/index.ts';

/** One line of an order view; `product` resolves to a Product stub of inventory. */
export interface OrderLineView {
  productId: string;
  quantity: number;
  unitPriceCents: number;
}

/** What the Order type's fields resolve from. */
export interface OrderView {
  id: string;
  customerId: string;
  lines: OrderLineView[];
  totalCents: number;
  currency: string;
  status: OrderStatusName;
  cancellationReason: CancelReason | null;
  placedAt: Date;
}

/** A row of `orders` with its lines, as the loaders read it. */
export type OrderRow = Prisma.OrderGetPayload<{ include: { lines: true } }>;

const STATUS_OF: Record<Exclude<Order['status'], 'unknown'>, OrderStatusName> = {
  pending: 'PENDING',
  confirmed: 'CONFIRMED',
  cancelled: 'CANCELLED',
  returned: 'RETURNED',
};

/** The view of a decided order; throws for an order that does not exist (deciders refuse those first). */
export const viewOfState = (state: Order): OrderView => {
  if (state.status === 'unknown') throw new Error('an order that was never placed has no view');
  return {
    id: state.orderId,
    customerId: state.customerId,
    lines: state.lines.map(({ productId, quantity, unitPriceCents }) => ({
      productId,
      quantity,
      unitPriceCents,
    })),
    totalCents: state.totalCents,
    currency: state.currency,
    status: STATUS_OF[state.status],
    cancellationReason: state.status === 'cancelled' ? state.reason : null,
    placedAt: new Date(state.placedAt),
  };
};

/** The view of a read-model row. */
export const viewOfRow = (row: OrderRow): OrderView => ({
  id: row.id,
  customerId: row.customerId,
  lines: [...row.lines]
    .sort((a, b) => a.lineNo - b.lineNo)
    .map(({ productId, quantity, unitPriceCents }) => ({ productId, quantity, unitPriceCents })),
  totalCents: row.totalCents,
  currency: row.currency,
  status: row.status as OrderStatusName,
  cancellationReason: row.status === 'CANCELLED' ? (row.cancelReason as CancelReason | null) : null,
  placedAt: row.placedAt,
});
