/**
 * The audit trail of real orders, end to end: every service running as its own process on
 * fresh databases and a fresh RabbitMQ vhost, orders placed through the gateway with a card
 * that is captured and one that is declined, and what an auditor then reads through the
 * gateway: every event of the order (as the event store has it) and the mutation that placed
 * it, in order, with actor and time; then a customer erased and the chain still whole.
 */
import { type GatewayClient, gatewayClient, type Stack, startStack } from '@magasin/e2e';
import { eventually } from '@magasin/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_INTEGRITY,
  AUDIT_TRAIL,
  ERASE_CUSTOMER,
  type IntegrityAnswer,
  type TrailRecord,
} from './fixture.ts';

let stack: Stack;
let admin: GatewayClient;
let auditor: GatewayClient;
let customer: GatewayClient;
let productId: string;

/** A customer of this run only (erased at the end). */
const CUSTOMER = `zoe-${Date.now()}`;

beforeAll(async () => {
  stack = await startStack('audit_e2e');
  admin = await gatewayClient(stack.gatewayUrl, { sub: 'ada', roles: ['admin'] });
  auditor = await gatewayClient(stack.gatewayUrl, { sub: 'iris', roles: ['auditor'] });
  customer = await gatewayClient(stack.gatewayUrl, { sub: CUSTOMER, roles: ['customer'] });
  const created = await admin.query<{ createProduct: { id: string } }>(
    'mutation ($input: CreateProductInput!) { createProduct(input: $input) { id } }',
    { input: { sku: `AUDIT-${Date.now()}`, name: 'Audited lamp', priceCents: 4_500, initialStock: 10 } },
  );
  expect(created.errors).toBeUndefined();
  productId = created.data?.createProduct.id as string;
}, 120_000);

afterAll(async () => {
  await Promise.all([admin?.close(), auditor?.close(), customer?.close()]);
  await stack?.stop();
});

const PLACE_ORDER = `mutation PlaceOrder($input: PlaceOrderInput!) {
  placeOrder(input: $input) { order { id status } }
}`;

/** Places an order once the store knows the product (it follows the catalog from the log). */
const placeOrder = (paymentToken: string): Promise<string> =>
  eventually(
    async () => {
      const answer = await customer.query<{ placeOrder: { order: { id: string } } }>(PLACE_ORDER, {
        input: { lines: [{ productId, quantity: 1 }], paymentToken },
      });
      return answer.data?.placeOrder.order.id;
    },
    { what: `an order paid with ${paymentToken}`, timeoutMs: 15_000, intervalMs: 200 },
  );

interface LoggedEvent {
  eventId: string;
  type: string;
  position: number;
  actor: string;
  occurredAt: string;
}

/**
 * The order's events as the event store has them (once they include each of `types`) and its
 * trail, at a moment when the trail holds exactly those events (the audit consumes the bus).
 */
const settledTrail = (orderId: string, types: readonly string[]) =>
  eventually(
    async () => {
      const logged = await admin.query<{ eventsByCorrelation: LoggedEvent[] }>(
        'query ($id: ID!) { eventsByCorrelation(correlationId: $id) { eventId type position actor occurredAt } }',
        { id: orderId },
      );
      const events = logged.data?.eventsByCorrelation ?? [];
      if (!types.every((type) => events.some((event) => event.type === type))) return undefined;
      const answer = await auditor.query<{ auditTrail: TrailRecord[] }>(AUDIT_TRAIL, {
        correlationId: orderId,
      });
      const trail = answer.data?.auditTrail ?? [];
      const recorded = trail.filter((record) => record.kind === 'EVENT').map((record) => record.sourceId);
      const inLog = events.map((event) => event.eventId);
      return recorded.length === inLog.length && inLog.every((id) => recorded.includes(id))
        ? { events, trail }
        : undefined;
    },
    { what: `the trail of order ${orderId} holding ${types.join(', ')}`, timeoutMs: 30_000, intervalMs: 250 },
  );

