/**
 * The inventory (stream `inventory`): every product's stock levels and every order's
 * reservation, in one consistency boundary, so that an order of several products is reserved
 * all or nothing and no two orders can take the same unit.
 *
 * Stock moves between three levels and is never created or lost outside a restock:
 * initial + restocks + returns = available + reserved + sold, for every product.
 *   reserve: available -> reserved     release: reserved -> available
 *   commit:  reserved  -> sold         return:  sold     -> available
 *
 * Every decision about an order is idempotent by state: an order that has been decided once
 * (reserved, rejected, released or committed) is never reserved again, and a return is applied
 * once per returnId, whatever is redelivered.
 */
import type { CommandPayloadOf } from '@magasin/events';
import { type Decider, DomainError, type PendingEvent } from '@magasin/subgraph-kit';

/** The largest level a product may reach: PostgreSQL INTEGER (and GraphQL Int). */
export const MAX_UNITS = 2_147_483_647;

/** A quantity of one product. */
export interface Item {
  readonly productId: string;
  readonly quantity: number;
}

/** The events of the inventory stream. */
export type InventoryEventType =
  | 'ProductCreated'
  | 'ProductRestocked'
  | 'StockReserved'
  | 'StockReservationRejected'
  | 'StockReleased'
  | 'StockCommitted'
  | 'StockReturned';
/** One event of the inventory stream. */
export type InventoryEvent = PendingEvent<InventoryEventType>;

/** What the inventory can be told. */
export type InventoryCommand =
  | {
      readonly type: 'CreateProduct';
      readonly data: {
        readonly productId: string;
        readonly sku: string;
        readonly name: string;
        readonly priceCents: number;
        readonly initialStock: number;
      };
    }
  | { readonly type: 'RestockProduct'; readonly data: Item }
  /** An order was placed: reserve every line, or none. */
  | {
      readonly type: 'ReserveStock';
      readonly data: { readonly orderId: string; readonly lines: readonly Item[] };
    }
  /** Give an order's reserved units back (payment declined, order cancelled, saga compensation). */
  | { readonly type: 'ReleaseStock'; readonly data: CommandPayloadOf<'ReleaseStock'> }
  /** The order is confirmed: its reserved units are sold. */
  | { readonly type: 'CommitStock'; readonly data: { readonly orderId: string } }
  /** Returned items are back on the shelf (the return saga's RestockItems). */
  | { readonly type: 'ReturnStock'; readonly data: CommandPayloadOf<'RestockItems'> };

/** A product and its stock levels. */
export interface ProductStock {
  readonly productId: string;
  readonly sku: string;
  readonly name: string;
  readonly priceCents: number;
  readonly available: number;
  readonly reserved: number;
  readonly sold: number;
}

/** What the inventory knows of one order. */
export type OrderStock =
  | { readonly status: 'reserved'; readonly items: readonly Item[] }
  | { readonly status: 'rejected' }
  | { readonly status: 'released'; readonly items: readonly Item[] }
  | {
      readonly status: 'committed';
      readonly items: readonly Item[];
      /** Units returned so far, by product. */
      readonly returned: ReadonlyMap<string, number>;
      /** Returns already applied (a redelivered RestockItems decides nothing). */
      readonly returnIds: ReadonlySet<string>;
    };

/** The state of the inventory stream. */
export interface Inventory {
  /** Every product, by id. */
  readonly products: ReadonlyMap<string, ProductStock>;
  /** Every order the inventory has decided about, by orderId (open reservations included). */
  readonly orders: ReadonlyMap<string, OrderStock>;
}

const fail = (code: DomainError['code'], message: string, details: Record<string, unknown> = {}): never => {
  throw new DomainError(code, message, details);
};

/** Lines of the same product summed, in first-seen order. */
export const mergeItems = (items: readonly Item[]): Item[] => {
  const totals = new Map<string, number>();
  for (const { productId, quantity } of items) totals.set(productId, (totals.get(productId) ?? 0) + quantity);
  return [...totals].map(([productId, quantity]) => ({ productId, quantity }));
};

const requirePositive = (quantity: number, what: string) => {
  if (!Number.isInteger(quantity) || quantity <= 0) {
    fail('BAD_USER_INPUT', `${what} must be a whole number above 0, got ${quantity}`, { quantity });
  }
};

const totalOf = (product: ProductStock) => product.available + product.reserved + product.sold;

