/**
 * Requesting the return of an order, decided on the order's own stream `order-<orderId>`: only a
 * CONFIRMED order with no return in progress may be returned, by its customer or an admin. The
 * decision appends ReturnRequested with the stream's expected version, so two concurrent
 * requests cannot both start a return; the return saga starts from it.
 */
import type { EventDataOf } from '@magasin/events';
import { type Decider, DomainError, type PendingEvent } from '@magasin/subgraph-kit';

/** Events of an order stream. */
export type OrderEventType =
  | 'OrderPlaced'
  | 'OrderConfirmed'
  | 'OrderCancelled'
  | 'ReturnRequested'
  | 'OrderReturned';
type OrderEvent = PendingEvent<OrderEventType>;

/** What the return needs of a placed order. */
interface PlacedOrder {
  orderId: string;
  customerId: string;
  lines: EventDataOf<'OrderPlaced'>['lines'];
  totalCents: number;
  /** The return in progress (requested, not yet returned). */
  openReturnId: string | null;
}

/** An order stream, as far as returns are concerned. */
export type OrderForReturn =
  | { status: 'unknown' }
  | ({ status: 'PENDING' | 'CONFIRMED' | 'CANCELLED' | 'RETURNED' } & PlacedOrder);

/** Who asks for a return. */
export interface Requester {
  sub: string;
  admin: boolean;
}

/** Asks for the return of a whole order. */
export interface RequestReturn {
  type: 'RequestReturn';
  orderId: string;
  returnId: string;
  requester: Requester;
}

const decide = (command: RequestReturn, order: OrderForReturn): OrderEvent[] => {
  const { orderId, returnId, requester } = command;
  if (order.status === 'unknown') throw new DomainError('NOT_FOUND', `no order ${orderId}`, { orderId });
  if (!requester.admin && order.customerId !== requester.sub) {
    throw new DomainError('FORBIDDEN', `order ${orderId} is not yours`, { orderId });
  }
  if (order.openReturnId !== null) {
    throw new DomainError(
      'CONFLICT',
      `a return of order ${orderId} is already in progress (${order.openReturnId})`,
      {
        orderId,
        returnId: order.openReturnId,
      },
    );
  }
  if (order.status !== 'CONFIRMED') {
    throw new DomainError(
      'CONFLICT',
      `order ${orderId} is ${order.status}: only a CONFIRMED order can be returned`,
      {
        orderId,
        status: order.status,
      },
    );
  }
  return [
    {
      type: 'ReturnRequested',
      data: {
        orderId,
        returnId,
        customerId: order.customerId,
        lines: order.lines,
        refundCents: order.totalCents,
      },
    },
  ];
};

const evolve = (order: OrderForReturn, event: OrderEvent): OrderForReturn => {
  if (event.type === 'OrderPlaced') {
    const { orderId, customerId, lines, totalCents } = event.data;
    return { status: 'PENDING', orderId, customerId, lines, totalCents, openReturnId: null };
  }
  if (order.status === 'unknown') return order;
  switch (event.type) {
    case 'OrderConfirmed':
      return { ...order, status: 'CONFIRMED' };
    case 'OrderCancelled':
      return { ...order, status: 'CANCELLED' };
    case 'ReturnRequested':
      return { ...order, openReturnId: event.data.returnId };
    case 'OrderReturned':
      return { ...order, status: 'RETURNED', openReturnId: null };
    default: {
      const unknown: never = event;
      throw new Error(`unknown order event ${JSON.stringify(unknown)}`);
    }
  }
};

/** The decider of returns on order streams. */
export const orderReturnDecider: Decider<RequestReturn, OrderForReturn, OrderEventType> = {
  decide,
  evolve,
  initialState: () => ({ status: 'unknown' }),
};

/** The store's stream of an order. */
export const orderStreamId = (orderId: string): string => `order-${orderId}`;