/** Checks that the trail is the placing mutation, then exactly the order's events in log order. */
const expectCompleteAndOrdered = (trail: TrailRecord[], events: LoggedEvent[], orderId: string) => {
  const [placing, ...rest] = trail;
  expect(placing).toMatchObject({
    kind: 'MUTATION',
    type: 'placeOrder',
    actor: CUSTOMER,
    outcome: 'ACCEPTED',
    subjectIds: [orderId],
    tags: ['PCI_DSS', 'GDPR'],
    data: { fields: [{ name: 'placeOrder', arguments: { input: { paymentToken: '[MASKED]' } } }] },
  });
  const logged = [...events].sort((a, b) => a.position - b.position);
  expect(rest.map((record) => [record.sourceId, record.type, record.actor, record.at])).toEqual(
    logged.map((event) => [event.eventId, event.type, event.actor, event.occurredAt]),
  );
  expect(rest.every((record) => record.kind === 'EVENT')).toBe(true);
  const times = trail.map((record) => Date.parse(record.at));
  expect(times).toEqual([...times].sort((a, b) => a - b));
  expect(JSON.stringify(trail)).not.toMatch(/tok_(visa|declined)/);
};

describe('the audit trail of an order', () => {
  it('completed (card captured): the mutation, then every event of the order, in order, with actor and time', async () => {
    const orderId = await placeOrder('tok_visa');
    const { events, trail } = await settledTrail(orderId, [
      'OrderConfirmed',
      'StockCommitted',
      'SaleRecorded',
    ]);
    expectCompleteAndOrdered(trail, events, orderId);
    const types = trail.map((record) => record.type);
    for (const type of ['OrderPlaced', 'StockReserved', 'PaymentCaptured', 'OrderConfirmed', 'SaleRecorded'])
      expect(types).toContain(type);
    expect(types.indexOf('StockReserved')).toBeLessThan(types.indexOf('PaymentCaptured'));
    expect(types.indexOf('PaymentCaptured')).toBeLessThan(types.indexOf('OrderConfirmed'));
    expect(trail.find((record) => record.type === 'PaymentCaptured')).toMatchObject({
      actor: 'service:payment',
      tags: ['PCI_DSS'],
    });
  });

  it('compensated (card declined): the mutation, then the decline and every compensation, in order', async () => {
    const orderId = await placeOrder('tok_declined');
    const { events, trail } = await settledTrail(orderId, [
      'PaymentDeclined',
      'StockReleased',
      'OrderCancelled',
    ]);
    expectCompleteAndOrdered(trail, events, orderId);
    const types = trail.map((record) => record.type);
    for (const type of ['PaymentDeclined', 'StockReleased', 'OrderCancelled']) expect(types).toContain(type);
    expect(types.indexOf('PaymentDeclined')).toBeLessThan(types.indexOf('OrderCancelled'));
    expect(types).not.toContain('PaymentCaptured');
    expect(trail.find((record) => record.type === 'OrderPlaced')?.data).toMatchObject({
      customerId: CUSTOMER,
      paymentToken: '[MASKED]',
    });
  });
});

describe('erasing the customer through the gateway', () => {
  it('shows them as erased in their trails and leaves the chain whole', async () => {
    const orderId = await placeOrder('tok_visa');
    await settledTrail(orderId, ['OrderConfirmed', 'StockCommitted', 'SaleRecorded']);

    const erased = await admin.query<{ eraseCustomer: { erased: boolean; records: number } }>(
      ERASE_CUSTOMER,
      {
        customerId: CUSTOMER,
      },
    );
    expect(erased.errors).toBeUndefined();
    expect(erased.data?.eraseCustomer.erased).toBe(true);
    expect(erased.data?.eraseCustomer.records).toBeGreaterThanOrEqual(2);

    const integrity = await admin.query<IntegrityAnswer>(AUDIT_INTEGRITY);
    expect(integrity.errors).toBeUndefined();
    expect(integrity.data?.auditIntegrity).toMatchObject({ valid: true, firstBroken: null });
    expect(integrity.data?.auditIntegrity.checked).toBeGreaterThan(10);

    const trail = await auditor.query<{ auditTrail: TrailRecord[] }>(AUDIT_TRAIL, { correlationId: orderId });
    const placing = trail.data?.auditTrail.find((record) => record.kind === 'MUTATION');
    expect(placing).toMatchObject({ actor: '[erased]', actorErased: true });
    expect(JSON.stringify(trail.data)).not.toContain(CUSTOMER);
  });
});