const createProduct = (
  data: Extract<InventoryCommand, { type: 'CreateProduct' }>['data'],
  state: Inventory,
): InventoryEvent[] => {
  const sku = data.sku.trim();
  const name = data.name.trim();
  if (sku === '') fail('BAD_USER_INPUT', 'sku must not be empty');
  if (name === '') fail('BAD_USER_INPUT', 'name must not be empty');
  if (!Number.isInteger(data.priceCents) || data.priceCents < 0) {
    fail('BAD_USER_INPUT', `priceCents must be a whole number of cents, 0 or more, got ${data.priceCents}`, {
      priceCents: data.priceCents,
    });
  }
  if (!Number.isInteger(data.initialStock) || data.initialStock < 0 || data.initialStock > MAX_UNITS) {
    fail('BAD_USER_INPUT', `initialStock must be a whole number, 0 or more, got ${data.initialStock}`, {
      initialStock: data.initialStock,
    });
  }
  if (state.products.has(data.productId)) {
    fail('CONFLICT', `product ${data.productId} already exists`, { productId: data.productId });
  }
  for (const product of state.products.values()) {
    if (product.sku === sku) {
      fail('CONFLICT', `sku ${sku} is already used by product ${product.productId}`, {
        sku,
        productId: product.productId,
      });
    }
  }
  return [
    {
      type: 'ProductCreated',
      data: {
        productId: data.productId,
        sku,
        name,
        priceCents: data.priceCents,
        initialStock: data.initialStock,
      },
    },
  ];
};

const restockProduct = (data: Item, state: Inventory): InventoryEvent[] => {
  requirePositive(data.quantity, 'quantity');
  const product = state.products.get(data.productId);
  if (!product) return fail('NOT_FOUND', `no product ${data.productId}`, { productId: data.productId });
  if (totalOf(product) + data.quantity > MAX_UNITS) {
    fail('BAD_USER_INPUT', `restocking ${data.quantity} would take ${product.sku} past ${MAX_UNITS} units`, {
      productId: data.productId,
      quantity: data.quantity,
    });
  }
  return [{ type: 'ProductRestocked', data: { productId: data.productId, quantity: data.quantity } }];
};

const reserveStock = (
  data: Extract<InventoryCommand, { type: 'ReserveStock' }>['data'],
  state: Inventory,
): InventoryEvent[] => {
  if (state.orders.has(data.orderId)) return [];
  if (data.lines.length === 0) fail('BAD_USER_INPUT', `order ${data.orderId} has no lines to reserve`);
  for (const line of data.lines) requirePositive(line.quantity, `quantity of ${line.productId}`);
  const items = mergeItems(data.lines);
  const shortages = items.flatMap(({ productId, quantity }) => {
    const available = state.products.get(productId)?.available ?? 0;
    return available < quantity ? [{ productId, requested: quantity, available }] : [];
  });
  if (shortages.length === 0) return [{ type: 'StockReserved', data: { orderId: data.orderId, items } }];
  const unknown = shortages.some(({ productId }) => !state.products.has(productId));
  return [
    {
      type: 'StockReservationRejected',
      data: { orderId: data.orderId, reason: unknown ? 'UNKNOWN_PRODUCT' : 'INSUFFICIENT_STOCK', shortages },
    },
  ];
};

const releaseStock = (data: CommandPayloadOf<'ReleaseStock'>, state: Inventory): InventoryEvent[] => {
  const order = state.orders.get(data.orderId);
  // Only a live reservation holds units: nothing to give back otherwise (sold units come back
  // through a return, never a release).
  if (order?.status !== 'reserved') return [];
  return [
    { type: 'StockReleased', data: { orderId: data.orderId, items: [...order.items], reason: data.reason } },
  ];
};

const commitStock = (orderId: string, state: Inventory): InventoryEvent[] => {
  const order = state.orders.get(orderId);
  if (order?.status !== 'reserved') return [];
  return [{ type: 'StockCommitted', data: { orderId, items: [...order.items] } }];
};

const returnStock = (data: CommandPayloadOf<'RestockItems'>, state: Inventory): InventoryEvent[] => {
  const order = state.orders.get(data.orderId);
  if (order?.status !== 'committed') {
    // Retried by the bus: the commit of a just-confirmed order may still be on its way.
    return fail(
      'CONFLICT',
      `order ${data.orderId} has no sold units to return (${order?.status ?? 'unknown'})`,
      {
        orderId: data.orderId,
      },
    );
  }
  if (order.returnIds.has(data.returnId)) return [];
  for (const item of data.items) requirePositive(item.quantity, `quantity of ${item.productId}`);
  const items = mergeItems(data.items);
  for (const { productId, quantity } of items) {
    const sold = order.items.find((item) => item.productId === productId)?.quantity ?? 0;
    const returnable = sold - (order.returned.get(productId) ?? 0);
    if (quantity > returnable) {
      fail(
        'BAD_USER_INPUT',
        `order ${data.orderId} can return ${returnable} unit(s) of ${productId}, not ${quantity}`,
        { orderId: data.orderId, productId, requested: quantity, returnable },
      );
    }
  }
  return [{ type: 'StockReturned', data: { orderId: data.orderId, returnId: data.returnId, items } }];
};

