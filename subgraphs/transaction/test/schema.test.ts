import { checkSchemaAgreement, migrate } from '@magasin/migrator';
import { createTestDatabase, type TestDatabase } from '@magasin/test-kit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedgerPrisma, type LedgerPrisma, projection } from '../src/projections/ledger.ts';

let database: TestDatabase;
let prisma: LedgerPrisma;

beforeAll(async () => {
  database = await createTestDatabase('tx_schema');
  await migrate({ databaseUrl: database.url, migrationsDirectory: projection.migrationsDirectory });
  prisma = createLedgerPrisma(database.url);
});

afterAll(async () => {
  await prisma?.$disconnect();
  await database?.drop();
});

describe('the migrated database', () => {
  it('agrees with prisma/schema.prisma', async () => {
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      expect(await checkSchemaAgreement(prisma, db)).toEqual([]);
    } finally {
      await db.end();
    }
  });

  it('stores and reads back every field of every model through the client', async () => {
    const at = new Date('2026-11-25T10:00:00.123Z');
    const line = { orderId: 'o-1', lineNo: 0, productId: 'p-1', quantity: 2, unitPriceCents: 450 };
    await prisma.orderLine.create({ data: line });
    await prisma.ledgerEntry.create({
      data: {
        id: 'refund-1',
        kind: 'REFUND',
        orderId: 'o-1',
        customerId: 'alice',
        returnId: 'return-1',
        amountCents: 900,
        at,
        lines: {
          create: [{ lineNo: 0, kind: 'REFUND', productId: 'p-1', quantity: 2, revenueCents: 900, at }],
        },
      },
    });
    expect(await prisma.orderLine.findMany()).toEqual([line]);
    expect(await prisma.ledgerEntry.findMany({ include: { lines: true } })).toEqual([
      {
        id: 'refund-1',
        kind: 'REFUND',
        orderId: 'o-1',
        customerId: 'alice',
        returnId: 'return-1',
        amountCents: 900,
        at,
        lines: [
          {
            entryId: 'refund-1',
            lineNo: 0,
            kind: 'REFUND',
            productId: 'p-1',
            quantity: 2,
            revenueCents: 900,
            at,
          },
        ],
      },
    ]);
  });

  it('refuses an entry kind other than SALE or REFUND', async () => {
    await expect(
      prisma.ledgerEntry.create({
        data: { id: 'x', kind: 'GIFT', orderId: 'o-2', customerId: 'bob', amountCents: 1, at: new Date() },
      }),
    ).rejects.toThrow();
  });
});
