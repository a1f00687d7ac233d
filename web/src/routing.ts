/**
 * The app's pages, addressed by the URL's hash (#/orders/<id>): the gateway serves one static
 * index.html and needs no route per page.
 */
import { useEffect, useState } from 'react';

/** Every page. */
export type Route =
  | { readonly page: 'catalog' }
  | { readonly page: 'cart' }
  | { readonly page: 'orders' }
  | { readonly page: 'order'; readonly orderId: string }
  | { readonly page: 'return'; readonly returnId: string }
  | { readonly page: 'admin-products' }
  | { readonly page: 'sales-report' };

/** The route of a hash such as `#/orders/123`; the catalog for anything unknown. */
export const routeOf = (hash: string): Route => {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case 'cart':
      return { page: 'cart' };
    case 'orders':
      return parts[1] ? { page: 'order', orderId: parts[1] } : { page: 'orders' };
    case 'returns':
      return parts[1] ? { page: 'return', returnId: parts[1] } : { page: 'orders' };
    case 'admin':
      return parts[1] === 'report' ? { page: 'sales-report' } : { page: 'admin-products' };
    default:
      return { page: 'catalog' };
  }
};

/** The hash of `route`. */
export const hrefOf = (route: Route): string => {
  switch (route.page) {
    case 'catalog':
      return '#/';
    case 'cart':
      return '#/cart';
    case 'orders':
      return '#/orders';
    case 'order':
      return `#/orders/${encodeURIComponent(route.orderId)}`;
    case 'return':
      return `#/returns/${encodeURIComponent(route.returnId)}`;
    case 'admin-products':
      return '#/admin/products';
    case 'sales-report':
      return '#/admin/report';
    default: {
      const unknown: never = route;
      throw new Error(`unknown route ${JSON.stringify(unknown)}`);
    }
  }
};

/** Goes to `route`. */
export const navigate = (route: Route): void => {
  window.location.hash = hrefOf(route);
};

/** The current route, following the hash. */
export const useRoute = (): Route => {
  const [route, setRoute] = useState(() => routeOf(window.location.hash));
  useEffect(() => {
    const follow = () => setRoute(routeOf(window.location.hash));
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);
  return route;
};
