/**
 * How the store follows the order saga on the bus (inbox and retries by the kit): the payment
 * and inventory outcomes confirm or cancel the order, and the orchestrator's commands cancel it
 * or mark it returned. Every handler is idempotent by the order's state: a redelivered message
 * decides nothing new. A DomainError (an order this store never placed, a return of an order
 * never confirmed) is retried and then parked in `store.dlq` for an operator.
 */
import type { EventOf } from '@magasin/events';
import type { ConsumeOptions } from '@magasin/messaging';
import type { CommandMetadata, SubgraphDeps } from '@magasin/subgraph-kit';
import { SERVICE } from './config.ts';
import { orderStream } from './domain/order-id.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import { createOrderCommands } from './order-commands.ts';
import type { StoreTx } from './projections/index.ts';

const ACTOR = `service:${SERVICE}`;

/** Correlation = the order; causation = the event handled. */
const causedBy = (
  event: EventOf<'PaymentCaptured' | 'PaymentDeclined' | 'StockReservationRejected'>,
): CommandMetadata => ({
  correlationId: event.data.orderId,
  causationId: event.eventId,
  actor: ACTOR,
});

/** `mug: 3 requested, 1 available; tea: ...` */
const describeShortages = (event: EventOf<'StockReservationRejected'>): string =>
  event.data.shortages.length === 0
    ? event.data.reason
    : event.data.shortages
        .map(
          (shortage) =>
            `${shortage.productId}: ${shortage.requested} requested, ${shortage.available} available`,
        )
        .join('; ');

/** The store's event and command handlers on the bus. */
export const createReactions = (deps: SubgraphDeps<PrismaClient>): Omit<ConsumeOptions<StoreTx>, 'inbox'> => {
  const orders = createOrderCommands(deps.eventStore);
  return {
    // Handlers hold no database connection (the service's `record-after` inbox): they wait on
    // the event store only.
    prefetch: 32,
    events: {
      PaymentCaptured: async (event) => {
        const { orderId, paymentId } = event.data;
        await orders.handle(
          orderStream(orderId),
          { type: 'ConfirmOrder', data: { orderId, paymentId } },
          causedBy(event),
        );
      },
      StockReservationRejected: async (event) => {
        const { orderId } = event.data;
        await orders.handle(
          orderStream(orderId),
          {
            type: 'CancelOrder',
            data: {
              orderId,
              reason: 'STOCK_UNAVAILABLE',
              detail: describeShortages(event),
              requestedBy: { kind: 'service' },
            },
          },
          causedBy(event),
        );
      },
      PaymentDeclined: async (event) => {
        const { orderId } = event.data;
        await orders.handle(
          orderStream(orderId),
          {
            type: 'CancelOrder',
            data: {
              orderId,
              reason: 'PAYMENT_DECLINED',
              detail: event.data.reason,
              requestedBy: { kind: 'service' },
            },
          },
          causedBy(event),
        );
      },
    },
    commands: {
      CancelOrder: async (command) => {
        const { orderId, reason } = command.payload;
        await orders.handle(
          orderStream(orderId),
          { type: 'CancelOrder', data: { orderId, reason, requestedBy: { kind: 'service' } } },
          { correlationId: orderId, causationId: command.commandId, actor: ACTOR },
        );
      },
      MarkOrderReturned: async (command) => {
        const { orderId, returnId } = command.payload;
        await orders.handle(
          orderStream(orderId),
          { type: 'MarkOrderReturned', data: { orderId, returnId } },
          { correlationId: orderId, causationId: command.commandId, actor: ACTOR },
        );
      },
    },
  };
};
