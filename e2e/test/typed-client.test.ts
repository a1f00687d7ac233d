import { createServer, type Server } from 'node:http';
import {
  CatalogDocument,
  OrderDocument,
  PlaceOrderDocument,
  SalesReportDocument,
} from '@magasin/events/operations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayOperationError, typedGatewayClient } from '../src/index.ts';

/** What the fake gateway received, and what it answers next. */
const received: { query: string; variables: Record<string, unknown>; authorization?: string }[] = [];
let nextAnswer: unknown = { data: {} };
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      received.push({ ...JSON.parse(body), authorization: req.headers.authorization });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(nextAnswer));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  url = `http://127.0.0.1:${address.port}/graphql`;
});
afterAll(() => new Promise((done) => server.close(done)));

describe('the typed gateway client', () => {
  it('sends the generated operation with its variables and answers its data', async () => {
    const alice = await typedGatewayClient(url, { sub: 'alice', roles: ['customer'] });
    nextAnswer = { data: { order: null } };
    const data = await alice.request(OrderDocument, { id: 'o-1' });
    expect(data.order).toBeNull();
    const last = received.at(-1);
    expect(last?.query).toMatch(/^query Order\(\$id: ID!\)/);
    expect(last?.query).toContain('fragment OrderSummary on Order');
    expect(last?.variables).toEqual({ id: 'o-1' });
    expect(last?.authorization).toMatch(/^Bearer ey/);
    await alice.close();
  });

  it('needs no variables for an operation without any', async () => {
    const anonymous = await typedGatewayClient(url);
    nextAnswer = { data: { products: [] } };
    expect(await anonymous.request(CatalogDocument)).toEqual({ products: [] });
    expect(received.at(-1)?.authorization).toBeUndefined();
    nextAnswer = { data: { salesReport: { salesCount: 0 } } };
    await anonymous.request(SalesReportDocument);
    await anonymous.close();
  });

  it('rejects an answer with errors, with the first code', async () => {
    const alice = await typedGatewayClient(url, { sub: 'alice', roles: ['customer'] });
    nextAnswer = {
      data: null,
      errors: [{ message: 'unknown product: p9', extensions: { code: 'NOT_FOUND' } }],
    };
    const failure = await alice
      .request(PlaceOrderDocument, {
        input: { lines: [{ productId: 'p9', quantity: 1 }], paymentToken: 'tok_visa' },
      })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GatewayOperationError);
    expect(failure).toMatchObject({
      code: 'NOT_FOUND',
      operation: 'PlaceOrder',
      message: 'PlaceOrder: unknown product: p9',
    });
    await alice.close();
  });

  it('is checked by the compiler against the generated types', async () => {
    const alice = await typedGatewayClient(url, { sub: 'alice', roles: ['customer'] });
    nextAnswer = { data: { order: null } };
    // @ts-expect-error OrderDocument needs its id.
    await alice.request(OrderDocument);
    const lines = [{ productId: 'p', quantity: '1' }];
    // @ts-expect-error quantity is an Int, not a string.
    await alice.request(PlaceOrderDocument, { input: { lines, paymentToken: 't' } });
    nextAnswer = {
      data: {
        products: [
          { id: 'p', sku: 's', name: 'n', priceCents: 1, stock: { available: 1, reserved: 0, sold: 0 } },
        ],
      },
    };
    const { products } = await alice.request(CatalogDocument);
    const available: number | undefined = products[0]?.stock.available;
    expect(available).toBe(1);
    // @ts-expect-error the Catalog operation does not select a product's description.
    expect(products[0]?.description).toBeUndefined();
    await alice.close();
  });
});
