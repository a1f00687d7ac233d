/**
 * Inventory's part of the order saga, consumed from RabbitMQ (the kit adds the inbox, which
 * records each message after its handler):
 * OrderPlaced reserves every line or none; PaymentDeclined and OrderCancelled release what is
 * still reserved; OrderConfirmed commits it; the orchestrator's ReleaseStock releases and its
 * RestockItems puts returned items back on the shelf. Each one is idempotent by the decider's
 * state as well as by the inbox: a redelivered message decides nothing new.
 */
import type { EventStoreClient } from '@magasin/event-store/client';
import type { ConsumeOptions } from '@magasin/messaging';
import type { CommandMetadata } from '@magasin/subgraph-kit';
import type { InventoryStream } from './inventory-stream.ts';

/** Actor of every event a reaction appends. */
export const REACTION_ACTOR = 'service:inventory';

/**
 * Messages in flight at once: up to the messages of one inventory turn (decided together, one
 * append). They hold no database connection while they wait (the service's `record-after`
 * inbox), so a turn can take many.
 */
export const REACTION_PREFETCH = 64;

const about = (orderId: string, causationId: string): CommandMetadata => ({
  correlationId: orderId,
  causationId,
  actor: REACTION_ACTOR,
});

/** The bus handlers of the inventory. */
export const inventoryReactions = <Tx>(deps: {
  inventory: InventoryStream;
  eventStore: EventStoreClient;
}): Omit<ConsumeOptions<Tx>, 'inbox'> => {
  const { inventory, eventStore } = deps;
  return {
    prefetch: REACTION_PREFETCH,
    events: {
      OrderPlaced: async (event, _tx, context) => {
        const { orderId, lines } = event.data;
        await inventory.handleWhen(
          async () => {
            // A cancel handled before this order found nothing to release: reserving now would
            // hold its units forever. The order's later events tell (read in this turn, so a
            // cancel arriving meanwhile finds the reservation and releases it).
            const later = await eventStore.readStream(event.streamId, { fromVersion: event.version + 1 });
            if (later.events.some((e) => e.type === 'OrderCancelled')) {
              context.logger.info(
                { orderId },
                'order cancelled before its stock was reserved: nothing reserved',
              );
              return undefined;
            }
            return {
              type: 'ReserveStock',
              data: { orderId, lines: lines.map(({ productId, quantity }) => ({ productId, quantity })) },
            };
          },
          about(orderId, event.eventId),
        );
      },
      PaymentDeclined: async (event) => {
        const { orderId } = event.data;
        await inventory.handle(
          { type: 'ReleaseStock', data: { orderId, reason: 'PAYMENT_DECLINED' } },
          about(orderId, event.eventId),
        );
      },
      OrderCancelled: async (event) => {
        const { orderId, reason } = event.data;
        await inventory.handle(
          { type: 'ReleaseStock', data: { orderId, reason } },
          about(orderId, event.eventId),
        );
      },
      OrderConfirmed: async (event) => {
        const { orderId } = event.data;
        await inventory.handle({ type: 'CommitStock', data: { orderId } }, about(orderId, event.eventId));
      },
    },
    commands: {
      ReleaseStock: async (command) => {
        await inventory.handle(
          { type: 'ReleaseStock', data: command.payload },
          about(command.payload.orderId, command.commandId),
        );
      },
      RestockItems: async (command) => {
        await inventory.handle(
          { type: 'ReturnStock', data: command.payload },
          about(command.payload.orderId, command.commandId),
        );
      },
    },
  };
};
