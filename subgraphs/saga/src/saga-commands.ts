/**
 * The commands the orchestrator sends on `magasin.commands`: compensations of order sagas
 * (CancelOrder, ReleaseStock, RefundPayment) and the steps of return sagas (RefundPayment,
 * RestockItems, RecordRefund, MarkOrderReturned). Ids come from the saga events (derived, so the
 * same command sent twice has the same id and the receiver's inbox drops the second); payloads
 * come from the order's own stream (amounts, lines), the source of truth.
 */
import type { EventStoreClient } from '@magasin/event-store/client';
import { type CommandEnvelope, type EventDataOf, parseEnvelope } from '@magasin/events';
import { type Messaging, newCommand } from '@magasin/messaging';
import { orderStreamId } from './domain/order-return.ts';
import {
  type ActiveSaga,
  type Compensation,
  type CompensationReason,
  compensationPlan,
  pendingReturnCommand,
  type SagaState,
} from './domain/saga.ts';

/** Actor of everything the orchestrator does on its own. */
export const SAGA_ACTOR = 'service:saga';

/** Sends the orchestrator's commands. */
export interface SagaCommandSender {
  /** Sends the compensating commands of a SagaCompensationRequested, given the saga just before it. */
  sendCompensation(before: ActiveSaga, requested: EventDataOf<'SagaCompensationRequested'>): Promise<void>;
  /** Sends the command a running return saga waits on (its current attempt); nothing otherwise. */
  sendReturnStep(saga: SagaState): Promise<void>;
}

interface OrderFacts {
  placed: EventDataOf<'OrderPlaced'> | undefined;
  returns: Map<string, EventDataOf<'ReturnRequested'>>;
}

const readOrder = async (eventStore: EventStoreClient, orderId: string): Promise<OrderFacts> => {
  const { events } = await eventStore.readStream(orderStreamId(orderId));
  const facts: OrderFacts = { placed: undefined, returns: new Map() };
  for (const raw of events) {
    if (raw.type !== 'OrderPlaced' && raw.type !== 'ReturnRequested') continue;
    const parsed = parseEnvelope(raw);
    if (!parsed.ok) throw new Error(`${raw.streamId} v${raw.version}: ${parsed.reason}`);
    if (parsed.event.type === 'OrderPlaced') facts.placed = parsed.event.data as EventDataOf<'OrderPlaced'>;
    else {
      const requested = parsed.event.data as EventDataOf<'ReturnRequested'>;
      facts.returns.set(requested.returnId, requested);
    }
  }
  return facts;
};

/** Creates the sender. */
export const createSagaCommandSender = (deps: {
  eventStore: EventStoreClient;
  messaging: Messaging;
}): SagaCommandSender => {
  const { eventStore, messaging } = deps;

  const compensating = (
    command: Compensation,
    commandId: string,
    orderId: string,
    reason: CompensationReason,
    placed: EventDataOf<'OrderPlaced'> | undefined,
  ): CommandEnvelope | null => {
    const options = { actor: SAGA_ACTOR, correlationId: orderId, commandId };
    switch (command) {
      case 'CancelOrder':
        return newCommand('CancelOrder', { orderId, reason: 'SAGA_TIMED_OUT' }, options);
      case 'ReleaseStock':
        return newCommand('ReleaseStock', { orderId, reason }, options);
      case 'RefundPayment':
        // Nothing to give back on a free order (payment refuses a refund of 0).
        if (!placed || placed.totalCents === 0) return null;
        return newCommand(
          'RefundPayment',
          { orderId, returnId: null, amountCents: placed.totalCents },
          options,
        );
      default: {
        const unknown: never = command;
        throw new Error(`unknown compensation ${JSON.stringify(unknown)}`);
      }
    }
  };

  return {
    sendCompensation: async (before, requested) => {
      const reason = requested.reason as CompensationReason;
      const plan = compensationPlan(reason, new Set(before.seen));
      if (plan.length !== requested.commandIds.length) {
        throw new Error(
          `saga ${before.sagaId}: compensation ${reason} lists ${requested.commandIds.length} command(s) but plans ${plan.join(', ')}`,
        );
      }
      const { placed } = plan.includes('RefundPayment')
        ? await readOrder(eventStore, before.orderId)
        : { placed: undefined };
      if (plan.includes('RefundPayment') && !placed) {
        throw new Error(
          `order-${before.orderId} has no OrderPlaced: cannot size the refund of saga ${before.sagaId}`,
        );
      }
      const commands = plan
        .map((command, index) =>
          compensating(command, requested.commandIds[index] as string, before.orderId, reason, placed),
        )
        .filter((command): command is CommandEnvelope => command !== null);
      await messaging.sendCommands(commands);
    },

    sendReturnStep: async (saga) => {
      const pending = pendingReturnCommand(saga);
      if (!pending || saga.status === 'none') return;
      const { orderId, sagaId: returnId } = saga;
      const requested = (await readOrder(eventStore, orderId)).returns.get(returnId);
      if (!requested) throw new Error(`order-${orderId} has no ReturnRequested ${returnId}`);
      const options = { actor: SAGA_ACTOR, correlationId: orderId, commandId: pending.commandId };
      const amountCents = requested.refundCents;
      const command = (() => {
        switch (pending.command) {
          case 'RefundPayment':
            return newCommand('RefundPayment', { orderId, returnId, amountCents }, options);
          case 'RestockItems':
            return newCommand(
              'RestockItems',
              {
                orderId,
                returnId,
                items: requested.lines.map(({ productId, quantity }) => ({ productId, quantity })),
              },
              options,
            );
          case 'RecordRefund':
            return newCommand('RecordRefund', { orderId, returnId, amountCents }, options);
          case 'MarkOrderReturned':
            return newCommand('MarkOrderReturned', { orderId, returnId }, options);
          default: {
            const unknown: never = pending.command;
            throw new Error(`unknown return command ${JSON.stringify(unknown)}`);
          }
        }
      })();
      await messaging.sendCommands([command]);
    },
  };
};
