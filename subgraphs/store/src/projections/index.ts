/**
 * The store's read models, following the event store's log: the catalog orders are priced from
 * (inventory's ProductCreated) and the orders with their lines and status. Every write comes
 * from the event alone (its data, occurredAt and position), so a rebuild equals the live tables.
 */
import { fileURLToPath } from 'node:url';
import type { EventOf } from '@magasin/events';
import type { ProjectionDefinition } from '@magasin/subgraph-kit';
import { PrismaPg } from '@prisma/adapter-pg';
import { type Prisma, PrismaClient } from '../generated/prisma/client.ts';

/** A transaction of the store's Prisma client: what projection handlers write through. */
export type StoreTx = Prisma.TransactionClient;

/**
 * The store's Prisma client on `databaseUrl`; `schema` (default public) is where its tables are:
 * a rebuild replays into a schema of its own, and Prisma qualifies every table with one.
 */
export const createStorePrisma = (databaseUrl: string, options: { schema?: string } = {}): PrismaClient =>
  new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }, options) });

/** Order status as stored and as GraphQL shows it. */
export type OrderStatusName = 'PENDING' | 'CONFIRMED' | 'CANCELLED' | 'RETURNED';

const setStatus = (
  tx: StoreTx,
  event: EventOf<'OrderConfirmed' | 'OrderCancelled' | 'OrderReturned'>,
  data: Prisma.OrderUpdateManyMutationInput & { status: OrderStatusName },
) =>
  // updateMany: an event for an order this read model never saw changes nothing instead of failing the page.
  tx.order.updateMany({
    where: { id: event.data.orderId },
    data: { ...data, updatedAt: new Date(event.occurredAt) },
  });

/** The store's projection, run by the kit (live) and by `npm run projections:rebuild -- store`. */
export const projection: ProjectionDefinition<PrismaClient, StoreTx> = {
  name: 'store',
  migrationsDirectory: fileURLToPath(new URL('../../prisma/migrations', import.meta.url)),
  createPrisma: createStorePrisma,
  handlers: {
    ProductCreated: async (event, tx) => {
      const { productId, sku, name, priceCents } = event.data;
      await tx.catalogProduct.upsert({
        where: { productId },
        create: { productId, sku, name, priceCents },
        update: { sku, name, priceCents },
      });
    },
    OrderPlaced: async (event, tx) => {
      const { orderId, customerId, lines, totalCents, currency, placedAt } = event.data;
      const existing = await tx.order.findUnique({ where: { id: orderId }, select: { id: true } });
      if (existing) return;
      await tx.order.create({
        data: {
          id: orderId,
          customerId,
          status: 'PENDING' satisfies OrderStatusName,
          totalCents,
          currency,
          placedAt: new Date(placedAt),
          placedPosition: BigInt(event.position),
          updatedAt: new Date(event.occurredAt),
          lines: {
            create: lines.map((line, index) => ({
              lineNo: index + 1,
              productId: line.productId,
              quantity: line.quantity,
              unitPriceCents: line.unitPriceCents,
            })),
          },
        },
      });
    },
    OrderConfirmed: async (event, tx) => {
      await setStatus(tx, event, { status: 'CONFIRMED', paymentId: event.data.paymentId });
    },
    OrderCancelled: async (event, tx) => {
      await setStatus(tx, event, {
        status: 'CANCELLED',
        cancelReason: event.data.reason,
        cancelDetail: event.data.detail ?? null,
      });
    },
    OrderReturned: async (event, tx) => {
      await setStatus(tx, event, { status: 'RETURNED', returnId: event.data.returnId });
    },
  },
};
