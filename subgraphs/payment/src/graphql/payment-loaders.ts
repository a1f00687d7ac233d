/**
 * Per-request DataLoaders of payments: every `_entities` representation and every
 * `Order.payment` of one request is answered by one SQL query per loader, with the customer
 * of the order (for the read check) joined in.
 */
import DataLoader from 'dataloader';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { PaymentStatus } from '../projections/index.ts';

/** A payment as the API shows it, with the customer who placed its order (null if unknown yet). */
export interface PaymentView {
  id: string;
  orderId: string;
  amountCents: number;
  status: PaymentStatus;
  customerId: string | null;
}

/** What is known about an order here: its customer and its payment, if any. */
export interface OrderPayment {
  orderId: string;
  customerId: string | null;
  payment: PaymentView | null;
}

/** The loaders of one request. */
export interface PaymentLoaders {
  byId: DataLoader<string, PaymentView | null>;
  byOrderId: DataLoader<string, OrderPayment>;
}

type Row = {
  orderId: string;
  customerId: string | null;
  id: string | null;
  amountCents: number | null;
  status: PaymentStatus | null;
};

const viewOf = (row: Row): PaymentView | null =>
  row.id === null || row.amountCents === null || row.status === null
    ? null
    : {
        id: row.id,
        orderId: row.orderId,
        amountCents: row.amountCents,
        status: row.status,
        customerId: row.customerId,
      };

/** New loaders for one request. */
export const createPaymentLoaders = (prisma: PrismaClient): PaymentLoaders => ({
  byId: new DataLoader(async (ids) => {
    const rows = await prisma.$queryRaw<Row[]>`
      SELECT p.id, p.order_id AS "orderId", p.amount_cents AS "amountCents", p.status, o.customer_id AS "customerId"
        FROM payments p LEFT JOIN payment_orders o ON o.order_id = p.order_id
       WHERE p.id = ANY(${[...ids]}::text[])`;
    const byId = new Map(rows.map((row) => [row.id, viewOf(row)]));
    return ids.map((id) => byId.get(id) ?? null);
  }),
  byOrderId: new DataLoader(async (orderIds) => {
    const rows = await prisma.$queryRaw<Row[]>`
      SELECT k.order_id AS "orderId", o.customer_id AS "customerId", p.id, p.amount_cents AS "amountCents", p.status
        FROM unnest(${[...orderIds]}::text[]) AS k(order_id)
        LEFT JOIN payment_orders o ON o.order_id = k.order_id
        LEFT JOIN payments p ON p.order_id = k.order_id`;
    const byOrderId = new Map(
      rows.map((row) => [
        row.orderId,
        { orderId: row.orderId, customerId: row.customerId, payment: viewOf(row) },
      ]),
    );
    return orderIds.map((orderId) => byOrderId.get(orderId) ?? { orderId, customerId: null, payment: null });
  }),
});
