/**
 * Resolvers of the inventory subgraph (schema.graphql beside this file). Queries read the
 * projection; mutations go through the inventory stream and answer with the state its decider
 * produced (the projection may lag behind).
 */
import { DomainError, type RequestContext, requireRole } from '@magasin/subgraph-kit';
import type { Histogram } from 'prom-client';
import { validate as isUuid, v7 as uuidv7 } from 'uuid';
import type { Inventory } from '../domain/inventory.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { InventoryStream } from '../inventory-stream.ts';
import { createProductLoader, type ProductLoader, type ProductView } from './product-loader.ts';

/** What inventory adds to each request's context. */
export interface InventoryRequest {
  /** This request's batched product lookups. */
  products: ProductLoader;
}

/** A resolver's context. */
export type InventoryContext = RequestContext & InventoryRequest;

/** The per-request part of the context. */
export const inventoryRequest = (prisma: PrismaClient, batchSizes: Histogram): InventoryRequest => ({
  products: createProductLoader(prisma, batchSizes),
});

interface CreateProductInput {
  sku: string;
  name: string;
  priceCents: number;
  initialStock: number;
}

/** Product ids are UUIDs: anything else is a client's mistake, said as such. */
const requireProductId = (id: string): string => {
  if (!isUuid(id))
    throw new DomainError('BAD_USER_INPUT', `a product id is a UUID, got ${JSON.stringify(id)}`);
  return id;
};

/** The product as the decider left it (the mutation's answer). */
const decided = (inventory: Inventory, productId: string): ProductView => {
  const product = inventory.products.get(productId);
  if (!product) throw new Error(`inventory has no product ${productId} right after deciding about it`);
  const { sku, name, priceCents, available, reserved, sold } = product;
  return { id: productId, sku, name, priceCents, available, reserved, sold };
};

/** The resolver map, over the read model (`prisma`) and the inventory stream. */
export const inventoryResolvers = (deps: { prisma: PrismaClient; inventory: InventoryStream }) => {
  const { prisma, inventory } = deps;
  return {
    Query: {
      products: (): Promise<ProductView[]> =>
        prisma.product.findMany({
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
          select: {
            id: true,
            sku: true,
            name: true,
            priceCents: true,
            available: true,
            reserved: true,
            sold: true,
          },
        }),
      product: (_: unknown, args: { id: string }, context: InventoryContext) =>
        context.products.load(requireProductId(args.id)),
    },
    Mutation: {
      createProduct: async (_: unknown, args: { input: CreateProductInput }, context: InventoryContext) => {
        const identity = requireRole(context.identity, 'admin');
        const productId = uuidv7();
        const result = await inventory.handle(
          { type: 'CreateProduct', data: { productId, ...args.input } },
          { correlationId: context.correlationId, causationId: null, actor: identity.sub },
        );
        return decided(result.state, productId);
      },
      restockProduct: async (
        _: unknown,
        args: { productId: string; quantity: number },
        context: InventoryContext,
      ) => {
        const identity = requireRole(context.identity, 'admin');
        const productId = requireProductId(args.productId);
        const result = await inventory.handle(
          { type: 'RestockProduct', data: { productId, quantity: args.quantity } },
          { correlationId: context.correlationId, causationId: null, actor: identity.sub },
        );
        return decided(result.state, productId);
      },
    },
    Product: {
      __resolveReference: (reference: { id: string }, context: InventoryContext) =>
        context.products.load(reference.id),
      stock: (product: ProductView) => ({
        available: product.available,
        reserved: product.reserved,
        sold: product.sold,
      }),
    },
  };
};
