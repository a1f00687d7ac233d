/**
 * The sales report as an admin sees it, after orders confirmed through the store's stream and a
 * refund sent by the return saga on RabbitMQ; and the read model rebuilt from the log.
 */
import { composeServices } from '@apollo/composition';
import { diffProjection, rebuildProjection } from '@magasin/subgraph-kit';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projection } from '../src/projections/index.ts';
import {
  ADMIN,
  ALICE,
  SALES_REPORT,
  type SalesReportAnswer,
  startTransactionFixture,
  type TransactionFixture,
} from './fixture.ts';

let fixture: TransactionFixture;
/** occurredAt of each sale, in order, and of the refund. */
const saleTimes: string[] = [];
let refundTime: string;

const report = async (variables: { from?: string; to?: string } = {}) => {
  const answer = await fixture.graphql(ADMIN)<SalesReportAnswer>(SALES_REPORT, variables);
  expect(answer.errors).toBeUndefined();
  if (!answer.data) throw new Error('salesReport answered no data');
  return answer.data.salesReport;
};

beforeAll(async () => {
  fixture = await startTransactionFixture('tx_report');
  // Sequential, so the sales are recorded in this order.
  const first = await fixture.confirmOrder('alice', [
    { productId: 'p-1', quantity: 2, unitPriceCents: 500 },
    { productId: 'p-2', quantity: 1, unitPriceCents: 1_000 },
  ]);
  const [firstSale] = await fixture.ledgerEvents(first.orderId, 'SaleRecorded');
  const second = await fixture.confirmOrder('bob', [{ productId: 'p-1', quantity: 1, unitPriceCents: 500 }]);
  const [secondSale] = await fixture.ledgerEvents(second.orderId, 'SaleRecorded');
  const third = await fixture.confirmOrder('alice', [{ productId: 'p-3', quantity: 3, unitPriceCents: 300 }]);
  const [thirdSale] = await fixture.ledgerEvents(third.orderId, 'SaleRecorded');
  await fixture.sendRecordRefund({ orderId: first.orderId, returnId: 'return-1', amountCents: 2_000 });
  const [refund] = await fixture.ledgerEvents(first.orderId, 'RefundRecorded');
  for (const event of [firstSale, secondSale, thirdSale]) if (event) saleTimes.push(event.occurredAt);
  refundTime = refund?.occurredAt ?? '';
  await fixture.caughtUp();
});

afterAll(async () => {
  await fixture?.stop();
});

