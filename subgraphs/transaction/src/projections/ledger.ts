/**
 * The ledger read model, following the event store's log in order: each order's lines (from
 * OrderPlaced), and one entry per sale and per refund with the product lines it moves. A refund
 * moves the order's lines back (returns are whole-order). Every row comes from the events alone
 * (times are `occurredAt`), so a rebuild from the log gives exactly the live tables.
 */
import { fileURLToPath } from 'node:url';
import type { EventOf } from '@magasin/events';
import type { ProjectionDefinition } from '@magasin/subgraph-kit';
import { PrismaPg } from '@prisma/adapter-pg';
import { type Prisma, PrismaClient } from '../generated/prisma/client.ts';

/** The service's Prisma client and its interactive transaction client. */
export type LedgerPrisma = PrismaClient;
export type LedgerTx = Prisma.TransactionClient;

/** What a ledger entry is. */
export type LedgerEntryKind = 'SALE' | 'REFUND';

const MIGRATIONS = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

/**
 * The PostgreSQL schema a URL's connections use (`options=-c search_path=<schema>`, as the kit
 * sets for a rebuild), so Prisma qualifies its queries with it rather than with `public`.
 */
const schemaOf = (databaseUrl: string): string | undefined =>
  /(?:^|\s)-c\s*search_path=([^\s,]+)/.exec(new URL(databaseUrl).searchParams.get('options') ?? '')?.[1];

/** A Prisma client on `databaseUrl` (driver adapter, no engine). */
export const createLedgerPrisma = (databaseUrl: string): LedgerPrisma => {
  const schema = schemaOf(databaseUrl);
  return new PrismaClient({
    adapter: new PrismaPg({ connectionString: databaseUrl }, schema ? { schema } : undefined),
  });
};

const recordEntry = async (
  tx: LedgerTx,
  entry: {
    id: string;
    kind: LedgerEntryKind;
    orderId: string;
    customerId: string;
    returnId: string | null;
    amountCents: number;
    occurredAt: string;
  },
): Promise<void> => {
  const at = new Date(entry.occurredAt);
  const orderLines = await tx.orderLine.findMany({
    where: { orderId: entry.orderId },
    orderBy: { lineNo: 'asc' },
  });
  await tx.ledgerEntry.create({
    data: {
      id: entry.id,
      kind: entry.kind,
      orderId: entry.orderId,
      customerId: entry.customerId,
      returnId: entry.returnId,
      amountCents: entry.amountCents,
      at,
      lines: {
        create: orderLines.map((line) => ({
          lineNo: line.lineNo,
          kind: entry.kind,
          productId: line.productId,
          quantity: line.quantity,
          revenueCents: line.quantity * line.unitPriceCents,
          at,
        })),
      },
    },
  });
};

const orderPlaced = async (event: EventOf<'OrderPlaced'>, tx: LedgerTx): Promise<void> => {
  await tx.orderLine.createMany({
    data: event.data.lines.map((line, lineNo) => ({
      orderId: event.data.orderId,
      lineNo,
      productId: line.productId,
      quantity: line.quantity,
      unitPriceCents: line.unitPriceCents,
    })),
    skipDuplicates: true,
  });
};

const saleRecorded = (event: EventOf<'SaleRecorded'>, tx: LedgerTx): Promise<void> =>
  recordEntry(tx, {
    id: event.data.saleId,
    kind: 'SALE',
    orderId: event.data.orderId,
    customerId: event.data.customerId,
    returnId: null,
    amountCents: event.data.amountCents,
    occurredAt: event.occurredAt,
  });

const refundRecorded = async (event: EventOf<'RefundRecorded'>, tx: LedgerTx): Promise<void> => {
  // The ledger decider refunds only a recorded sale, so the sale precedes its refund in the log.
  const sale = await tx.ledgerEntry.findFirst({ where: { orderId: event.data.orderId, kind: 'SALE' } });
  if (!sale) {
    throw new Error(
      `RefundRecorded ${event.eventId} (position ${event.position}): no sale of order ${event.data.orderId} precedes it in the log`,
    );
  }
  await recordEntry(tx, {
    id: event.data.refundId,
    kind: 'REFUND',
    orderId: event.data.orderId,
    customerId: sale.customerId,
    returnId: event.data.returnId,
    amountCents: event.data.amountCents,
    occurredAt: event.occurredAt,
  });
};

/** The transaction service's projection (live, and replayed by rebuilds). */
export const projection: ProjectionDefinition<LedgerPrisma, LedgerTx> = {
  name: 'transaction',
  migrationsDirectory: MIGRATIONS,
  createPrisma: createLedgerPrisma,
  handlers: {
    OrderPlaced: orderPlaced,
    SaleRecorded: saleRecorded,
    RefundRecorded: refundRecorded,
  },
};
