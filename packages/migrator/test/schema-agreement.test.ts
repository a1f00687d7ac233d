import { createTestDatabase, type TestDatabase } from '@magasin/test-kit';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSchemaAgreement, migrate, SchemaProblemCode } from '../src/index.ts';
import { Prisma, PrismaClient, ProductStatus } from './fixtures/catalog/src/generated/prisma/client.ts';
import { PrismaClient as DriftedPrismaClient } from './fixtures/drifted/src/generated/prisma/client.ts';
import { CATALOG_MIGRATIONS } from './migrations-fixture.ts';

describe('the catalog fixture, migrated', () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let db: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase('agreement');
    await migrate({ databaseUrl: database.url, migrationsDirectory: CATALOG_MIGRATIONS });
    prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: database.url }) });
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await db?.end();
    await database?.drop();
  });

  it('agrees with its schema.prisma', async () => {
    expect(await checkSchemaAgreement(prisma, db)).toEqual([]);
  });

  it('stores and returns every field of every model through the Prisma client', async () => {
    const product = {
      id: '0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b',
      sku: 'SKU-1',
      name: 'Mug',
      priceCents: 1299,
      weightGrams: 9_007_199_254_740_993n,
      rating: 4.25,
      taxRate: new Prisma.Decimal('0.2000'),
      active: false,
      status: ProductStatus.DISCONTINUED,
      tags: ['kitchen', 'gift'],
      attributes: { colour: 'blue', sizes: [1, 2], nested: { ok: true } },
      thumbnail: new Uint8Array([0, 1, 2, 254, 255]),
      description: 'A blue mug',
      createdAt: new Date('2025-01-02T03:04:05.678Z'),
    };
    await prisma.product.create({ data: product });
    const stock = {
      productId: product.id,
      available: 7,
      reserved: 2,
      updatedAt: new Date('2025-02-03T04:05:06.789Z'),
    };
    await prisma.stockLevel.create({ data: stock });
    const inbox = {
      consumer: 'inventory',
      eventId: '0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c',
      handledAt: new Date('2025-03-04T05:06:07.890Z'),
    };
    await prisma.inboxEntry.create({ data: inbox });

    const stored = await prisma.product.findUniqueOrThrow({
      where: { id: product.id },
      include: { stock: true },
    });
    const { taxRate, thumbnail, stock: storedStock, ...rest } = stored;
    const { taxRate: _, thumbnail: __, ...expected } = product;
    expect(rest).toEqual(expected);
    expect(taxRate.equals(product.taxRate)).toBe(true);
    expect([...(thumbnail ?? [])]).toEqual([...product.thumbnail]);
    // @updatedAt sets updatedAt itself on create: only the other fields round-trip as given.
    expect(storedStock).toMatchObject({ productId: stock.productId, available: 7, reserved: 2 });
    expect(await prisma.inboxEntry.findMany()).toEqual([inbox]);

    const defaults = await prisma.product.create({
      data: { ...product, id: '0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5d', sku: 'SKU-2', createdAt: undefined },
      select: { active: true, createdAt: true, description: true },
    });
    expect(defaults.createdAt).toBeInstanceOf(Date);
    const bare = await prisma.product.update({
      where: { sku: 'SKU-2' },
      data: { description: null, thumbnail: null, tags: [] },
      select: { description: true, thumbnail: true, tags: true },
    });
    expect(bare).toEqual({ description: null, thumbnail: null, tags: [] });
  });

  it('reports the column that a drifted schema has and no migration created', async () => {
    const drifted = new DriftedPrismaClient({ adapter: new PrismaPg({ connectionString: database.url }) });
    try {
      expect(await checkSchemaAgreement(drifted, db)).toEqual([
        expect.objectContaining({
          code: SchemaProblemCode.MissingColumn,
          model: 'Product',
          field: 'discontinuedAt',
          table: 'public.products',
          column: 'discontinued_at',
        }),
      ]);
    } finally {
      await drifted.$disconnect();
    }
  });
});

describe('a database changed behind the schema', () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let db: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase('drift');
    await migrate({ databaseUrl: database.url, migrationsDirectory: CATALOG_MIGRATIONS });
    prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: database.url }) });
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    await db.query(`
      ALTER TABLE products ALTER COLUMN rating TYPE TEXT;
      ALTER TABLE products ALTER COLUMN description SET NOT NULL;
      ALTER TABLE products ALTER COLUMN name DROP NOT NULL;
      ALTER TABLE products ALTER COLUMN price_cents TYPE BIGINT;
      ALTER TABLE products ADD COLUMN supplier TEXT NOT NULL;
      DROP TABLE inbox;`);
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await db?.end();
    await database?.drop();
  });

  it('reports each disagreement, naming model, field and column', async () => {
    const problems = await checkSchemaAgreement(prisma, db);
    expect(problems.map(({ code, model, field, column }) => ({ code, model, field, column }))).toEqual(
      expect.arrayContaining([
        {
          code: SchemaProblemCode.IncompatibleType,
          model: 'Product',
          field: 'priceCents',
          column: 'price_cents',
        },
        { code: SchemaProblemCode.IncompatibleType, model: 'Product', field: 'rating', column: 'rating' },
        {
          code: SchemaProblemCode.Nullability,
          model: 'Product',
          field: 'description',
          column: 'description',
        },
        { code: SchemaProblemCode.Nullability, model: 'Product', field: 'name', column: 'name' },
        {
          code: SchemaProblemCode.UnknownRequiredColumn,
          model: 'Product',
          field: undefined,
          column: 'supplier',
        },
        { code: SchemaProblemCode.MissingTable, model: 'InboxEntry', field: undefined, column: undefined },
      ]),
    );
    expect(problems).toHaveLength(6);
    expect(problems.find((problem) => problem.field === 'rating')?.message).toBe(
      'Product.rating (column public.products.rating): Float expects float8, found text',
    );
  });

  it('judges by type families when the client does not embed its schema text', async () => {
    const { _runtimeDataModel } = prisma as unknown as { _runtimeDataModel: object };
    const problems = await checkSchemaAgreement({ _runtimeDataModel }, db);
    expect(problems.map(({ code, field, column }) => ({ code, field, column }))).toEqual(
      expect.arrayContaining([
        { code: SchemaProblemCode.IncompatibleType, field: 'rating', column: 'rating' },
        { code: SchemaProblemCode.IncompatibleType, field: 'priceCents', column: 'price_cents' },
        { code: SchemaProblemCode.UnknownRequiredColumn, field: undefined, column: 'supplier' },
        { code: SchemaProblemCode.MissingTable, field: undefined, column: undefined },
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it('refuses something that is not a generated Prisma client', async () => {
    await expect(checkSchemaAgreement({}, db)).rejects.toThrow(TypeError);
  });
});
