import { newEventId } from '@magasin/events';
import { newCommand } from '@magasin/messaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, type PaymentFixture, startPayment } from './payment-fixture.ts';

const PAYMENT_OF_ORDER = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Order { payment { status amountCents } } }
}`;

describe('refunds', () => {
  let payment: PaymentFixture;

  beforeAll(async () => {
    payment = await startPayment('refund');
  });

  afterAll(async () => {
    await payment?.stop();
  });

  const capturedOrder = async (totalCents = 4200) => {
    const orderId = await payment.placeOrder({ customerId: 'alice', paymentToken: 'tok_visa', totalCents });
    await payment.reserveStock(orderId);
    const captured = await payment.waitForPaymentEvent(orderId, 'PaymentCaptured');
    return { orderId, paymentId: (captured.data as { paymentId: string }).paymentId };
  };

  const paymentOf = async (orderId: string) => {
    const answer = await payment.graphql(admin)<{ _entities: { payment: unknown }[] }>(PAYMENT_OF_ORDER, {
      representations: [{ __typename: 'Order', id: orderId }],
    });
    expect(answer.errors).toBeUndefined();
    return answer.data?._entities[0]?.payment;
  };

  const types = async (orderId: string) => (await payment.paymentEvents(orderId)).map((event) => event.type);

  it('refunds a captured payment when its order is cancelled', async () => {
    const { orderId, paymentId } = await capturedOrder(4200);
    const cancelled = await payment.cancelOrder(orderId);

    const refunded = await payment.waitForPaymentEvent(orderId, 'PaymentRefunded');
    expect(refunded).toMatchObject({
      correlationId: orderId,
      causationId: cancelled.eventId,
      data: { paymentId, orderId, amountCents: 4200, returnId: null },
    });
    expect(await paymentOf(orderId)).toEqual({ status: 'REFUNDED', amountCents: 4200 });
  });

  it('refunds once when OrderCancelled is delivered again', async () => {
    const { orderId } = await capturedOrder();
    const before = await payment.handled('OrderCancelled');
    const cancelled = await payment.cancelOrder(orderId);
    await payment.waitForPaymentEvent(orderId, 'PaymentRefunded');

    await payment.bus.publishEvents([cancelled, { ...cancelled, eventId: newEventId() }]);
    await payment.waitForHandled('OrderCancelled', before + 3);
    expect(await types(orderId)).toEqual(['PaymentCaptured', 'PaymentRefunded']);
  });

  it('refunds nothing when a cancelled order was declined', async () => {
    const orderId = await payment.placeOrder({ customerId: 'alice', paymentToken: 'tok_declined' });
    await payment.reserveStock(orderId);
    await payment.waitForPaymentEvent(orderId, 'PaymentDeclined');
    const before = await payment.handled('OrderCancelled');
    await payment.cancelOrder(orderId);

    await payment.waitForHandled('OrderCancelled', before + 1);
    expect(await types(orderId)).toEqual(['PaymentDeclined']);
  });

  it('does not charge an order cancelled before its stock was reserved', async () => {
    const orderId = await payment.placeOrder({ customerId: 'alice', paymentToken: 'tok_visa' });
    await payment.cancelOrder(orderId);
    const before = await payment.handled('StockReserved');
    await payment.reserveStock(orderId);

    await payment.waitForHandled('StockReserved', before + 1);
    expect(await types(orderId)).toEqual([]);
  });

  it('refunds a capture that lands after its order was cancelled', async () => {
    const orderId = await payment.placeOrder({
      customerId: 'alice',
      paymentToken: 'tok_visa',
      totalCents: 2500,
    });
    const charge = payment.holdCharge(orderId);
    await payment.reserveStock(orderId);
    await charge.entered;
    // Cancelled while the processor is still charging: nothing is captured yet, so nothing to refund.
    const before = await payment.handled('OrderCancelled');
    const cancelled = await payment.cancelOrder(orderId);
    await payment.waitForHandled('OrderCancelled', before + 1);
    expect(await types(orderId)).toEqual([]);

    charge.release();
    const refunded = await payment.waitForPaymentEvent(orderId, 'PaymentRefunded');
    expect(refunded).toMatchObject({
      causationId: cancelled.eventId,
      data: { amountCents: 2500, returnId: null },
    });
    expect(await types(orderId)).toEqual(['PaymentCaptured', 'PaymentRefunded']);
    expect(await paymentOf(orderId)).toEqual({ status: 'REFUNDED', amountCents: 2500 });
  });

  it('refunds a return on the RefundPayment command, once', async () => {
    const { orderId, paymentId } = await capturedOrder(5000);
    const returnId = newEventId();
    const refund = () =>
      newCommand(
        'RefundPayment',
        { orderId, paymentId, returnId, amountCents: 5000 },
        { actor: 'service:saga', correlationId: orderId },
      );
    const first = refund();
    const before = await payment.handled('RefundPayment');
    await payment.bus.sendCommands([first, refund(), first]);

    await payment.waitForHandled('RefundPayment', before + 3);
    const refunded = await payment.waitForPaymentEvent(orderId, 'PaymentRefunded');
    expect(refunded.data).toEqual({ paymentId, orderId, amountCents: 5000, returnId });
    expect(await types(orderId)).toEqual(['PaymentCaptured', 'PaymentRefunded']);
    expect(await paymentOf(orderId)).toEqual({ status: 'REFUNDED', amountCents: 5000 });
  });

  it('ignores RefundPayment for an order with nothing captured', async () => {
    const orderId = await payment.placeOrder({ customerId: 'alice', paymentToken: 'tok_visa' });
    const before = await payment.handled('RefundPayment');
    await payment.bus.sendCommands([
      newCommand(
        'RefundPayment',
        { orderId, returnId: null, amountCents: 4200 },
        { actor: 'service:saga', correlationId: orderId },
      ),
    ]);

    await payment.waitForHandled('RefundPayment', before + 1);
    expect(await types(orderId)).toEqual([]);
  });
});
