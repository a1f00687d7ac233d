/**
 * The cart: quantities within the live stock, a card to pay with (the simulated processor's
 * tokens), and placing the order, which opens its live timeline.
 */
import { CatalogDocument, PlaceOrderDocument } from '@magasin/events/operations';
import { useRef, useState } from 'react';
import { type Cart, type CartAction, cartTotalCents, stockProblems } from '../cart/cart.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import type { GatewayError } from '../gateway/errors.ts';
import { useMutation, useQuery } from '../gateway/hooks.ts';
import { formatCents } from '../money.ts';
import { hrefOf, navigate } from '../routing.ts';
import { CATALOG_POLL_MS } from './catalog.tsx';

/** The cards of the simulated card processor, and what each does. */
export const PAYMENT_CARDS = [
  { token: 'tok_visa', label: 'Visa ending 4242', effect: 'payment is captured' },
  {
    token: 'tok_declined',
    label: 'Card that is declined',
    effect: 'the order is cancelled and the stock put back',
  },
  {
    token: 'tok_timeout',
    label: 'Card processor that never answers',
    effect: 'the saga times out and compensates',
  },
] as const;

/** What to say when placing the order failed. */
const placeOrderError = (error: GatewayError): unknown =>
  error.code === 'NOT_FOUND'
    ? new Error(
        `${error.message}. A product that was just added may take a moment to reach the store: try again shortly.`,
      )
    : error;

export const CartPage = ({ cart, dispatch }: { cart: Cart; dispatch: (action: CartAction) => void }) => {
  const catalog = useQuery(CatalogDocument, { pollMs: CATALOG_POLL_MS });
  const placeOrder = useMutation(PlaceOrderDocument);
  const [card, setCard] = useState<string>(PAYMENT_CARDS[0].token);
  // One key per cart: pressing again after a lost answer cannot place the order twice.
  const idempotencyKey = useRef(crypto.randomUUID());
  const change = (action: CartAction) => {
    idempotencyKey.current = crypto.randomUUID();
    placeOrder.reset();
    dispatch(action);
  };

  if (cart.length === 0) {
    return (
      <>
        <h1>Cart</h1>
        <p className="hint">
          Your cart is empty. <a href={hrefOf({ page: 'catalog' })}>Browse the catalog</a>.
        </p>
      </>
    );
  }
  const problems = stockProblems(cart, catalog.data?.products);
  const submit = async () => {
    try {
      const { placeOrder: placed } = await placeOrder.run({
        input: {
          lines: cart.map((line) => ({ productId: line.productId, quantity: line.quantity })),
          paymentToken: card,
          idempotencyKey: idempotencyKey.current,
        },
      });
      idempotencyKey.current = crypto.randomUUID();
      dispatch({ type: 'clear' });
      navigate({ page: 'order', orderId: placed.order.id });
    } catch {
      // shown from placeOrder.error
    }
  };

  return (
    <>
      <h1>Cart</h1>
      <table className="lines">
        <thead>
          <tr>
            <th>Product</th>
            <th>Unit price</th>
            <th>Quantity</th>
            <th>Subtotal</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {cart.map((line) => (
            <tr key={line.productId}>
              <td>{line.name}</td>
              <td>{formatCents(line.priceCents)}</td>
              <td>
                <input
                  type="number"
                  min={1}
                  value={line.quantity}
                  aria-label={`Quantity of ${line.name}`}
                  onChange={(event) =>
                    change({
                      type: 'setQuantity',
                      productId: line.productId,
                      quantity: Number(event.target.value),
                    })
                  }
                />
              </td>
              <td>{formatCents(line.priceCents * line.quantity)}</td>
              <td>
                <button
                  type="button"
                  className="link"
                  onClick={() => change({ type: 'remove', productId: line.productId })}
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th colSpan={3}>Total</th>
            <th data-testid="cart-total">{formatCents(cartTotalCents(cart))}</th>
            <th />
          </tr>
        </tfoot>
      </table>
      {problems.length > 0 && (
        <ul className="notice warning" data-testid="stock-problems">
          {problems.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      )}
      <fieldset className="cards">
        <legend>Pay with</legend>
        {PAYMENT_CARDS.map((option) => (
          <label key={option.token} className="card-option">
            <input
              type="radio"
              name="card"
              value={option.token}
              checked={card === option.token}
              onChange={() => setCard(option.token)}
              data-testid={`card-${option.token}`}
            />
            <span>
              <strong>{option.label}</strong> <code>{option.token}</code>
              <small> — {option.effect}</small>
            </span>
          </label>
        ))}
      </fieldset>
      {placeOrder.error && (
        <ErrorMessage error={placeOrderError(placeOrder.error)} prefix="The order was not placed." />
      )}
      <button
        type="button"
        className="primary"
        disabled={placeOrder.running || problems.length > 0}
        onClick={() => void submit()}
        data-testid="place-order"
      >
        {placeOrder.running ? 'Placing the order…' : `Place order (${formatCents(cartTotalCents(cart))})`}
      </button>
    </>
  );
};
