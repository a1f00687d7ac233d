/** Events, mutation records and drafts for the domain specifications. */
import { type CommandOf, type DomainEvent, newEventId } from '@magasin/events';

let position = 0;

/** An OrderPlaced of `customerId`, paid with `paymentToken`. */
export const orderPlaced = (
  orderId: string,
  customerId: string,
  paymentToken = 'tok_visa',
  occurredAt = '2026-11-25T10:00:00.100Z',
): DomainEvent => ({
  eventId: newEventId(),
  type: 'OrderPlaced',
  streamId: `order-${orderId}`,
  version: 1,
  position: ++position,
  occurredAt,
  correlationId: orderId,
  causationId: null,
  actor: customerId,
  traceparent: null,
  schemaVersion: 2,
  data: {
    orderId,
    customerId,
    lines: [{ productId: 'p-1', quantity: 2, unitPriceCents: 500 }],
    totalCents: 1_000,
    currency: 'EUR',
    paymentToken,
    placedAt: occurredAt,
  },
});

/** A PaymentCaptured of an order. */
export const paymentCaptured = (orderId: string, occurredAt = '2026-11-25T10:00:00.300Z'): DomainEvent => ({
  eventId: newEventId(),
  type: 'PaymentCaptured',
  streamId: `payment-${orderId}`,
  version: 1,
  position: ++position,
  occurredAt,
  correlationId: orderId,
  causationId: newEventId(),
  actor: 'service:payment',
  traceparent: null,
  schemaVersion: 1,
  data: { paymentId: `pay-${orderId}`, orderId, amountCents: 1_000 },
});

/** A StockReserved of an order. */
export const stockReserved = (orderId: string, occurredAt = '2026-11-25T10:00:00.200Z'): DomainEvent => ({
  eventId: newEventId(),
  type: 'StockReserved',
  streamId: 'inventory',
  version: 1,
  position: ++position,
  occurredAt,
  correlationId: orderId,
  causationId: newEventId(),
  actor: 'service:inventory',
  traceparent: null,
  schemaVersion: 1,
  data: { orderId, items: [{ productId: 'p-1', quantity: 2 }] },
});

/** The gateway's record of a placeOrder by `actor`. */
export const placeOrderRecord = (
  actor: string,
  options: { orderId?: string; outcome?: 'ACCEPTED' | 'REFUSED'; receivedAt?: string } = {},
): CommandOf<'RecordMutation'> => ({
  commandId: newEventId(),
  type: 'RecordMutation',
  correlationId: newEventId(),
  causationId: null,
  actor,
  issuedAt: '2026-11-25T10:00:00.150Z',
  traceparent: null,
  payload: {
    operationName: 'PlaceOrder',
    fields: [
      {
        name: 'placeOrder',
        arguments: { input: { lines: [{ productId: 'p-1', quantity: 2 }], paymentToken: '[MASKED]' } },
      },
    ],
    outcome: options.outcome ?? 'ACCEPTED',
    errorCodes: options.outcome === 'REFUSED' ? ['BAD_USER_INPUT'] : [],
    subjectIds: options.orderId ? [options.orderId] : [],
    roles: ['customer'],
    receivedAt: options.receivedAt ?? '2026-11-25T10:00:00.050Z',
    durationMs: 12,
  },
});
