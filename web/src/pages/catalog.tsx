/** The catalog with live stock (polled every 2 s), and adding to the cart. */
import { CatalogDocument, type ProductCardFragment } from '@magasin/events/operations';
import { type Cart, type CartAction, quantityInCart } from '../cart/cart.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { useQuery } from '../gateway/hooks.ts';
import { formatCents } from '../money.ts';
import { hrefOf } from '../routing.ts';

/** How often the catalog's stock levels are refreshed. */
export const CATALOG_POLL_MS = 2_000;

export const CatalogPage = ({
  cart,
  dispatch,
  canOrder,
}: {
  cart: Cart;
  dispatch: (action: CartAction) => void;
  canOrder: boolean;
}) => {
  const catalog = useQuery(CatalogDocument, { pollMs: CATALOG_POLL_MS });
  return (
    <>
      <div className="page-title">
        <h1>Catalog</h1>
        <span className="hint">Stock levels update live.</span>
      </div>
      <ErrorMessage error={catalog.error} prefix="The catalog could not be refreshed." />
      {catalog.loading && !catalog.data && <p className="hint">Loading the catalog…</p>}
      {catalog.data?.products.length === 0 && (
        <p className="hint">The catalog is empty: an admin can add products.</p>
      )}
      <ul className="products">
        {catalog.data?.products.map((product) => (
          <ProductCard
            key={product.id}
            product={product}
            inCart={quantityInCart(cart, product.id)}
            canOrder={canOrder}
            onAdd={() => dispatch({ type: 'add', product })}
          />
        ))}
      </ul>
      {canOrder && cart.length > 0 && (
        <p className="cart-cta">
          <a className="button" href={hrefOf({ page: 'cart' })} data-testid="go-to-cart">
            Go to cart
          </a>
        </p>
      )}
    </>
  );
};

const stockLabel = (available: number): { text: string; tone: string } =>
  available === 0
    ? { text: 'Out of stock', tone: 'out' }
    : available <= 5
      ? { text: `Only ${available} left`, tone: 'low' }
      : { text: `${available} in stock`, tone: 'ok' };

const ProductCard = ({
  product,
  inCart,
  canOrder,
  onAdd,
}: {
  product: ProductCardFragment;
  inCart: number;
  canOrder: boolean;
  onAdd: () => void;
}) => {
  const { available, reserved, sold } = product.stock;
  const label = stockLabel(available);
  const full = inCart >= available;
  return (
    <li className="product" data-testid={`product-${product.sku}`}>
      <div className="product-head">
        <h2>{product.name}</h2>
        <span className="sku">{product.sku}</span>
      </div>
      <p className="price">{formatCents(product.priceCents)}</p>
      <p className={`stock stock-${label.tone}`}>
        <span data-testid="stock-label">{label.text}</span>
        <span className="stock-detail">
          <span data-testid="stock-available">{available}</span> available · {reserved} reserved · {sold} sold
        </span>
      </p>
      {canOrder && (
        <button type="button" onClick={onAdd} disabled={full} data-testid="add-to-cart">
          {available === 0 ? 'Out of stock' : full ? `All ${available} in your cart` : 'Add to cart'}
          {inCart > 0 && !full ? ` (${inCart} in cart)` : ''}
        </button>
      )}
    </li>
  );
};
