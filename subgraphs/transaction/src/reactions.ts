/**
 * What the transaction service does on the bus: a confirmed order becomes a sale on its ledger
 * (customer and amount read from the order's stream in the event store), and the return saga's
 * RecordRefund command becomes a refund. Both are idempotent by the ledger's state: a
 * redelivered event or command decides nothing new.
 */
import type { EventStoreClient, RecordedEvent } from '@magasin/event-store/client';
import { newEventId, parseEnvelope } from '@magasin/events';
import type { ConsumeOptions } from '@magasin/messaging';
import { createCommandHandler, type PendingEvent, type SubgraphDeps } from '@magasin/subgraph-kit';
import { ledgerDecider, ledgerStreamId } from './domain/ledger.ts';
import { saleOfOrder } from './domain/order-sale.ts';
import type { LedgerPrisma, LedgerTx } from './projections/ledger.ts';

/** Actor of every event the reactions append. */
export const ACTOR = 'service:transaction';

/** The store's stream of an order. */
const orderStreamId = (orderId: string): string => `order-${orderId}`;

/** A stored event at its current schema version (OrderPlaced v1 is upcast), as a decider sees it. */
const asPending = (event: RecordedEvent): PendingEvent => {
  const parsed = parseEnvelope(event);
  if (!parsed.ok) throw new Error(`${event.streamId} v${event.version}: ${parsed.reason}`);
  return { type: parsed.event.type, data: parsed.event.data } as PendingEvent;
};

/** The sale of a confirmed order, read from its stream; throws (so the message is retried) when the stream says otherwise. */
const readSale = async (eventStore: EventStoreClient, orderId: string) => {
  const stream = await eventStore.readStream(orderStreamId(orderId));
  const sale = saleOfOrder(stream.events.map(asPending));
  if (!sale) {
    throw new Error(
      `${orderStreamId(orderId)} (version ${stream.version}) holds no placed and confirmed order: cannot record its sale`,
    );
  }
  return sale;
};

/** The event and command handlers of the service's queue. */
export const reactions = ({
  eventStore,
}: Pick<SubgraphDeps<LedgerPrisma>, 'eventStore'>): Omit<ConsumeOptions<LedgerTx>, 'inbox'> => {
  const ledger = createCommandHandler({ eventStore, decider: ledgerDecider });
  return {
    // Handlers hold no database connection (the service's `record-after` inbox): they wait on
    // the event store only.
    prefetch: 32,
    events: {
      OrderConfirmed: async (event) => {
        const { orderId } = event.data;
        const sale = await readSale(eventStore, orderId);
        await ledger.handle(
          ledgerStreamId(orderId),
          { type: 'RecordSale', data: { saleId: newEventId(), orderId, ...sale } },
          { correlationId: orderId, causationId: event.eventId, actor: ACTOR },
        );
      },
    },
    commands: {
      RecordRefund: async (command) => {
        const { orderId, returnId, amountCents } = command.payload;
        await ledger.handle(
          ledgerStreamId(orderId),
          { type: 'RecordRefund', data: { refundId: newEventId(), orderId, returnId, amountCents } },
          { correlationId: orderId, causationId: command.commandId, actor: ACTOR },
        );
      },
    },
  };
};
