/**
 * What payment does on the bus: charge an order once its stock is reserved, refund a captured
 * payment when its order is cancelled or when the saga asks (RefundPayment). The card processor
 * is called between loading the payment stream and appending to it; the decider and the
 * stream's expected version make sure that, whatever is redelivered or handled concurrently,
 * an order is captured at most once and refunded at most once (the processor calls themselves
 * carry idempotency keys, so a repeated call charges or refunds nothing more).
 *
 * An order cancelled before its charge is not charged; one cancelled while its charge is in
 * flight is refunded by the capture itself, since the OrderCancelled handler found nothing to
 * refund yet. A charge the processor does not answer within PAYMENT_PROCESSOR_TIMEOUT_MS
 * records nothing (the order saga times out and compensates). The handlers run outside any
 * database transaction (the service's `record-after` inbox): the message is recorded as handled
 * after its handler, and a redelivery between the two decides nothing more.
 */
import type { EventStoreClient } from '@magasin/event-store/client';
import { type CommandOf, type EventDataOf, type EventOf, parseEnvelope } from '@magasin/events';
import type { ConsumeOptions, HandlerContext } from '@magasin/messaging';
import { type CommandHandler, type CommandMetadata, createCommandHandler } from '@magasin/subgraph-kit';
import {
  type CardProcessor,
  type ChargeResult,
  ProcessorTimeoutError,
  withProcessorTimeout,
} from './card-processor.ts';
import {
  awaitsCharge,
  decide,
  type Payment,
  type PaymentCommand,
  paymentDecider,
  paymentStreamId,
} from './domain/payment.ts';

/** Actor of every event payment appends on its own. */
export const PAYMENT_ACTOR = 'service:payment';

/** What the reactions need. */
export interface PaymentReactionsOptions {
  eventStore: EventStoreClient;
  processor: CardProcessor;
  /** How long a charge or refund may take (PAYMENT_PROCESSOR_TIMEOUT_MS). */
  processorTimeoutMs: number;
}

/** The order as the payment needs it: what to charge, on which card, and its cancel if any. */
interface OrderToCharge {
  data: EventDataOf<'OrderPlaced'>;
  /** Id of the order's OrderCancelled event, if it was cancelled. */
  cancelledBy: string | undefined;
}

/** Reads `order-<orderId>` (OrderPlaced upcast to its current version). */
const readOrder = async (
  eventStore: EventStoreClient,
  orderId: string,
): Promise<OrderToCharge | undefined> => {
  const { events } = await eventStore.readStream(`order-${orderId}`);
  let placed: EventDataOf<'OrderPlaced'> | undefined;
  let cancelledBy: string | undefined;
  for (const raw of events) {
    if (raw.type === 'OrderCancelled') cancelledBy = raw.eventId;
    if (raw.type !== 'OrderPlaced') continue;
    const parsed = parseEnvelope(raw);
    if (!parsed.ok) throw new Error(`order-${orderId} v${raw.version}: ${parsed.reason}`);
    placed = parsed.event.data as EventDataOf<'OrderPlaced'>;
  }
  return placed && { data: placed, cancelledBy };
};

/** Payment streams kept in memory: far more than the payments in flight at once. */
const KEPT_PAYMENTS = 5_000;

