/**
 * The order saga end to end (issue 6), through the gateway, with every service running as its
 * own process on real PostgreSQL and RabbitMQ: what a customer and an admin see.
 */
import { eventually } from '@magasin/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayClient, gatewayClient, untilStoreKnowsProduct } from '../src/client.ts';
import { type Stack, startStack } from '../src/stack.ts';

let stack: Stack;
let admin: GatewayClient;
let alice: GatewayClient;

beforeAll(async () => {
  stack = await startStack('saga_e2e', {
    env: { SAGA_STEP_TIMEOUT_MS: '6000', PAYMENT_PROCESSOR_TIMEOUT_MS: '8000' },
  });
  admin = await gatewayClient(stack.gatewayUrl, { sub: 'ada', roles: ['admin'] });
  alice = await gatewayClient(stack.gatewayUrl, { sub: 'alice', roles: ['customer'] });
}, 120_000);
afterAll(async () => {
  await Promise.all([admin?.close(), alice?.close()]);
  await stack?.stop();
});

interface Stock {
  available: number;
  reserved: number;
  sold: number;
}

let skuCounter = 0;
const createProduct = async (initialStock: number, priceCents = 1_000): Promise<string> => {
  skuCounter += 1;
  const answer = await admin.query<{ createProduct: { id: string } }>(
    'mutation ($input: CreateProductInput!) { createProduct(input: $input) { id } }',
    {
      input: {
        sku: `E2E-${Date.now()}-${skuCounter}`,
        name: `Product ${skuCounter}`,
        priceCents,
        initialStock,
      },
    },
  );
  expect(answer.errors).toBeUndefined();
  const id = answer.data?.createProduct.id as string;
  // The store prices orders from its own catalog, which follows the log.
  await untilStoreKnowsProduct(alice, id);
  return id;
};

const stockOf = async (productId: string): Promise<Stock> => {
  const answer = await admin.query<{ product: { stock: Stock } }>(
    'query ($id: ID!) { product(id: $id) { stock { available reserved sold } } }',
    { id: productId },
  );
  return answer.data?.product.stock as Stock;
};

const placeOrder = async (productId: string, quantity: number, paymentToken: string): Promise<string> => {
  const answer = await alice.query<{ placeOrder: { order: { id: string; status: string } } }>(
    `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id status } } }`,
    { input: { lines: [{ productId, quantity }], paymentToken } },
  );
  expect(answer.errors).toBeUndefined();
  expect(answer.data?.placeOrder.order.status).toBe('PENDING');
  return answer.data?.placeOrder.order.id as string;
};

const ORDER_VIEW = `query ($id: ID!) {
  order(id: $id) {
    status totalCents
    payment { status amountCents }
    saga { status steps { name status } }
  }
}`;
interface OrderView {
  status: string;
  totalCents: number;
  payment: { status: string; amountCents: number } | null;
  saga: { status: string; steps: { name: string; status: string }[] } | null;
}

/** The order once its saga has ended (and its payment, if any, is visible). */
const settled = async (orderId: string, timeoutMs = 30_000): Promise<OrderView> =>
  eventually(
    async () => {
      const answer = await alice.query<{ order: OrderView }>(ORDER_VIEW, { id: orderId });
      const order = answer.data?.order;
      return order?.saga && !['RUNNING', 'COMPENSATING'].includes(order.saga.status) ? order : undefined;
    },
    { what: `saga of ${orderId} ended`, timeoutMs, intervalMs: 200 },
  );

