/**
 * The order decider: one stream `order-<orderId>` per order, from placement through the saga's
 * outcome (confirmed or cancelled) to a completed return. Pure: prices arrive in the command
 * (read from the store's catalog by the caller), the clock arrives as `placedAt`.
 */
import type { EventDataOf } from '@magasin/events';
import { type Decider, DomainError, type PendingEvent } from '@magasin/subgraph-kit';

/** Every order is priced in euros (OrderPlaced v2 carries the currency). */
export const ORDER_CURRENCY = 'EUR';

/**
 * Largest quantity and total an order may carry: GraphQL `Int` is a signed 32-bit integer, so
 * anything larger could be stored but never shown.
 */
export const MAX_GRAPHQL_INT = 2_147_483_647;

/** Events of an order stream. */
export type OrderEventType =
  | 'OrderPlaced'
  | 'OrderConfirmed'
  | 'OrderCancelled'
  | 'ReturnRequested'
  | 'OrderReturned';
export type OrderEvent = PendingEvent<OrderEventType>;

/** One priced line of a placed order. */
export type OrderLine = EventDataOf<'OrderPlaced'>['lines'][number];
/** Why an order was cancelled. */
export type CancelReason = EventDataOf<'OrderCancelled'>['reason'];

/**
 * Who asks to cancel: a customer may cancel only their own orders; an admin any; the service
 * itself (saga reactions and orchestrator commands) any, and for it an order past PENDING is a
 * no-op rather than an error, because a redelivered or late message must not fail forever.
 */
export type Requester = { kind: 'customer'; customerId: string } | { kind: 'admin' } | { kind: 'service' };

/** A line as the customer asks for it: no price (prices come from the catalog). */
export interface RequestedLine {
  productId: string;
  quantity: number;
}

export type OrderCommand =
  | {
      type: 'PlaceOrder';
      data: {
        orderId: string;
        customerId: string;
        lines: readonly RequestedLine[];
        paymentToken: string;
        placedAt: string;
        /** Unit price in cents of every requested product the catalog knows (unknown ones absent). */
        prices: ReadonlyMap<string, number>;
      };
    }
  | {
      type: 'CancelOrder';
      data: { orderId: string; reason: CancelReason; detail?: string; requestedBy: Requester };
    }
  | { type: 'ConfirmOrder'; data: { orderId: string; paymentId: string } }
  | { type: 'MarkOrderReturned'; data: { orderId: string; returnId: string } };

/** What every placed order has, whatever its status. */
export interface PlacedOrder {
  orderId: string;
  customerId: string;
  lines: readonly OrderLine[];
  totalCents: number;
  currency: string;
  placedAt: string;
}

/** What an order stream can be. */
export type Order =
  | { status: 'unknown' }
  | ({ status: 'pending' } & PlacedOrder)
  | ({ status: 'confirmed'; paymentId: string } & PlacedOrder)
  | ({ status: 'cancelled'; reason: CancelReason } & PlacedOrder)
  | ({ status: 'returned'; returnId: string } & PlacedOrder);

/** A placed order's status. */
export type OrderStatus = Exclude<Order['status'], 'unknown'>;

const placedPart = (order: PlacedOrder): PlacedOrder => ({
  orderId: order.orderId,
  customerId: order.customerId,
  lines: order.lines,
  totalCents: order.totalCents,
  currency: order.currency,
  placedAt: order.placedAt,
});

/**
 * Lines of the same product are merged into one (quantities added), in the order each product
 * first appears: a customer who adds the same product twice wants both, and one line per product
 * keeps reservations and reports simple.
 */
export const mergeLines = (lines: readonly RequestedLine[]): RequestedLine[] => {
  const merged = new Map<string, number>();
  for (const { productId, quantity } of lines) merged.set(productId, (merged.get(productId) ?? 0) + quantity);
  return [...merged].map(([productId, quantity]) => ({ productId, quantity }));
};

const placeOrder = (
  command: Extract<OrderCommand, { type: 'PlaceOrder' }>['data'],
  state: Order,
): OrderEvent[] => {
  if (state.status !== 'unknown') {
    // Same idempotency key from the same customer: the order already exists, nothing new happens.
    if (state.customerId !== command.customerId) {
      throw new DomainError('CONFLICT', `order ${command.orderId} belongs to another customer`, {
        orderId: command.orderId,
      });
    }
    return [];
  }
  if (command.lines.length === 0) {
    throw new DomainError('BAD_USER_INPUT', 'an order needs at least one line');
  }
  for (const line of command.lines) {
    if (!Number.isInteger(line.quantity) || line.quantity <= 0) {
      throw new DomainError(
        'BAD_USER_INPUT',
        `quantity of product ${line.productId} must be a positive integer, got ${line.quantity}`,
        { productId: line.productId, quantity: line.quantity },
      );
    }
  }
  if (command.paymentToken.trim() === '') {
    throw new DomainError('BAD_USER_INPUT', 'paymentToken must not be empty');
  }
  const merged = mergeLines(command.lines);
  const unknown = merged.filter((line) => !command.prices.has(line.productId)).map((line) => line.productId);
  if (unknown.length > 0) {
    throw new DomainError(
      'NOT_FOUND',
      `unknown product${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`,
      {
        productIds: unknown,
      },
    );
  }
  const lines: OrderLine[] = merged.map((line) => ({
    productId: line.productId,
    quantity: line.quantity,
    unitPriceCents: command.prices.get(line.productId) ?? 0,
  }));
  const totalCents = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
  const largest = Math.max(totalCents, ...lines.map((line) => line.quantity));
  if (largest > MAX_GRAPHQL_INT) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `order too large: totals and quantities must stay below ${MAX_GRAPHQL_INT}`,
      {
        totalCents,
      },
    );
  }
  return [
    {
      type: 'OrderPlaced',
      data: {
        orderId: command.orderId,
        customerId: command.customerId,
        lines,
        totalCents,
        currency: ORDER_CURRENCY,
        paymentToken: command.paymentToken,
        placedAt: command.placedAt,
      },
    },
  ];
};

