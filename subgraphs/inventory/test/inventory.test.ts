import type { Histogram } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVENTORY_STREAM } from '../src/inventory-stream.ts';
import { admin, customer, type InventoryUnderTest, startInventory } from './inventory-fixture.ts';

let inventory: InventoryUnderTest;

beforeAll(async () => {
  inventory = await startInventory('inventory_api');
});
afterAll(async () => {
  await inventory?.stop();
});

const PRODUCT_FIELDS = 'id sku name priceCents stock { available reserved sold }';
const createProduct = `mutation ($input: CreateProductInput!) { createProduct(input: $input) { ${PRODUCT_FIELDS} } }`;
const restockProduct = `mutation ($productId: ID!, $quantity: Int!) {
  restockProduct(productId: $productId, quantity: $quantity) { ${PRODUCT_FIELDS} }
}`;
const productQuery = `query ($id: ID!) { product(id: $id) { ${PRODUCT_FIELDS} } }`;
const entitiesQuery = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Product { id sku stock { available } } }
}`;

interface ProductAnswer {
  id: string;
  sku: string;
  name: string;
  priceCents: number;
  stock: { available: number; reserved: number; sold: number };
}

const create = async (input: { sku: string; name?: string; priceCents?: number; initialStock?: number }) => {
  const answer = await inventory.graphql(admin)<{ createProduct: ProductAnswer }>(createProduct, {
    input: { name: `Product ${input.sku}`, priceCents: 1000, initialStock: 10, ...input },
  });
  if (!answer.data?.createProduct) throw new Error(`createProduct failed: ${JSON.stringify(answer.errors)}`);
  return answer.data.createProduct;
};

const codeOf = (answer: { errors?: { extensions?: Record<string, unknown> }[] }) =>
  answer.errors?.[0]?.extensions?.code;

describe('catalog', () => {
  it('an admin creates a product and is answered with it and its stock; the event names the admin', async () => {
    const answer = await inventory.graphql(admin)<{ createProduct: ProductAnswer }>(createProduct, {
      input: { sku: 'KET-001', name: 'Kettle', priceCents: 2999, initialStock: 12 },
    });
    expect(answer.errors).toBeUndefined();
    const product = answer.data?.createProduct;
    expect(product).toMatchObject({
      sku: 'KET-001',
      name: 'Kettle',
      priceCents: 2999,
      stock: { available: 12, reserved: 0, sold: 0 },
    });
    const created = (await inventory.inventoryEvents()).find(
      (event) => (event.data as { productId?: string }).productId === product?.id,
    );
    expect(created).toMatchObject({ type: 'ProductCreated', actor: 'ada', causationId: null });
  });

  it('anyone lists the products and reads one by id, from the read model', async () => {
    const teapot = await create({ sku: 'TEA-001', name: 'Teapot', priceCents: 1500, initialStock: 4 });
    await inventory.caughtUp();
    const anonymous = inventory.graphql();
    const list = await anonymous<{ products: ProductAnswer[] }>(`{ products { ${PRODUCT_FIELDS} } }`);
    expect(list.errors).toBeUndefined();
    expect(list.data?.products.map((p) => p.sku)).toEqual(['KET-001', 'TEA-001']);
    const one = await anonymous<{ product: ProductAnswer }>(productQuery, { id: teapot.id });
    expect(one.data?.product).toEqual(teapot);
  });

  it('answers null for a product that does not exist, BAD_USER_INPUT for an id that is not a UUID', async () => {
    const anonymous = inventory.graphql();
    const missing = await anonymous(productQuery, { id: '0190b2c4-0000-7000-8000-000000000000' });
    expect(missing).toEqual({ data: { product: null } });
    expect(codeOf(await anonymous(productQuery, { id: 'kettle' }))).toBe('BAD_USER_INPUT');
  });

  it('restocking adds units to what is available', async () => {
    const mug = await create({ sku: 'MUG-001', initialStock: 3 });
    const answer = await inventory.graphql(admin)<{ restockProduct: ProductAnswer }>(restockProduct, {
      productId: mug.id,
      quantity: 5,
    });
    expect(answer.data?.restockProduct.stock).toEqual({ available: 8, reserved: 0, sold: 0 });
    await inventory.caughtUp();
    const read = await inventory.graphql()<{ product: ProductAnswer }>(productQuery, { id: mug.id });
    expect(read.data?.product.stock).toEqual({ available: 8, reserved: 0, sold: 0 });
  });
});

describe('errors', () => {
  it('refuses a sku already in the catalog (CONFLICT) and appends nothing', async () => {
    await create({ sku: 'DUP-001' });
    const before = (await inventory.inventoryEvents()).length;
    const answer = await inventory.graphql(admin)(createProduct, {
      input: { sku: 'DUP-001', name: 'Copy', priceCents: 1, initialStock: 1 },
    });
    expect(answer.data).toBeNull();
    expect(answer.errors?.[0]).toMatchObject({ extensions: { code: 'CONFLICT', sku: 'DUP-001' } });
    expect(await inventory.inventoryEvents()).toHaveLength(before);
  });

  it.each([
    ['a negative price', { priceCents: -1 }],
    ['a negative initial stock', { initialStock: -1 }],
    ['an empty sku', { sku: '' }],
  ])('refuses %s (BAD_USER_INPUT)', async (_, change) => {
    const input = { sku: 'BAD-001', name: 'Bad', priceCents: 100, initialStock: 1, ...change };
    expect(codeOf(await inventory.graphql(admin)(createProduct, { input }))).toBe('BAD_USER_INPUT');
  });

  it('refuses a restock of 0 or fewer units (BAD_USER_INPUT), of an unknown product (NOT_FOUND) or a malformed id', async () => {
    const lamp = await create({ sku: 'LAMP-001' });
    const gql = inventory.graphql(admin);
    expect(codeOf(await gql(restockProduct, { productId: lamp.id, quantity: 0 }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await gql(restockProduct, { productId: lamp.id, quantity: -4 }))).toBe('BAD_USER_INPUT');
    const unknown = await gql(restockProduct, {
      productId: '0190b2c4-0000-7000-8000-000000000001',
      quantity: 1,
    });
    expect(unknown.errors?.[0]).toMatchObject({
      message: 'no product 0190b2c4-0000-7000-8000-000000000001',
      extensions: { code: 'NOT_FOUND' },
    });
    expect(codeOf(await gql(restockProduct, { productId: 'lamp', quantity: 1 }))).toBe('BAD_USER_INPUT');
  });

  it('lets only admins change the catalog: a customer is FORBIDDEN, an anonymous caller UNAUTHENTICATED', async () => {
    const chair = await create({ sku: 'CHAIR-001' });
    const input = { sku: 'CHAIR-002', name: 'Chair', priceCents: 100, initialStock: 1 };
    expect(codeOf(await inventory.graphql(customer)(createProduct, { input }))).toBe('FORBIDDEN');
    expect(codeOf(await inventory.graphql()(createProduct, { input }))).toBe('UNAUTHENTICATED');
    expect(
      codeOf(await inventory.graphql(customer)(restockProduct, { productId: chair.id, quantity: 1 })),
    ).toBe('FORBIDDEN');
    expect(codeOf(await inventory.graphql()(restockProduct, { productId: chair.id, quantity: 1 }))).toBe(
      'UNAUTHENTICATED',
    );
  });

  it('refuses requests the gateway did not sign', async () => {
    const response = await fetch(`${inventory.service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ products { id } }' }),
    });
    expect(response.status).toBe(401);
  });
});