describe('the order saga through the gateway', () => {
  it('happy path: the subscription shows each step in order, the order completes, stock is sold and the ledger has the sale', async () => {
    const productId = await createProduct(10, 1_250);
    const orderId = await placeOrder(productId, 2, 'tok_visa');
    const updates = await alice.subscribe<{
      orderSaga: {
        status: string;
        steps: { name: string }[];
        order: { totalCents: number; lines: { product: { name: string } }[] };
      };
    }>(
      `subscription ($orderId: ID!) {
        orderSaga(orderId: $orderId) { status steps { name } order { totalCents lines { quantity product { name } } } }
      }`,
      { orderId },
    );
    expect(updates.every((update) => update.errors === undefined)).toBe(true);
    const last = updates.at(-1)?.data?.orderSaga;
    expect(last?.status).toBe('COMPLETED');
    expect(last?.order).toMatchObject({
      totalCents: 2_500,
      lines: [{ product: { name: expect.stringMatching(/^Product/) } }],
    });
    const steps = last?.steps.map((step) => step.name) ?? [];
    for (const name of ['OrderPlaced', 'StockReserved', 'PaymentCaptured', 'OrderConfirmed'])
      expect(steps).toContain(name);
    // The timeline lists steps in the order the saga service observed them (through RabbitMQ),
    // which under load is not always causal order: noted on issue 6. It always ends with the end.
    expect(steps.at(-1)).toBe('SagaCompleted');
    // Each update adds to the timeline: the step counts never go down.
    const counts = updates.map((update) => update.data?.orderSaga.steps.length ?? 0);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));

    const order = await settled(orderId);
    expect(order).toMatchObject({
      status: 'CONFIRMED',
      totalCents: 2_500,
      payment: { status: 'CAPTURED', amountCents: 2_500 },
    });
    await eventually(async () => ((await stockOf(productId)).sold === 2 ? true : undefined), {
      what: 'stock sold',
    });
    expect(await stockOf(productId)).toEqual({ available: 8, reserved: 0, sold: 2 });
    const report = await admin.query<{
      salesReport: { lines: { product: { id: string }; quantity: number; revenueCents: number }[] };
    }>('{ salesReport { lines { product { id } quantity revenueCents } } }');
    await eventually(
      async () => {
        const again = await admin.query<{
          salesReport: { lines: { product: { id: string }; quantity: number; revenueCents: number }[] };
        }>('{ salesReport { lines { product { id } quantity revenueCents } } }');
        return again.data?.salesReport.lines.find((line) => line.product.id === productId);
      },
      { what: 'sale in the ledger' },
    );
    expect(report.errors).toBeUndefined();
  });

  it('out of stock: the order is cancelled and nobody is charged', async () => {
    const productId = await createProduct(1);
    const orderId = await placeOrder(productId, 5, 'tok_visa');
    const order = await settled(orderId);
    expect(order.saga?.status).toBe('CANCELLED');
    expect(order.status).toBe('CANCELLED');
    expect(order.payment).toBeNull();
    expect(await stockOf(productId)).toEqual({ available: 1, reserved: 0, sold: 0 });
  });

  it('declined card: the order is cancelled and the reserved stock is back', async () => {
    const productId = await createProduct(4);
    const orderId = await placeOrder(productId, 3, 'tok_declined');
    const order = await settled(orderId);
    expect(order.saga?.status).toBe('CANCELLED');
    expect(order).toMatchObject({ status: 'CANCELLED', payment: { status: 'DECLINED' } });
    await eventually(async () => ((await stockOf(productId)).available === 4 ? true : undefined), {
      what: 'stock released',
    });
    expect(await stockOf(productId)).toEqual({ available: 4, reserved: 0, sold: 0 });
  });

  it('a processor that never answers: the saga times out, the stock is released and no charge is left', async () => {
    const productId = await createProduct(3);
    const orderId = await placeOrder(productId, 1, 'tok_timeout');
    const order = await settled(orderId, 45_000);
    expect(order.saga?.status).toBe('TIMED_OUT');
    await eventually(
      async () => {
        const answer = await alice.query<{ order: OrderView }>(ORDER_VIEW, { id: orderId });
        return answer.data?.order.status === 'CANCELLED' ? true : undefined;
      },
      { what: 'order cancelled after the timeout', timeoutMs: 20_000 },
    );
    await eventually(async () => ((await stockOf(productId)).available === 3 ? true : undefined), {
      what: 'stock released',
    });
    const after = await alice.query<{ order: OrderView }>(ORDER_VIEW, { id: orderId });
    expect(after.data?.order.payment?.status ?? 'NONE').not.toBe('CAPTURED');
  });

  it('a return: refund, restock, ledger refund and the order RETURNED, step by step', async () => {
    const productId = await createProduct(5, 2_000);
    const orderId = await placeOrder(productId, 2, 'tok_visa');
    expect((await settled(orderId)).saga?.status).toBe('COMPLETED');
    await eventually(async () => ((await stockOf(productId)).sold === 2 ? true : undefined), {
      what: 'stock sold',
    });

    const requested = await alice.query<{ requestReturn: { id: string; kind: string; status: string } }>(
      'mutation ($orderId: ID!) { requestReturn(orderId: $orderId) { id kind status } }',
      { orderId },
    );
    expect(requested.errors).toBeUndefined();
    expect(requested.data?.requestReturn).toMatchObject({ kind: 'RETURN', status: 'RUNNING' });
    const returnId = requested.data?.requestReturn.id as string;
    const saga = await eventually(
      async () => {
        const answer = await alice.query<{ saga: { status: string; steps: { name: string }[] } }>(
          'query ($id: ID!) { saga(id: $id) { status steps { name } } }',
          { id: returnId },
        );
        const status = answer.data?.saga?.status;
        return status && status !== 'RUNNING' && status !== 'COMPENSATING' ? answer.data?.saga : undefined;
      },
      { what: 'return saga ended', timeoutMs: 40_000, intervalMs: 250 },
    );
    expect(saga.status).toBe('COMPLETED');
    const names = saga.steps.map((step) => step.name);
    const order = ['PaymentRefunded', 'StockReturned', 'RefundRecorded', 'OrderReturned'].map((name) =>
      names.indexOf(name),
    );
    expect(order.every((index) => index >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));

    const view = await eventually(
      async () => {
        const answer = await alice.query<{ order: OrderView }>(ORDER_VIEW, { id: orderId });
        return answer.data?.order.status === 'RETURNED' && answer.data.order.payment?.status === 'REFUNDED'
          ? answer.data.order
          : undefined;
      },
      { what: 'order returned and refunded' },
    );
    expect(view.payment).toMatchObject({ status: 'REFUNDED', amountCents: 4_000 });
    await eventually(async () => ((await stockOf(productId)).available === 5 ? true : undefined), {
      what: 'stock back',
    });
    expect(await stockOf(productId)).toEqual({ available: 5, reserved: 0, sold: 0 });
  });
});

describe('the gateway keeps the doors shut', () => {
  it('anonymous, wrong role, someone else’s order, and a direct unsigned call to a subgraph are refused', async () => {
    const productId = await createProduct(2);
    const orderId = await placeOrder(productId, 1, 'tok_visa');
    const anonymous = await gatewayClient(stack.gatewayUrl);
    const bob = await gatewayClient(stack.gatewayUrl, { sub: 'bob', roles: ['customer'] });
    try {
      const anon = await anonymous.query(
        'mutation ($id: ID!) { placeOrder(input: { lines: [{ productId: $id, quantity: 1 }], paymentToken: "tok_visa" }) { order { id } } }',
        { id: productId },
      );
      expect(anon.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const report = await alice.query('{ salesReport { salesCount } }');
      expect(report.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const theirs = await bob.query('query ($id: ID!) { order(id: $id) { id } }', { id: orderId });
      expect(theirs.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(JSON.stringify(theirs)).not.toMatch(/stack|at .*\.ts/);
      const direct = await fetch(`${stack.urls.store}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ orders { id } }' }),
      });
      expect(direct.status).toBe(401);
    } finally {
      await Promise.all([anonymous.close(), bob.close()]);
    }
  });
});
