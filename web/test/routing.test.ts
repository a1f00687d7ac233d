import { describe, expect, it } from 'vitest';
import { hrefOf, type Route, routeOf } from '../src/routing.ts';

describe('routes', () => {
  it('round-trip through the hash', () => {
    const routes: Route[] = [
      { page: 'catalog' },
      { page: 'cart' },
      { page: 'orders' },
      { page: 'order', orderId: '01a2-ff' },
      { page: 'return', returnId: 'r/1' },
      { page: 'admin-products' },
      { page: 'sales-report' },
    ];
    for (const route of routes) expect(routeOf(hrefOf(route))).toEqual(route);
  });

  it('fall back to the catalog for anything unknown', () => {
    expect(routeOf('')).toEqual({ page: 'catalog' });
    expect(routeOf('#/nowhere')).toEqual({ page: 'catalog' });
  });
});
