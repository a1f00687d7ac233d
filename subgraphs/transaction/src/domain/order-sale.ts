/**
 * What the ledger needs to know about an order to record its sale, folded from the store's
 * order stream (`order-<orderId>`): who bought and how much was confirmed.
 */
import type { PendingEvent } from '@magasin/subgraph-kit';

/** The order as the ledger sees it. */
export type OrderForSale =
  | { readonly status: 'unknown' }
  | { readonly status: 'placed'; readonly customerId: string; readonly totalCents: number }
  | { readonly status: 'confirmed'; readonly customerId: string; readonly totalCents: number };

/** The sale an order stream supports: its customer and the confirmed amount; undefined until confirmed. */
export const saleOfOrder = (
  orderEvents: readonly PendingEvent[],
): { customerId: string; amountCents: number } | undefined => {
  const order = orderEvents.reduce<OrderForSale>(
    (state, event) => {
      switch (event.type) {
        case 'OrderPlaced':
          return { status: 'placed', customerId: event.data.customerId, totalCents: event.data.totalCents };
        case 'OrderConfirmed':
          return state.status === 'unknown'
            ? state
            : { status: 'confirmed', customerId: state.customerId, totalCents: event.data.totalCents };
        default:
          return state;
      }
    },
    { status: 'unknown' },
  );
  return order.status === 'confirmed'
    ? { customerId: order.customerId, amountCents: order.totalCents }
    : undefined;
};