const notFound = (orderId: string) => new DomainError('NOT_FOUND', `no order ${orderId}`, { orderId });

const cancelOrder = (
  command: Extract<OrderCommand, { type: 'CancelOrder' }>['data'],
  state: Order,
): OrderEvent[] => {
  if (state.status === 'unknown') throw notFound(command.orderId);
  const { requestedBy } = command;
  if (requestedBy.kind === 'customer' && requestedBy.customerId !== state.customerId) {
    throw new DomainError('FORBIDDEN', `order ${command.orderId} is not yours`, { orderId: command.orderId });
  }
  if (state.status !== 'pending') {
    if (requestedBy.kind === 'service') return [];
    throw new DomainError(
      'CONFLICT',
      `order ${command.orderId} is ${state.status.toUpperCase()}: only a PENDING order can be cancelled${
        state.status === 'confirmed' ? ' (request a return instead)' : ''
      }`,
      { orderId: command.orderId, status: state.status.toUpperCase() },
    );
  }
  return [
    {
      type: 'OrderCancelled',
      data: {
        orderId: command.orderId,
        reason: command.reason,
        ...(command.detail === undefined ? {} : { detail: command.detail }),
      },
    },
  ];
};

const confirmOrder = (
  command: Extract<OrderCommand, { type: 'ConfirmOrder' }>['data'],
  state: Order,
): OrderEvent[] => {
  if (state.status === 'unknown') throw notFound(command.orderId);
  // Confirmed already (redelivery), or cancelled before the capture landed: the saga refunds that.
  if (state.status !== 'pending') return [];
  return [
    {
      type: 'OrderConfirmed',
      data: { orderId: command.orderId, paymentId: command.paymentId, totalCents: state.totalCents },
    },
  ];
};

const markReturned = (
  command: Extract<OrderCommand, { type: 'MarkOrderReturned' }>['data'],
  state: Order,
): OrderEvent[] => {
  if (state.status === 'unknown') throw notFound(command.orderId);
  if (state.status === 'returned') return [];
  if (state.status !== 'confirmed') {
    throw new DomainError(
      'CONFLICT',
      `order ${command.orderId} is ${state.status.toUpperCase()}: only a CONFIRMED order can be returned`,
      { orderId: command.orderId, status: state.status.toUpperCase() },
    );
  }
  return [{ type: 'OrderReturned', data: { orderId: command.orderId, returnId: command.returnId } }];
};

/** See the module comment. Every rule broken is a DomainError; a decision already taken decides nothing. */
export const decide = (command: OrderCommand, state: Order): OrderEvent[] => {
  switch (command.type) {
    case 'PlaceOrder':
      return placeOrder(command.data, state);
    case 'CancelOrder':
      return cancelOrder(command.data, state);
    case 'ConfirmOrder':
      return confirmOrder(command.data, state);
    case 'MarkOrderReturned':
      return markReturned(command.data, state);
    default: {
      const unhandled: never = command;
      throw new Error(`unhandled command ${JSON.stringify(unhandled)}`);
    }
  }
};

export const evolve = (state: Order, event: OrderEvent): Order => {
  switch (event.type) {
    case 'OrderPlaced': {
      const { orderId, customerId, lines, totalCents, currency, placedAt } = event.data;
      return { status: 'pending', orderId, customerId, lines, totalCents, currency, placedAt };
    }
    case 'OrderConfirmed':
      return state.status === 'unknown'
        ? state
        : { status: 'confirmed', paymentId: event.data.paymentId, ...placedPart(state) };
    case 'OrderCancelled':
      return state.status === 'unknown'
        ? state
        : { status: 'cancelled', reason: event.data.reason, ...placedPart(state) };
    case 'ReturnRequested':
      // The return saga runs elsewhere; the order stays CONFIRMED until it is marked returned.
      return state;
    case 'OrderReturned':
      return state.status === 'unknown'
        ? state
        : { status: 'returned', returnId: event.data.returnId, ...placedPart(state) };
    default: {
      const unhandled: never = event;
      throw new Error(`unhandled event ${JSON.stringify(unhandled)}`);
    }
  }
};

export const initialState = (): Order => ({ status: 'unknown' });

/** The order decider, for the kit's command handler. */
export const orderDecider: Decider<OrderCommand, Order, OrderEventType> = { decide, evolve, initialState };
