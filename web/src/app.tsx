/**
 * The app: the sign-in page until someone signs in, then the shop (catalog, cart, orders and
 * their live timelines) and, for admins, the product and sales pages. One gateway client per
 * signed-in user.
 */
import { useCallback, useEffect, useMemo, useReducer, useState } from 'react';
import { type Cart, type CartAction, cartReducer } from './cart/cart.ts';
import { ConnectionBanner } from './components/connection-banner.tsx';
import { createGatewayClient } from './gateway/client.ts';
import { GatewayProvider } from './gateway/hooks.ts';
import { AdminProductsPage } from './pages/admin-products.tsx';
import { CartPage } from './pages/cart.tsx';
import { CatalogPage } from './pages/catalog.tsx';
import { OrderPage } from './pages/order.tsx';
import { OrdersPage } from './pages/orders.tsx';
import { ReturnPage } from './pages/return.tsx';
import { SalesReportPage } from './pages/sales-report.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { hrefOf, type Route, useRoute } from './routing.ts';
import { hasRole, loadSession, type Session, saveSession } from './session.ts';

const gatewayUrls = () => ({
  httpUrl: new URL('/graphql', window.location.href).toString(),
  wsUrl: new URL('/graphql', window.location.href).toString().replace(/^http/, 'ws'),
});

export const App = () => {
  const [session, setSession] = useState<Session | undefined>(() => loadSession());
  const client = useMemo(
    () => (session ? createGatewayClient({ ...gatewayUrls(), token: () => session.token }) : undefined),
    [session],
  );
  useEffect(() => () => client?.dispose(), [client]);
  const signIn = useCallback((next: Session | undefined) => {
    saveSession(next);
    setSession(next);
  }, []);

  if (!session || !client) return <SignInPage onSignedIn={signIn} />;
  return (
    <GatewayProvider value={client}>
      <Shop session={session} onSignOut={() => signIn(undefined)} />
    </GatewayProvider>
  );
};

const cartKey = (session: Session) => `magasin.cart.${session.sub}`;

const loadCart = (session: Session): Cart => {
  try {
    const stored = JSON.parse(sessionStorage.getItem(cartKey(session)) ?? '[]') as unknown;
    return Array.isArray(stored) ? (stored as Cart) : [];
  } catch {
    return [];
  }
};

const Shop = ({ session, onSignOut }: { session: Session; onSignOut: () => void }) => {
  const route = useRoute();
  const [cart, dispatch] = useReducer(cartReducer, session, loadCart);
  useEffect(() => sessionStorage.setItem(cartKey(session), JSON.stringify(cart)), [cart, session]);
  const admin = hasRole(session, 'admin');
  const customer = hasRole(session, 'customer');
  const items = cart.reduce((total, line) => total + line.quantity, 0);

  return (
    <div className="shell">
      <header className="topbar">
        <a className="brand" href={hrefOf({ page: 'catalog' })}>
          Magasin
        </a>
        <nav>
          <NavLink route={{ page: 'catalog' }} current={route} label="Catalog" />
          {customer && (
            <NavLink route={{ page: 'cart' }} current={route} label={`Cart (${items})`} testId="nav-cart" />
          )}
          <NavLink route={{ page: 'orders' }} current={route} label={admin ? 'All orders' : 'My orders'} />
          {admin && <NavLink route={{ page: 'admin-products' }} current={route} label="Products" />}
          {admin && <NavLink route={{ page: 'sales-report' }} current={route} label="Sales report" />}
        </nav>
        <div className="user">
          <span data-testid="signed-in-as">
            {session.sub} <small>({session.roles.join(', ')})</small>
          </span>
          <button type="button" className="link" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <ConnectionBanner onSignOut={onSignOut} />
      <main>
        <Page route={route} cart={cart} dispatch={dispatch} session={session} />
      </main>
    </div>
  );
};

const NavLink = ({
  route,
  current,
  label,
  testId,
}: {
  route: Route;
  current: Route;
  label: string;
  testId?: string;
}) => (
  <a
    href={hrefOf(route)}
    className={route.page === current.page ? 'active' : undefined}
    data-testid={testId}
    aria-current={route.page === current.page ? 'page' : undefined}
  >
    {label}
  </a>
);

const Page = ({
  route,
  cart,
  dispatch,
  session,
}: {
  route: Route;
  cart: Cart;
  dispatch: (action: CartAction) => void;
  session: Session;
}) => {
  switch (route.page) {
    case 'catalog':
      return <CatalogPage cart={cart} dispatch={dispatch} canOrder={hasRole(session, 'customer')} />;
    case 'cart':
      return <CartPage cart={cart} dispatch={dispatch} />;
    case 'orders':
      return <OrdersPage showCustomer={hasRole(session, 'admin')} />;
    case 'order':
      return <OrderPage orderId={route.orderId} />;
    case 'return':
      return <ReturnPage returnId={route.returnId} />;
    case 'admin-products':
      return hasRole(session, 'admin') ? <AdminProductsPage /> : <NotAllowed />;
    case 'sales-report':
      return hasRole(session, 'admin') ? <SalesReportPage /> : <NotAllowed />;
    default: {
      const unknown: never = route;
      return <p>Unknown page {JSON.stringify(unknown)}</p>;
    }
  }
};

const NotAllowed = () => (
  <p className="notice error" role="alert">
    This page is for admins. Sign out and sign in as an admin to see it.
  </p>
);
