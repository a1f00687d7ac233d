/**
 * The `products` read model: catalog fields and stock levels, following the event store's log
 * (the kit's projector; checkpoint in the same transaction). Each handler is a function of the
 * event alone, so a rebuild from the log gives exactly the live rows.
 */
import { fileURLToPath } from 'node:url';
import type { EventOf } from '@magasin/events';
import type { ProjectionDefinition } from '@magasin/subgraph-kit';
import { PrismaPg } from '@prisma/adapter-pg';
import { type Prisma, PrismaClient } from '../generated/prisma/client.ts';

type Tx = Prisma.TransactionClient;
type Levels = { available?: number; reserved?: number; sold?: number };

/** Moves each item's quantity between levels: `change(quantity)` gives the increment of each level. */
const moveStock = async (
  tx: Tx,
  items: readonly { productId: string; quantity: number }[],
  change: (quantity: number) => Levels,
) => {
  for (const { productId, quantity } of items) {
    const levels = change(quantity);
    await tx.product.update({
      where: { id: productId },
      data: {
        ...(levels.available ? { available: { increment: levels.available } } : {}),
        ...(levels.reserved ? { reserved: { increment: levels.reserved } } : {}),
        ...(levels.sold ? { sold: { increment: levels.sold } } : {}),
      },
    });
  }
};

const productCreated = async (event: EventOf<'ProductCreated'>, tx: Tx) => {
  const { productId, sku, name, priceCents, initialStock } = event.data;
  await tx.product.create({
    data: {
      id: productId,
      sku,
      name,
      priceCents,
      available: initialStock,
      reserved: 0,
      sold: 0,
      createdAt: new Date(event.occurredAt),
    },
  });
};

/** The inventory's read model. */
export const projection: ProjectionDefinition<PrismaClient, Tx> = {
  name: 'inventory',
  migrationsDirectory: fileURLToPath(new URL('../../prisma/migrations', import.meta.url)),
  createPrisma: (databaseUrl, options) =>
    new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }, options) }),
  handlers: {
    ProductCreated: productCreated,
    ProductRestocked: (event, tx) => moveStock(tx, [event.data], (q) => ({ available: q })),
    StockReserved: (event, tx) => moveStock(tx, event.data.items, (q) => ({ available: -q, reserved: q })),
    StockReleased: (event, tx) => moveStock(tx, event.data.items, (q) => ({ reserved: -q, available: q })),
    StockCommitted: (event, tx) => moveStock(tx, event.data.items, (q) => ({ reserved: -q, sold: q })),
    StockReturned: (event, tx) => moveStock(tx, event.data.items, (q) => ({ sold: -q, available: q })),
  },
};
