import { newEventId } from '@magasin/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DECLINE_REASONS } from '../src/card-processor.ts';
import { admin, customer, type PaymentFixture, startPayment } from './payment-fixture.ts';

const PAYMENT_OF_ORDER = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Order { id payment { id orderId amountCents status } } }
}`;

describe('payment on StockReserved', () => {
  let payment: PaymentFixture;

  beforeAll(async () => {
    payment = await startPayment('capture', { PAYMENT_PROCESSOR_TIMEOUT_MS: 1_500 });
  });

  afterAll(async () => {
    await payment?.stop();
  });

  const paymentOf = async (orderId: string) => {
    const answer = await payment.graphql(admin)<{ _entities: { payment: unknown }[] }>(PAYMENT_OF_ORDER, {
      representations: [{ __typename: 'Order', id: orderId }],
    });
    expect(answer.errors).toBeUndefined();
    return answer.data?._entities[0]?.payment;
  };

  it('captures the order total with tok_visa', async () => {
    const orderId = await payment.placeOrder({
      customerId: 'alice',
      paymentToken: 'tok_visa',
      totalCents: 4200,
    });
    await payment.reserveStock(orderId);

    const captured = await payment.waitForPaymentEvent(orderId, 'PaymentCaptured');
    expect(captured).toMatchObject({
      streamId: `payment-${orderId}`,
      correlationId: orderId,
      actor: 'service:payment',
      data: { orderId, amountCents: 4200 },
    });
    expect(await paymentOf(orderId)).toEqual({
      id: (captured.data as { paymentId: string }).paymentId,
      orderId,
      amountCents: 4200,
      status: 'CAPTURED',
    });
  });

  it('declines tok_declined with the processor reason', async () => {
    const orderId = await payment.placeOrder({
      customerId: 'alice',
      paymentToken: 'tok_declined',
      totalCents: 1000,
    });
    await payment.reserveStock(orderId);

    const declined = await payment.waitForPaymentEvent(orderId, 'PaymentDeclined');
    expect(declined.data).toMatchObject({
      orderId,
      amountCents: 1000,
      reason: DECLINE_REASONS.insufficientFunds,
    });
    expect(await paymentOf(orderId)).toMatchObject({ orderId, amountCents: 1000, status: 'DECLINED' });
  });

  it('declines an unknown token as invalid', async () => {
    const orderId = await payment.placeOrder({ customerId: 'alice', paymentToken: 'tok_stolen_4242' });
    await payment.reserveStock(orderId);

    const declined = await payment.waitForPaymentEvent(orderId, 'PaymentDeclined');
    expect(declined.data).toMatchObject({ reason: DECLINE_REASONS.invalidToken });
  });

  it('records nothing for tok_timeout, and keeps capturing the orders behind it', async () => {
    const before = await payment.handled('StockReserved');
    const stuck = await payment.placeOrder({ customerId: 'bob', paymentToken: 'tok_timeout' });
    await payment.reserveStock(stuck);
    const behind = await payment.placeOrder({ customerId: 'carol', paymentToken: 'tok_visa' });
    await payment.reserveStock(behind);

    await payment.waitForPaymentEvent(behind, 'PaymentCaptured');
    // Both deliveries finished: the stuck one gave up after PAYMENT_PROCESSOR_TIMEOUT_MS.
    await payment.waitForHandled('StockReserved', before + 2);
    expect(await payment.paymentEvents(stuck)).toEqual([]);
    expect(await paymentOf(stuck)).toBeNull();
    expect(payment.logs.join('\n')).toContain('card processor did not answer the charge: nothing recorded');
  });

  it('captures once when the same StockReserved is published twice on RabbitMQ', async () => {
    const orderId = await payment.placeOrder({ customerId: 'dave', paymentToken: 'tok_visa' });
    const before = await payment.handled('StockReserved');
    const reserved = await payment.reserveStock(orderId);
    await payment.waitForPaymentEvent(orderId, 'PaymentCaptured');

    await payment.bus.publishEvents([reserved]);
    await payment.waitForHandled('StockReserved', before + 2);
    expect((await payment.paymentEvents(orderId)).map((event) => event.type)).toEqual(['PaymentCaptured']);
  });

  it('captures once when the same StockReserved arrives many times at once', async () => {
    const orderId = await payment.placeOrder({ customerId: 'erin', paymentToken: 'tok_visa' });
    const before = await payment.handled('StockReserved');
    const reserved = await payment.reserveStock(orderId);
    // The same message five times more (the inbox's case), and five copies under new ids (a
    // duplicate upstream: only the payment stream's expected version and the decider stop those).
    const copies = Array.from({ length: 5 }, () => ({ ...reserved, eventId: newEventId() }));
    await Promise.all([
      payment.bus.publishEvents([reserved, reserved, reserved]),
      payment.bus.publishEvents([reserved, reserved]),
      payment.bus.publishEvents(copies),
    ]);

    await payment.waitForHandled('StockReserved', before + 11);
    await payment.waitForPaymentEvent(orderId, 'PaymentCaptured');
    expect((await payment.paymentEvents(orderId)).map((event) => event.type)).toEqual(['PaymentCaptured']);
    expect(await paymentOf(orderId)).toMatchObject({ status: 'CAPTURED', amountCents: 4200 });
  });

  it('never writes a card token to its logs or its read model', async () => {
    const secretToken = 'tok_never_log_me_4242';
    const orderId = await payment.placeOrder({ customerId: 'frank', paymentToken: secretToken });
    await payment.reserveStock(orderId);
    await payment.waitForPaymentEvent(orderId, 'PaymentDeclined');

    const rows = await payment.running.deps.prisma.$queryRaw<{ row: string }[]>`
      SELECT to_jsonb(p)::text AS row FROM payments p
      UNION ALL SELECT to_jsonb(o)::text FROM payment_orders o`;
    expect(rows.length).toBeGreaterThan(0);
    for (const { row } of rows) expect(row).not.toMatch(/tok_/);
    expect(payment.logs.join('\n')).not.toMatch(/tok_(visa|declined|timeout|stolen|never)/);
  });
});

describe('who may read a payment', () => {
  let payment: PaymentFixture;
  let orderId: string;

  beforeAll(async () => {
    payment = await startPayment('payment_read');
    orderId = await payment.placeOrder({ customerId: 'alice', paymentToken: 'tok_visa' });
    await payment.reserveStock(orderId);
    await payment.waitForPaymentEvent(orderId, 'PaymentCaptured');
  });

  afterAll(async () => {
    await payment?.stop();
  });

  const ask = (identity?: Parameters<PaymentFixture['graphql']>[0]) =>
    payment.graphql(identity)<{ _entities: ({ payment: { status: string } | null } | null)[] }>(
      PAYMENT_OF_ORDER,
      {
        representations: [{ __typename: 'Order', id: orderId }],
      },
    );

  it('shows the payment to the customer who placed the order', async () => {
    const answer = await ask(customer('alice'));
    expect(answer.errors).toBeUndefined();
    expect(answer.data?._entities[0]?.payment?.status).toBe('CAPTURED');
  });

  it('shows the payment to an admin', async () => {
    expect((await ask(admin)).data?._entities[0]?.payment?.status).toBe('CAPTURED');
  });

  it("refuses another customer's payment with FORBIDDEN", async () => {
    const answer = await ask(customer('mallory'));
    expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(answer.data?._entities[0]?.payment ?? null).toBeNull();
  });

  it('refuses a caller without identity with UNAUTHENTICATED', async () => {
    const answer = await ask();
    expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });
});

describe('charges the processor does not answer', () => {
  let payment: PaymentFixture;

  beforeAll(async () => {
    payment = await startPayment('stuck', { PAYMENT_PROCESSOR_TIMEOUT_MS: 8_000 });
  });

  afterAll(async () => {
    await payment?.stop();
  });

  it('hold up neither the charges behind them nor the read model, however many', async () => {
    const before = await payment.handled('StockReserved');
    // More waiting charges than the database pool has connections (10).
    const stuck = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        payment.placeOrder({ customerId: `stuck-${index}`, paymentToken: 'tok_timeout' }),
      ),
    );
    await Promise.all(stuck.map((orderId) => payment.reserveStock(orderId)));
    const behind = await payment.placeOrder({ customerId: 'dave', paymentToken: 'tok_visa' });
    await payment.reserveStock(behind);
    await payment.waitForPaymentEvent(behind, 'PaymentCaptured');
    // The read model (its projector needs a connection) shows it.
    await expect
      .poll(
        async () =>
          (
            await payment.graphql(admin)<{ _entities: { payment: { status: string } | null }[] }>(
              PAYMENT_OF_ORDER,
              { representations: [{ __typename: 'Order', id: behind }] },
            )
          ).data?._entities[0]?.payment?.status,
        { timeout: 3_000 },
      )
      .toBe('CAPTURED');
    // Captured and shown while every stuck charge still waits for the processor: none of them is handled yet.
    expect((await payment.handled('StockReserved')) - before).toBeLessThanOrEqual(1);
    for (const orderId of stuck) expect(await payment.paymentEvents(orderId)).toEqual([]);
    // They give up in the end, recording nothing (and the service then stops without waiting on them).
    await payment.waitForHandled('StockReserved', before + stuck.length + 1);
    for (const orderId of stuck) expect(await payment.paymentEvents(orderId)).toEqual([]);
  });
});
