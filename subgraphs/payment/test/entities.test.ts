import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, customer, type PaymentFixture, startPayment } from './payment-fixture.ts';

const ENTITIES = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Payment { id orderId amountCents status }
    ... on Order { id payment { id orderId amountCents status } }
  }
}`;

type Entity = {
  id: string;
  orderId?: string;
  amountCents?: number;
  status?: string;
  payment?: Entity | null;
} | null;

describe('federation entities', () => {
  let payment: PaymentFixture;
  const orders: { orderId: string; paymentId: string; status: string; amountCents: number }[] = [];
  let unpaidOrder: string;

  beforeAll(async () => {
    payment = await startPayment('entities');
    const placed = await Promise.all(
      [
        { token: 'tok_visa', amountCents: 1000 },
        { token: 'tok_visa', amountCents: 2000 },
        { token: 'tok_declined', amountCents: 3000 },
        { token: 'tok_visa', amountCents: 4000 },
      ].map(async ({ token, amountCents }) => ({
        orderId: await payment.placeOrder({
          customerId: 'alice',
          paymentToken: token,
          totalCents: amountCents,
        }),
        amountCents,
        type: token === 'tok_visa' ? 'PaymentCaptured' : 'PaymentDeclined',
      })),
    );
    for (const { orderId } of placed) await payment.reserveStock(orderId);
    for (const { orderId, amountCents, type } of placed) {
      const event = await payment.waitForPaymentEvent(orderId, type);
      const { paymentId } = event.data as { paymentId: string };
      orders.push({
        orderId,
        paymentId,
        amountCents,
        status: type === 'PaymentCaptured' ? 'CAPTURED' : 'DECLINED',
      });
    }
    unpaidOrder = await payment.placeOrder({ customerId: 'alice', paymentToken: 'tok_visa' });
    await payment.caughtUp();
  });

  afterAll(async () => {
    await payment?.stop();
  });

  /** Runs the query and returns the entities with the SQL statements it cost. */
  const entities = async (representations: { __typename: string; id: string }[], identity = admin) => {
    const before = payment.queries.length;
    const answer = await payment.graphql(identity)<{ _entities: Entity[] }>(ENTITIES, { representations });
    // Only the read model's reads: the projector may be moving its checkpoint meanwhile.
    const reads = payment.queries
      .slice(before)
      .filter((sql) => /^\s*SELECT[\s\S]*\bpayment(s|_orders)\b/.test(sql));
    return { answer, queries: reads };
  };

  it('resolves a list of payments by id in one query', async () => {
    const { answer, queries } = await entities([
      ...orders.map(({ paymentId }) => ({ __typename: 'Payment', id: paymentId })),
      { __typename: 'Payment', id: 'no-such-payment' },
    ]);
    expect(answer.errors).toBeUndefined();
    expect(answer.data?._entities).toEqual([
      ...orders.map(({ orderId, paymentId, amountCents, status }) => ({
        id: paymentId,
        orderId,
        amountCents,
        status,
      })),
      null,
    ]);
    expect(queries).toHaveLength(1);
  });

  it("resolves a list of orders' payments in one query", async () => {
    const { answer, queries } = await entities([
      ...orders.map(({ orderId }) => ({ __typename: 'Order', id: orderId })),
      { __typename: 'Order', id: unpaidOrder },
      { __typename: 'Order', id: 'order-unknown-here' },
    ]);
    expect(answer.errors).toBeUndefined();
    expect(answer.data?._entities).toEqual([
      ...orders.map(({ orderId, paymentId, amountCents, status }) => ({
        id: orderId,
        payment: { id: paymentId, orderId, amountCents, status },
      })),
      { id: unpaidOrder, payment: null },
      { id: 'order-unknown-here', payment: null },
    ]);
    expect(queries).toHaveLength(1);
  });

  it("shows a customer their own payments and refuses someone else's", async () => {
    const [first] = orders;
    if (!first) throw new Error('no order placed');
    const own = await entities([{ __typename: 'Payment', id: first.paymentId }], customer('alice'));
    expect(own.answer.data?._entities).toEqual([expect.objectContaining({ id: first.paymentId })]);

    const other = await entities([{ __typename: 'Payment', id: first.paymentId }], customer('mallory'));
    expect(other.answer.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(other.answer.data?._entities ?? [null]).toEqual([null]);
  });

  it('refuses an anonymous caller with UNAUTHENTICATED', async () => {
    const [first] = orders;
    if (!first) throw new Error('no order placed');
    const answer = await payment.graphql()<{ _entities: Entity[] }>(ENTITIES, {
      representations: [{ __typename: 'Payment', id: first.paymentId }],
    });
    expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });
});