describe('federation', () => {
  it('resolves Product references in order, null for an unknown one, in one batched read', async () => {
    const products = await Promise.all(
      ['FED-1', 'FED-2', 'FED-3'].map((sku) => create({ sku, initialStock: 2 })),
    );
    await inventory.caughtUp();
    const batches = inventory.registry.getSingleMetric('magasin_inventory_product_batch_size') as Histogram;
    const countOf = async () => {
      const values = (await batches.get()).values;
      const value = (suffix: string) =>
        values.find((v) => v.metricName === `magasin_inventory_product_batch_size_${suffix}`)?.value ?? 0;
      return { batches: value('count'), ids: value('sum') };
    };
    const before = await countOf();
    const [a, b, c] = products;
    const representations = [
      { __typename: 'Product', id: c?.id },
      { __typename: 'Product', id: 'not-a-product' },
      { __typename: 'Product', id: a?.id },
      { __typename: 'Product', id: b?.id },
    ];
    const answer = await inventory.graphql()(entitiesQuery, { representations });
    expect(answer).toEqual({
      data: {
        _entities: [
          { id: c?.id, sku: 'FED-3', stock: { available: 2 } },
          null,
          { id: a?.id, sku: 'FED-1', stock: { available: 2 } },
          { id: b?.id, sku: 'FED-2', stock: { available: 2 } },
        ],
      },
    });
    expect(await countOf()).toEqual({ batches: before.batches + 1, ids: before.ids + 4 });
  });

  it('publishes its SDL with Product as an entity keyed by id', async () => {
    const answer = await inventory.graphql()<{ _service: { sdl: string } }>('{ _service { sdl } }');
    expect(answer.data?._service.sdl).toMatch(/type Product\s+@key\(fields: "id"\)/);
  });
});

describe('read model', () => {
  it('agrees with schema.prisma: every field of a product is written and read back through the client', async () => {
    const { prisma } = inventory.service.deps;
    const row = {
      id: 'schema-check',
      sku: 'SCHEMA-CHECK',
      name: 'Schema check',
      priceCents: 123,
      available: 4,
      reserved: 5,
      sold: 6,
      createdAt: new Date('2026-11-25T10:00:00.123Z'),
    };
    try {
      await prisma.product.create({ data: row });
      expect(await prisma.product.findUniqueOrThrow({ where: { id: row.id } })).toEqual(row);
    } finally {
      await prisma.product.deleteMany({ where: { id: row.id } });
    }
  });

  it('keeps the mutations in the one inventory stream', async () => {
    const events = await inventory.inventoryEvents();
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((event) => event.streamId))).toEqual(new Set([INVENTORY_STREAM]));
  });
});
