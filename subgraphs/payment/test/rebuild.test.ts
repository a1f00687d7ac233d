import { newCommand } from '@magasin/messaging';
import { checkSchemaAgreement } from '@magasin/migrator';
import { diffProjection, rebuildProjection } from '@magasin/subgraph-kit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projection } from '../src/projections/index.ts';
import { type PaymentFixture, startPayment } from './payment-fixture.ts';

describe('the payment read model', () => {
  let payment: PaymentFixture;

  beforeAll(async () => {
    payment = await startPayment('rebuild');
    // Every kind of row: captured, declined, refunded after a cancel, refunded on a command,
    // an order with no payment yet.
    const captured = await payment.placeOrder({
      customerId: 'alice',
      paymentToken: 'tok_visa',
      totalCents: 1200,
    });
    const declined = await payment.placeOrder({
      customerId: 'bob',
      paymentToken: 'tok_declined',
      totalCents: 800,
    });
    const cancelled = await payment.placeOrder({
      customerId: 'carol',
      paymentToken: 'tok_visa',
      totalCents: 3000,
    });
    const returned = await payment.placeOrder({
      customerId: 'dave',
      paymentToken: 'tok_visa',
      totalCents: 5000,
    });
    await payment.placeOrder({ customerId: 'erin', paymentToken: 'tok_visa' });
    for (const orderId of [captured, declined, cancelled, returned]) await payment.reserveStock(orderId);
    await payment.waitForPaymentEvent(declined, 'PaymentDeclined');
    await payment.waitForPaymentEvent(captured, 'PaymentCaptured');
    await payment.waitForPaymentEvent(cancelled, 'PaymentCaptured');
    const { data } = await payment.waitForPaymentEvent(returned, 'PaymentCaptured');
    await payment.cancelOrder(cancelled);
    await payment.bus.sendCommands([
      newCommand(
        'RefundPayment',
        {
          orderId: returned,
          paymentId: (data as { paymentId: string }).paymentId,
          returnId: 'return-1',
          amountCents: 2000,
        },
        { actor: 'service:saga', correlationId: returned },
      ),
    ]);
    await payment.waitForPaymentEvent(cancelled, 'PaymentRefunded');
    await payment.waitForPaymentEvent(returned, 'PaymentRefunded');
    await payment.caughtUp();
  });

  afterAll(async () => {
    await payment?.stop();
  });

  it('rebuilt from the log equals the live tables', async () => {
    const { databaseUrl } = payment.config;
    const rebuilt = await rebuildProjection({
      projection,
      databaseUrl,
      eventStore: payment.backbone.eventStore,
    });
    expect(rebuilt.events).toBeGreaterThan(0);
    const counts = await payment.running.deps.prisma.payment.groupBy({ by: ['status'], _count: true });
    expect(Object.fromEntries(counts.map(({ status, _count }) => [status, _count]))).toEqual({
      CAPTURED: 1,
      DECLINED: 1,
      REFUNDED: 2,
    });
    expect(await diffProjection({ databaseUrl, schema: rebuilt.schema })).toEqual([]);
  });

  it('agrees with schema.prisma (every model and column)', async () => {
    const db = new pg.Client({ connectionString: payment.config.databaseUrl });
    await db.connect();
    try {
      expect(await checkSchemaAgreement(payment.running.deps.prisma, db)).toEqual([]);
    } finally {
      await db.end();
    }
  });
});
