/**
 * Per-request DataLoaders: every saga, every `Order.saga` / `Order.returnSagas` and every read
 * check of one request is answered by one query per loader, whatever the number of orders.
 */
import type { EventStoreClient } from '@magasin/event-store/client';
import { parseEnvelope } from '@magasin/events';
import DataLoader from 'dataloader';
import { orderStreamId } from '../domain/order-return.ts';
import type { SagaView } from '../domain/timeline.ts';
import type { SagaPrisma } from '../projections/index.ts';
import { readReturnSagaIds, readSagaViews } from '../saga-views.ts';

/** The loaders of one request. */
export interface SagaLoaders {
  sagas: DataLoader<string, SagaView | null>;
  returnSagaIds: DataLoader<string, string[]>;
  /** Who placed each order; null for an order nobody placed. */
  customers: DataLoader<string, string | null>;
}

/**
 * Who placed `orderId`, from its stream: the read model learns it from OrderPlaced a moment
 * after the order is placed, and a subscriber may come before that.
 */
const customerFromStream = async (eventStore: EventStoreClient, orderId: string): Promise<string | null> => {
  const { events } = await eventStore.readStream(orderStreamId(orderId));
  const placed = events.find((event) => event.type === 'OrderPlaced');
  if (!placed) return null;
  const parsed = parseEnvelope(placed);
  if (!parsed.ok) throw new Error(`${placed.streamId} v${placed.version}: ${parsed.reason}`);
  return (parsed.event.data as { customerId: string }).customerId;
};

/** New loaders for one request. */
export const createSagaLoaders = (prisma: SagaPrisma, eventStore: EventStoreClient): SagaLoaders => ({
  sagas: new DataLoader(async (ids) => {
    const views = await readSagaViews(prisma, ids);
    return ids.map((id) => views.get(id) ?? null);
  }),
  returnSagaIds: new DataLoader(async (orderIds) => {
    const byOrder = await readReturnSagaIds(prisma, orderIds);
    return orderIds.map((orderId) => byOrder.get(orderId) ?? []);
  }),
  customers: new DataLoader(async (orderIds) => {
    const rows = await prisma.sagaOrder.findMany({ where: { orderId: { in: [...orderIds] } } });
    const known = new Map(rows.map((row) => [row.orderId, row.customerId]));
    return Promise.all(
      orderIds.map(async (orderId) => known.get(orderId) ?? (await customerFromStream(eventStore, orderId))),
    );
  }),
});