/** Decides what a command does to the inventory; throws a DomainError when it breaks a rule. */
export const decide = (command: InventoryCommand, state: Inventory): InventoryEvent[] => {
  switch (command.type) {
    case 'CreateProduct':
      return createProduct(command.data, state);
    case 'RestockProduct':
      return restockProduct(command.data, state);
    case 'ReserveStock':
      return reserveStock(command.data, state);
    case 'ReleaseStock':
      return releaseStock(command.data, state);
    case 'CommitStock':
      return commitStock(command.data.orderId, state);
    case 'ReturnStock':
      return returnStock(command.data, state);
    default:
      return command satisfies never;
  }
};

/** `products` with each item's product changed by `change` (products the inventory does not know are left out). */
const moveStock = (
  products: ReadonlyMap<string, ProductStock>,
  items: readonly Item[],
  change: (product: ProductStock, quantity: number) => ProductStock,
): ReadonlyMap<string, ProductStock> => {
  const next = new Map(products);
  for (const { productId, quantity } of items) {
    const product = next.get(productId);
    if (product) next.set(productId, change(product, quantity));
  }
  return next;
};

const withOrder = (state: Inventory, orderId: string, order: OrderStock): Inventory => ({
  ...state,
  orders: new Map(state.orders).set(orderId, order),
});

/** The inventory after an event. */
export const evolve = (state: Inventory, event: InventoryEvent): Inventory => {
  switch (event.type) {
    case 'ProductCreated': {
      const { productId, sku, name, priceCents, initialStock } = event.data;
      const product = { productId, sku, name, priceCents, available: initialStock, reserved: 0, sold: 0 };
      return { ...state, products: new Map(state.products).set(productId, product) };
    }
    case 'ProductRestocked':
      return {
        ...state,
        products: moveStock(state.products, [event.data], (p, q) => ({ ...p, available: p.available + q })),
      };
    case 'StockReserved': {
      const { orderId, items } = event.data;
      const products = moveStock(state.products, items, (p, q) => ({
        ...p,
        available: p.available - q,
        reserved: p.reserved + q,
      }));
      return withOrder({ ...state, products }, orderId, { status: 'reserved', items });
    }
    case 'StockReservationRejected':
      return withOrder(state, event.data.orderId, { status: 'rejected' });
    case 'StockReleased': {
      const { orderId, items } = event.data;
      const products = moveStock(state.products, items, (p, q) => ({
        ...p,
        available: p.available + q,
        reserved: p.reserved - q,
      }));
      return withOrder({ ...state, products }, orderId, { status: 'released', items });
    }
    case 'StockCommitted': {
      const { orderId, items } = event.data;
      const products = moveStock(state.products, items, (p, q) => ({
        ...p,
        reserved: p.reserved - q,
        sold: p.sold + q,
      }));
      return withOrder({ ...state, products }, orderId, {
        status: 'committed',
        items,
        returned: new Map(),
        returnIds: new Set(),
      });
    }
    case 'StockReturned': {
      const { orderId, returnId, items } = event.data;
      const products = moveStock(state.products, items, (p, q) => ({
        ...p,
        available: p.available + q,
        sold: p.sold - q,
      }));
      const order = state.orders.get(orderId);
      if (order?.status !== 'committed') return { ...state, products };
      const returned = new Map(order.returned);
      for (const { productId, quantity } of items)
        returned.set(productId, (returned.get(productId) ?? 0) + quantity);
      return withOrder({ ...state, products }, orderId, {
        ...order,
        returned,
        returnIds: new Set(order.returnIds).add(returnId),
      });
    }
    default:
      return event satisfies never;
  }
};

/** An inventory with no product and no order. */
export const initialState = (): Inventory => ({ products: new Map(), orders: new Map() });

/** The inventory decider (see the module comment). */
export const inventoryDecider: Decider<InventoryCommand, Inventory, InventoryEventType> = {
  decide,
  evolve,
  initialState,
};
