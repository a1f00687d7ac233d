/**
 * Products by id for one request, batched: every `Product` reference of a federated query
 * (`_entities`), however many, costs one read of the projection.
 */
import DataLoader from 'dataloader';
import { Histogram, type Registry } from 'prom-client';
import type { PrismaClient } from '../generated/prisma/client.ts';

/** A product as the GraphQL layer serves it, from the read model or from the decider's state. */
export interface ProductView {
  id: string;
  sku: string;
  name: string;
  priceCents: number;
  available: number;
  reserved: number;
  sold: number;
}

/** Loads products by id (null for an unknown id); create one per request. */
export type ProductLoader = DataLoader<string, ProductView | null>;

/** Ids per batched read of the products table (`magasin_inventory_product_batch_size`). */
export const productBatchSizes = (registry: Registry): Histogram =>
  (registry.getSingleMetric('magasin_inventory_product_batch_size') as Histogram | undefined) ??
  new Histogram({
    name: 'magasin_inventory_product_batch_size',
    help: 'Product ids read per batched lookup (federation references and product(id))',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers: [registry],
  });

/** A request's product loader over the read model. */
export const createProductLoader = (prisma: PrismaClient, batchSizes: Histogram): ProductLoader =>
  new DataLoader<string, ProductView | null>(async (ids) => {
    batchSizes.observe(ids.length);
    const rows = await prisma.product.findMany({
      where: { id: { in: [...ids] } },
      select: {
        id: true,
        sku: true,
        name: true,
        priceCents: true,
        available: true,
        reserved: true,
        sold: true,
      },
    });
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
