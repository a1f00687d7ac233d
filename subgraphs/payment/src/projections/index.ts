/**
 * The payment read model, following the event store's log: one row per payment, and who placed
 * each order (OrderPlaced's customerId, never its card token) so that only the order's customer
 * or an admin reads its payment. Every write is an upsert from the event alone (times are
 * `occurredAt`), so a rebuild from the log gives exactly the live rows.
 */
import { fileURLToPath } from 'node:url';
import type { ProjectionDefinition } from '@magasin/subgraph-kit';
import { PrismaPg } from '@prisma/adapter-pg';
import { type Prisma, PrismaClient } from '../generated/prisma/client.ts';

/** Statuses of the `payments.status` column (the GraphQL `PaymentStatus`). */
export const PAYMENT_STATUS = { captured: 'CAPTURED', declined: 'DECLINED', refunded: 'REFUNDED' } as const;
/** A value of `payments.status`. */
export type PaymentStatus = (typeof PAYMENT_STATUS)[keyof typeof PAYMENT_STATUS];

/** The service's `prisma/migrations`. */
export const MIGRATIONS_DIRECTORY = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

/**
 * A Prisma client on `databaseUrl`. A `search_path` in the URL's `options` (the kit's rebuild
 * schema) becomes the adapter's schema: Prisma qualifies every table with it. `onQuery` is told
 * every SQL statement the client sends (tests count them; off by default).
 */
export const createPrisma = (
  databaseUrl: string,
  options: { onQuery?: (sql: string) => void } = {},
): PrismaClient => {
  const searchPath = /search_path=([^\s&]+)/.exec(
    new URL(databaseUrl).searchParams.get('options') ?? '',
  )?.[1];
  const adapter = new PrismaPg(
    { connectionString: databaseUrl },
    searchPath ? { schema: searchPath } : undefined,
  );
  const { onQuery } = options;
  if (!onQuery) return new PrismaClient({ adapter });
  const client = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
  client.$on('query', (event) => onQuery(event.query));
  return client;
};

const at = (occurredAt: string) => new Date(occurredAt);

/** The payment projection of the service. */
export const projection: ProjectionDefinition<PrismaClient, Prisma.TransactionClient> = {
  name: 'payment',
  migrationsDirectory: MIGRATIONS_DIRECTORY,
  createPrisma: (databaseUrl) => createPrisma(databaseUrl),
  handlers: {
    OrderPlaced: async ({ data }, tx) => {
      const row = { customerId: data.customerId, placedAt: at(data.placedAt) };
      await tx.paymentOrder.upsert({
        where: { orderId: data.orderId },
        create: { orderId: data.orderId, ...row },
        update: row,
      });
    },
    PaymentCaptured: async ({ data, occurredAt }, tx) => {
      const row = {
        orderId: data.orderId,
        amountCents: data.amountCents,
        status: PAYMENT_STATUS.captured,
        declineReason: null,
        refundedCents: null,
        createdAt: at(occurredAt),
        updatedAt: at(occurredAt),
      };
      await tx.payment.upsert({
        where: { id: data.paymentId },
        create: { id: data.paymentId, ...row },
        update: row,
      });
    },
    PaymentDeclined: async ({ data, occurredAt }, tx) => {
      const row = {
        orderId: data.orderId,
        amountCents: data.amountCents,
        status: PAYMENT_STATUS.declined,
        declineReason: data.reason,
        refundedCents: null,
        createdAt: at(occurredAt),
        updatedAt: at(occurredAt),
      };
      await tx.payment.upsert({
        where: { id: data.paymentId },
        create: { id: data.paymentId, ...row },
        update: row,
      });
    },
    PaymentRefunded: async ({ data, occurredAt }, tx) => {
      await tx.payment.update({
        where: { id: data.paymentId },
        data: { status: PAYMENT_STATUS.refunded, refundedCents: data.amountCents, updatedAt: at(occurredAt) },
      });
    },
  },
};
