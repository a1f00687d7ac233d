import { describe, expect, it } from 'vitest';
import { type Cart, cartReducer, cartTotalCents, quantityInCart, stockProblems } from '../src/cart/cart.ts';

const kettle = { id: 'k', name: 'Kettle', priceCents: 3_490 };
const mug = { id: 'm', name: 'Mug', priceCents: 1_250 };
const withStock = (id: string, available: number) => ({ id, stock: { available, reserved: 0, sold: 0 } });

describe('the cart', () => {
  it('adds a product once per line and counts units', () => {
    let cart: Cart = [];
    cart = cartReducer(cart, { type: 'add', product: kettle });
    cart = cartReducer(cart, { type: 'add', product: mug });
    cart = cartReducer(cart, { type: 'add', product: kettle });
    expect(cart).toEqual([
      { productId: 'k', name: 'Kettle', priceCents: 3_490, quantity: 2 },
      { productId: 'm', name: 'Mug', priceCents: 1_250, quantity: 1 },
    ]);
    expect(quantityInCart(cart, 'k')).toBe(2);
    expect(cartTotalCents(cart)).toBe(2 * 3_490 + 1_250);
  });

  it('drops a line set below one unit, and empties when cleared', () => {
    const cart = cartReducer([], { type: 'add', product: kettle });
    expect(cartReducer(cart, { type: 'setQuantity', productId: 'k', quantity: 0 })).toEqual([]);
    expect(cartReducer(cart, { type: 'setQuantity', productId: 'k', quantity: Number.NaN })).toEqual([]);
    expect(cartReducer(cart, { type: 'setQuantity', productId: 'k', quantity: 3.7 })[0]?.quantity).toBe(3);
    expect(cartReducer(cart, { type: 'remove', productId: 'k' })).toEqual([]);
    expect(cartReducer(cart, { type: 'clear' })).toEqual([]);
  });

  it('warns of lines beyond the stock the catalog shows', () => {
    const cart: Cart = [
      { productId: 'k', name: 'Kettle', priceCents: 1, quantity: 3 },
      { productId: 'm', name: 'Mug', priceCents: 1, quantity: 1 },
      { productId: 'gone', name: 'Teapot', priceCents: 1, quantity: 1 },
    ];
    expect(stockProblems(cart, [withStock('k', 2), withStock('m', 0)])).toEqual([
      'Only 2 × Kettle left in stock (you asked for 3).',
      'Mug is out of stock.',
      'Teapot is no longer in the catalog.',
    ]);
    expect(stockProblems(cart, undefined)).toEqual([]);
  });
});
