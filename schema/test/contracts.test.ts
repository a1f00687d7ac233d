import { describe, expect, it } from 'vitest';
import {
  commandRoutingKeyFor,
  currentSchemaVersion,
  EVENT_TYPES,
  newEventId,
  parseCommand,
  parseEnvelope,
  routingKeyFor,
  validateEventData,
} from '../src/index.ts';

const envelope = (type: string, schemaVersion: number, data: unknown) => ({
  eventId: newEventId(),
  type,
  streamId: 'order-1',
  version: 1,
  position: 0,
  occurredAt: '2026-01-01T10:00:00.000Z',
  correlationId: 'corr-1',
  causationId: null,
  actor: 'alice',
  traceparent: null,
  schemaVersion,
  data,
});

const orderPlacedV1 = {
  orderId: 'o-1',
  customerId: 'alice',
  lines: [{ productId: 'p-1', quantity: 2, priceCents: 1250 }],
  totalCents: 2500,
  paymentToken: 'tok_visa',
  placedAt: '2026-01-01T10:00:00.000Z',
};

describe('event contracts', () => {
  it('routes every event as <context>.<EventType>', () => {
    expect(routingKeyFor('StockReserved')).toBe('inventory.StockReserved');
    expect(routingKeyFor('OrderPlaced')).toBe('store.OrderPlaced');
    expect(routingKeyFor('SagaTimedOut')).toBe('saga.SagaTimedOut');
    for (const type of EVENT_TYPES) expect(routingKeyFor(type)).toMatch(/^[a-z]+\.[A-Za-z]+$/);
    expect(() => routingKeyFor('Nope')).toThrow(/unknown event type 'Nope'/);
  });

  it('upcasts an OrderPlaced v1 to v2 (priceCents -> unitPriceCents, currency EUR)', () => {
    expect(currentSchemaVersion('OrderPlaced')).toBe(2);
    const result = validateEventData('OrderPlaced', 1, orderPlacedV1);
    expect(result).toEqual({
      ok: true,
      schemaVersion: 2,
      data: {
        ...orderPlacedV1,
        lines: [{ productId: 'p-1', quantity: 2, unitPriceCents: 1250 }],
        currency: 'EUR',
      },
    });
  });

  it('parses an envelope of an old version into the current version', () => {
    const parsed = parseEnvelope(envelope('OrderPlaced', 1, orderPlacedV1));
    expect(parsed.ok && parsed.event.schemaVersion).toBe(2);
  });

  it('refuses money that is not integer cents, naming the field', () => {
    const result = validateEventData('PaymentCaptured', 1, {
      paymentId: 'p',
      orderId: 'o',
      amountCents: 12.5,
    });
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('amountCents') });
  });

  it('refuses a version newer than the catalog and an unknown type', () => {
    expect(validateEventData('OrderConfirmed', 9, {})).toEqual({
      ok: false,
      reason: expect.stringContaining('newer than this consumer knows'),
    });
    expect(parseEnvelope(envelope('Nope', 1, {}))).toEqual({
      ok: false,
      reason: "unknown event type 'Nope'",
    });
  });

  it('refuses an envelope missing its fields', () => {
    const result = parseEnvelope({ type: 'OrderConfirmed' });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain('eventId');
  });
});

describe('command contracts', () => {
  it('routes commands as <service>.<CommandName> and validates payloads', () => {
    expect(commandRoutingKeyFor('RefundPayment')).toBe('payment.RefundPayment');
    expect(commandRoutingKeyFor('MarkOrderReturned')).toBe('store.MarkOrderReturned');
    const command = {
      commandId: newEventId(),
      type: 'ReleaseStock',
      correlationId: 'c',
      causationId: null,
      actor: 'saga',
      issuedAt: '2026-01-01T10:00:00.000Z',
      traceparent: null,
      payload: { orderId: 'o-1', reason: 'SAGA_TIMED_OUT' },
    };
    expect(parseCommand(command).ok).toBe(true);
    expect(parseCommand({ ...command, payload: {} })).toEqual({
      ok: false,
      reason: expect.stringContaining('orderId'),
    });
  });
});
