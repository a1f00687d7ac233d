/**
 * The shopping cart: lines of products with quantities, kept within the stock the catalog
 * shows. A pure reducer; the page stores it per user in sessionStorage.
 */
import type { ProductCardFragment } from '@magasin/events/operations';

/** One line of the cart; the price is the catalog's when added (the store charges its own). */
export interface CartLine {
  readonly productId: string;
  readonly name: string;
  readonly priceCents: number;
  readonly quantity: number;
}

/** The cart: at most one line per product, in the order they were added. */
export type Cart = readonly CartLine[];

/** What can happen to a cart. */
export type CartAction =
  | { readonly type: 'add'; readonly product: Pick<ProductCardFragment, 'id' | 'name' | 'priceCents'> }
  | { readonly type: 'setQuantity'; readonly productId: string; readonly quantity: number }
  | { readonly type: 'remove'; readonly productId: string }
  | { readonly type: 'clear' };

/** The cart after `action`. A quantity below 1 removes the line. */
export const cartReducer = (cart: Cart, action: CartAction): Cart => {
  switch (action.type) {
    case 'add': {
      const existing = cart.find((line) => line.productId === action.product.id);
      if (existing) {
        return cart.map((line) => (line === existing ? { ...line, quantity: line.quantity + 1 } : line));
      }
      const { id, name, priceCents } = action.product;
      return [...cart, { productId: id, name, priceCents, quantity: 1 }];
    }
    case 'setQuantity': {
      const quantity = Math.floor(action.quantity);
      if (!Number.isFinite(quantity) || quantity < 1) {
        return cart.filter((line) => line.productId !== action.productId);
      }
      return cart.map((line) => (line.productId === action.productId ? { ...line, quantity } : line));
    }
    case 'remove':
      return cart.filter((line) => line.productId !== action.productId);
    case 'clear':
      return [];
    default: {
      const unknown: never = action;
      throw new Error(`unknown cart action ${JSON.stringify(unknown)}`);
    }
  }
};

/** Sum of the lines, in cents. */
export const cartTotalCents = (cart: Cart): number =>
  cart.reduce((total, line) => total + line.quantity * line.priceCents, 0);

/** Units of `productId` in the cart. */
export const quantityInCart = (cart: Cart, productId: string): number =>
  cart.find((line) => line.productId === productId)?.quantity ?? 0;

/**
 * Lines asking for more than the catalog shows available (or for a product gone from it), as
 * sentences. The store decides in the end: stock can go between this check and the order.
 */
export const stockProblems = (
  cart: Cart,
  products: readonly Pick<ProductCardFragment, 'id' | 'stock'>[] | undefined,
): string[] => {
  if (!products) return [];
  const problems: string[] = [];
  for (const line of cart) {
    const product = products.find((candidate) => candidate.id === line.productId);
    if (!product) {
      problems.push(`${line.name} is no longer in the catalog.`);
    } else if (product.stock.available === 0) {
      problems.push(`${line.name} is out of stock.`);
    } else if (line.quantity > product.stock.available) {
      problems.push(
        `Only ${product.stock.available} × ${line.name} left in stock (you asked for ${line.quantity}).`,
      );
    }
  }
  return problems;
};