describe('salesReport', () => {
  it('totals several sales and a refund, and nets each product of the refunded order lines', async () => {
    expect(await report()).toEqual({
      from: null,
      to: null,
      salesCount: 3,
      refundsCount: 1,
      grossCents: 3_400,
      refundedCents: 2_000,
      netCents: 1_400,
      lines: [
        { product: { id: 'p-3' }, quantity: 3, revenueCents: 900, soldQuantity: 3, returnedQuantity: 0 },
        { product: { id: 'p-1' }, quantity: 1, revenueCents: 500, soldQuantity: 3, returnedQuantity: 2 },
        { product: { id: 'p-2' }, quantity: 0, revenueCents: 0, soldQuantity: 1, returnedQuantity: 1 },
      ],
    });
  });

  it('counts only the entries recorded in the range, both ends included', async () => {
    expect(saleTimes).toHaveLength(3);
    const [first, second, third] = saleTimes as [string, string, string];
    expect(new Date(first) < new Date(second) && new Date(second) < new Date(third)).toBe(true);

    const firstOnly = await report({ from: first, to: first });
    expect(firstOnly).toMatchObject({
      from: first,
      to: first,
      salesCount: 1,
      refundsCount: 0,
      grossCents: 2_000,
      netCents: 2_000,
    });
    expect(firstOnly.lines.map((line) => [line.product.id, line.quantity])).toEqual([
      ['p-1', 2],
      ['p-2', 1],
    ]);

    expect(await report({ from: second, to: third })).toMatchObject({
      salesCount: 2,
      refundsCount: 0,
      grossCents: 1_400,
    });
  });

  it('shows a refund recorded in a later range as negative net sales', async () => {
    const afterSales = new Date(new Date(saleTimes.at(-1) ?? '').getTime() + 1).toISOString();
    expect(new Date(refundTime) >= new Date(afterSales)).toBe(true);
    expect(await report({ from: afterSales })).toMatchObject({
      salesCount: 0,
      refundsCount: 1,
      grossCents: 0,
      refundedCents: 2_000,
      netCents: -2_000,
      lines: [
        { product: { id: 'p-1' }, quantity: -2, revenueCents: -1_000, soldQuantity: 0, returnedQuantity: 2 },
        { product: { id: 'p-2' }, quantity: -1, revenueCents: -1_000, soldQuantity: 0, returnedQuantity: 1 },
      ],
    });
  });

  it('is empty for a range before any sale', async () => {
    expect(await report({ to: '2000-01-01T00:00:00.000Z' })).toEqual({
      from: null,
      to: '2000-01-01T00:00:00.000Z',
      salesCount: 0,
      refundsCount: 0,
      grossCents: 0,
      refundedCents: 0,
      netCents: 0,
      lines: [],
    });
  });

  it('refuses a range that ends before it starts (BAD_USER_INPUT)', async () => {
    const answer = await fixture.graphql(ADMIN)(SALES_REPORT, {
      from: '2026-02-01T00:00:00.000Z',
      to: '2026-01-01T00:00:00.000Z',
    });
    expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(answer.data).toBeNull();
  });

  it('refuses a date that is not ISO-8601 (BAD_USER_INPUT)', async () => {
    const answer = await fixture.graphql(ADMIN)(SALES_REPORT, { from: 'yesterday' });
    expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });

  it('is forbidden to a customer (FORBIDDEN)', async () => {
    const answer = await fixture.graphql(ALICE)(SALES_REPORT);
    expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(answer.data).toBeNull();
  });

  it('asks a caller without identity to sign in (UNAUTHENTICATED)', async () => {
    const answer = await fixture.graphql()(SALES_REPORT);
    expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });
});

describe('the ledger read model', () => {
  it('rebuilt from the log equals the live one', async () => {
    const position = await fixture.caughtUp();
    const rebuilt = await rebuildProjection({
      projection,
      databaseUrl: fixture.databaseUrl,
      eventStore: fixture.backbone.eventStore,
    });
    expect(rebuilt.position).toBe(position);
    expect(rebuilt.events).toBeGreaterThan(0);
    expect(await diffProjection({ databaseUrl: fixture.databaseUrl, schema: rebuilt.schema })).toEqual([]);
  });
});

describe('a rebuild swapped in while the service runs', () => {
  it('leaves the report as it was', async () => {
    const before = await report();
    const rebuilt = await rebuildProjection({
      projection,
      databaseUrl: fixture.databaseUrl,
      eventStore: fixture.backbone.eventStore,
      swap: true,
    });
    expect(rebuilt.swapped).toBe(true);
    expect(await report()).toEqual(before);
  });
});

describe('the subgraph', () => {
  it('announces an SDL the gateway composes, with Product as a stub it does not resolve', async () => {
    const answer = await fixture.graphql()<{ _service: { sdl: string } }>('{ _service { sdl } }');
    const sdl = answer.data?._service.sdl ?? '';
    expect(sdl).toContain('salesReport(from: DateTime, to: DateTime): SalesReport!');
    expect(sdl).toMatch(/type Product\s+@key\(fields: "id", resolvable: false\)/);
    const composed = composeServices([
      { name: 'transaction', typeDefs: parse(sdl), url: fixture.service.url },
    ]);
    expect(composed.errors ?? []).toEqual([]);
  });
});
