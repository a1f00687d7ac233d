/**
 * What the orchestrator does on the bus. It observes the events of the choreographed order
 * saga and of the return saga's steps, recording each on its saga stream (the decider makes a
 * redelivered event decide nothing). It starts the return saga of a ReturnRequested (if the
 * mutation that appended it did not get that far). And it sends the compensating commands of
 * its own SagaCompensationRequested events: the log is the outbox, so a crash between deciding
 * a compensation and sending it loses nothing (ids are derived: a resend is dropped by inboxes).
 */
import type { EventOf } from '@magasin/events';
import type { ConsumeOptions, EventHandler } from '@magasin/messaging';
import type { Observed, OrderSagaEventType, ReturnStep } from './domain/saga.ts';
import type { Orchestrator } from './orchestrator.ts';
import type { SagaTx } from './projections/index.ts';
import type { SagaCommandSender } from './saga-commands.ts';

const now = () => new Date().toISOString();

/** The event and command handlers of the saga queue (the kit adds the inbox). */
export const sagaReactions = (deps: {
  orchestrator: Orchestrator;
  sender: SagaCommandSender;
}): Omit<ConsumeOptions<SagaTx>, 'inbox'> => {
  const { orchestrator, sender } = deps;

  const observeOrder =
    <T extends OrderSagaEventType>(): EventHandler<T, SagaTx> =>
    async (event) => {
      const { orderId } = event.data;
      const observed = { type: event.type, eventId: event.eventId, data: event.data } as Observed;
      await orchestrator.handle(
        orderId,
        orderId,
        { type: 'Observe', kind: 'ORDER', event: observed, now: now() },
        { causationId: event.eventId },
      );
    };

  const observeReturn = async (event: EventOf<ReturnStep>, returnId: string) => {
    const observed = { type: event.type, eventId: event.eventId, data: event.data } as Observed;
    await orchestrator.handle(
      returnId,
      event.data.orderId,
      { type: 'Observe', kind: 'RETURN', event: observed, now: now() },
      { causationId: event.eventId },
    );
  };

  const returnStep =
    <T extends Exclude<ReturnStep, 'PaymentRefunded'>>(): EventHandler<T, SagaTx> =>
    (event) =>
      observeReturn(event, event.data.returnId);

  return {
    events: {
      OrderPlaced: observeOrder(),
      StockReserved: observeOrder(),
      StockReservationRejected: observeOrder(),
      PaymentCaptured: observeOrder(),
      PaymentDeclined: observeOrder(),
      OrderConfirmed: observeOrder(),
      OrderCancelled: observeOrder(),
      StockCommitted: observeOrder(),
      StockReleased: observeOrder(),
      SaleRecorded: observeOrder(),
      // A refund of a return is a step of that return; any other refund compensates the order.
      PaymentRefunded: async (event, tx, context) => {
        if (event.data.returnId !== null) await observeReturn(event, event.data.returnId);
        else await observeOrder<'PaymentRefunded'>()(event, tx, context);
      },
      StockReturned: returnStep(),
      RefundRecorded: returnStep(),
      OrderReturned: returnStep(),
      ReturnRequested: async (event) => {
        const { returnId, orderId, refundCents, lines } = event.data;
        await orchestrator.handle(
          returnId,
          orderId,
          {
            type: 'StartReturn',
            data: {
              returnId,
              orderId,
              refundCents,
              items: lines.reduce((sum, line) => sum + line.quantity, 0),
            },
            now: now(),
          },
          { causationId: event.eventId },
        );
      },
      SagaCompensationRequested: async (event) => {
        const before = await orchestrator.stateBefore(event.data.sagaId, event.version);
        if (before.status === 'none') {
          throw new Error(
            `saga ${event.data.sagaId} has no SagaStarted before its compensation ${event.eventId}`,
          );
        }
        await sender.sendCompensation(before, event.data);
      },
    },
    // Handlers hold no database connection (the service's `record-after` inbox): they wait on
    // the event store and RabbitMQ only. Every step of every saga passes here (8 messages per
    // order): at 32 in flight this queue was the longest wait of a saga at full load.
    prefetch: 128,
  };
};