/** The bus handlers of payment (the kit adds the inbox). */
export const paymentReactions = (
  options: PaymentReactionsOptions,
): Omit<ConsumeOptions<unknown>, 'inbox'> => {
  const { eventStore, processor, processorTimeoutMs } = options;
  // Only this service writes payment streams: the payments in flight are kept in memory.
  const payments: CommandHandler<PaymentCommand, Payment> = createCommandHandler({
    eventStore,
    decider: paymentDecider,
    cachedStreams: KEPT_PAYMENTS,
  });

  /** Refunds what the command asks if the decider says so: processor first, then the event. */
  const refund = async (
    command: Extract<PaymentCommand, { type: 'RefundPayment' }>,
    metadata: CommandMetadata,
    context: HandlerContext,
  ): Promise<void> => {
    const { orderId } = command.data;
    const streamId = paymentStreamId(orderId);
    const logger = context.logger.child({ orderId });
    const { state } = await payments.load(streamId);
    const planned = decide(command, state);
    if (planned.length === 0 || state.status !== 'captured') {
      logger.info({ status: state.status }, 'nothing captured to refund');
      return;
    }
    // A refund that times out is retried (then parked): unlike a charge, nobody else
    // compensates a refund that never happened. The idempotency key refunds only once.
    await withProcessorTimeout(
      'refund',
      processorTimeoutMs,
      processor.refund({
        chargeId: state.paymentId,
        amountCents: command.data.amountCents,
        idempotencyKey: `refund/${state.paymentId}`,
      }),
    );
    const { events } = await payments.handle(streamId, command, metadata);
    logger.info(
      { paymentId: state.paymentId, amountCents: command.data.amountCents, recorded: events.length > 0 },
      'payment refunded',
    );
  };

  /** Refunds the whole capture of a cancelled order (nothing when nothing is captured). */
  const refundCancelledOrder = async (
    orderId: string,
    cancelEventId: string,
    context: HandlerContext,
  ): Promise<void> => {
    const { state } = await payments.load(paymentStreamId(orderId));
    if (state.status !== 'captured') {
      context.logger.info(
        { orderId, status: state.status },
        'order cancelled with nothing captured: no refund',
      );
      return;
    }
    await refund(
      {
        type: 'RefundPayment',
        data: { orderId, paymentId: state.paymentId, returnId: null, amountCents: state.amountCents },
      },
      { correlationId: orderId, causationId: cancelEventId, actor: PAYMENT_ACTOR },
      context,
    );
  };

  /** Charges the order and records the processor's answer; the payment after it (unchanged on a timeout). */
  const charge = async (
    event: EventOf<'StockReserved'>,
    order: EventDataOf<'OrderPlaced'>,
    payment: Payment,
    context: HandlerContext,
  ): Promise<Payment> => {
    const { orderId } = order;
    const logger = context.logger.child({ orderId });
    let result: ChargeResult;
    try {
      result = await withProcessorTimeout(
        'charge',
        processorTimeoutMs,
        processor.charge({
          token: order.paymentToken,
          amountCents: order.totalCents,
          idempotencyKey: `charge/${orderId}`,
        }),
      );
    } catch (error) {
      if (!(error instanceof ProcessorTimeoutError)) throw error;
      // Nothing is known about the charge, so nothing is recorded; the order saga times out and
      // compensates, and a capture the processor reports later is refunded.
      logger.warn(
        { timeoutMs: processorTimeoutMs },
        'card processor did not answer the charge: nothing recorded',
      );
      return payment;
    }
    const outcome = result.status === 'captured' ? result : { status: result.status, reason: result.reason };
    const { state, events } = await payments.handle(
      paymentStreamId(orderId),
      {
        type: 'RecordCharge',
        data: { orderId, paymentId: result.chargeId, amountCents: order.totalCents, outcome },
      },
      { correlationId: orderId, causationId: event.eventId, actor: PAYMENT_ACTOR },
    );
    logger.info(
      { paymentId: result.chargeId, outcome: result.status, recorded: events.length > 0 },
      events.length > 0 ? `payment ${result.status}` : 'charge already recorded by a concurrent delivery',
    );
    return state;
  };

  const capture = async (event: EventOf<'StockReserved'>, context: HandlerContext): Promise<void> => {
    const { orderId } = event.data;
    const logger = context.logger.child({ orderId });
    const order = await readOrder(eventStore, orderId);
    // The order stream is appended before its reservation: a StockReserved without it is a bug
    // upstream. Thrown, so it is retried and then parked in payment.dlq for an operator.
    if (!order) throw new Error(`order-${orderId} has no OrderPlaced: cannot charge a StockReserved for it`);
    const { state } = await payments.load(paymentStreamId(orderId));
    let payment = state;
    if (!awaitsCharge(payment)) {
      logger.info({ status: payment.status }, 'order already charged: nothing to capture');
    } else if (order.cancelledBy) {
      logger.info('order cancelled before its charge: not charged');
    } else {
      payment = await charge(event, order.data, payment, context);
    }
    if (payment.status !== 'captured') return;
    // An OrderCancelled handled while the charge was in flight found nothing to refund: the
    // capture refunds itself. Also retries such a refund when this delivery comes back.
    const cancelledBy = order.cancelledBy ?? (await readOrder(eventStore, orderId))?.cancelledBy;
    if (cancelledBy) await refundCancelledOrder(orderId, cancelledBy, context);
  };

  return {
    // Handlers hold no database connection (the service's `record-after` inbox): a charge the
    // processor is slow to answer takes one of these slots only.
    prefetch: 32,
    events: {
      StockReserved: (event, _tx, context) => capture(event, context),
      OrderCancelled: (event, _tx, context) =>
        refundCancelledOrder(event.data.orderId, event.eventId, context),
    },
    commands: {
      RefundPayment: (command: CommandOf<'RefundPayment'>, _tx, context) =>
        refund(
          { type: 'RefundPayment', data: command.payload },
          { correlationId: command.correlationId, causationId: command.commandId, actor: PAYMENT_ACTOR },
          context,
        ),
    },
  };
};
