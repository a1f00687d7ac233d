/**
 * Per-request batching of order reads: every `Order` asked for in one request (a list of
 * entities from the gateway, `order(id)`) is fetched with one query.
 */
import DataLoader from 'dataloader';
import { Histogram, type Registry } from 'prom-client';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { type OrderView, viewOfRow } from './order-view.ts';

/** Metrics of the order reads. */
export interface OrderReadMetrics {
  /** Orders asked for per database query: one observation per batch. */
  batchSize: Histogram;
}

/** Registers (once per registry) the metrics of order reads. */
export const orderReadMetrics = (registry: Registry): OrderReadMetrics => ({
  batchSize:
    (registry.getSingleMetric('magasin_store_order_batch_size') as Histogram | undefined) ??
    new Histogram({
      name: 'magasin_store_order_batch_size',
      help: 'Orders fetched per batched read (one read per GraphQL request and tick)',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500],
      registers: [registry],
    }),
});

/** What the store adds to each request's context. */
export interface StoreContext {
  /** Orders by id (null when unknown), batched per request. */
  orders: DataLoader<string, OrderView | null>;
}

/** The loaders of one request. */
export const createLoaders = (prisma: PrismaClient, metrics: OrderReadMetrics): StoreContext => ({
  orders: new DataLoader(async (ids: readonly string[]) => {
    metrics.batchSize.observe(ids.length);
    const rows = await prisma.order.findMany({ where: { id: { in: [...ids] } }, include: { lines: true } });
    const byId = new Map(rows.map((row) => [row.id, viewOfRow(row)]));
    return ids.map((id) => byId.get(id) ?? null);
  }),
});
