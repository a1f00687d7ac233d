import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '@magasin/test-kit';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INBOX_TABLE_SQL, prismaInbox, recordAfterInbox } from '../src/index.ts';

// The client is generated from test/prisma/schema.prisma into node_modules (offline: generation
// needs no schema engine), then imported; its shape is typed here only as far as the test uses it.
interface ReservedStockDelegate {
  upsert(args: {
    where: { productId: string };
    create: { productId: string; quantity: number };
    update: { quantity: { increment: number } };
  }): Promise<unknown>;
}
interface TestTx {
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): Promise<number>;
  reservedStock: ReservedStockDelegate;
}
interface TestClient {
  $transaction<R>(
    fn: (tx: TestTx) => Promise<R>,
    options?: { timeout?: number; maxWait?: number },
  ): Promise<R>;
  reservedStock: { findUnique(args: { where: { productId: string } }): Promise<{ quantity: number } | null> };
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): Promise<number>;
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): Promise<T>;
  $disconnect(): Promise<void>;
}

const run = promisify(execFile);
const packageDir = new URL('..', import.meta.url).pathname;

describe('prismaInbox with a generated Prisma client', () => {
  let db: TestDatabase;
  let prisma: TestClient;

  beforeAll(async () => {
    db = await createTestDatabase('prisma_inbox');
    await run(
      process.execPath,
      [
        new URL('../../../node_modules/prisma/build/index.js', import.meta.url).pathname,
        'generate',
        '--schema',
        'test/prisma/schema.prisma',
      ],
      {
        cwd: packageDir,
        env: {
          ...process.env,
          PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
          PRISMA_HIDE_UPDATE_MESSAGE: '1',
        },
      },
    );
    const setup = new pg.Client({ connectionString: db.url });
    await setup.connect();
    await setup.query(INBOX_TABLE_SQL);
    await setup.query('CREATE TABLE reserved_stock (product_id text PRIMARY KEY, quantity int NOT NULL)');
    await setup.end();
    const generated = `${packageDir}node_modules/.generated/prisma-inbox-test/client.ts`;
    const { PrismaClient } = (await import(generated)) as {
      PrismaClient: new (options: { adapter: PrismaPg }) => TestClient;
    };
    prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) });
  });
  afterAll(async () => {
    await prisma?.$disconnect();
    await db?.drop();
  });

  const reserve = async (tx: TestTx): Promise<void> => {
    await tx.reservedStock.upsert({
      where: { productId: 'p-1' },
      create: { productId: 'p-1', quantity: 2 },
      update: { quantity: { increment: 2 } },
    });
  };

  it('applies a message once, and rolls the inbox record back with a failing handler', async () => {
    const inbox = prismaInbox(prisma);
    expect(await inbox.runOnce('inventory', 'm-1', reserve)).toBe('applied');
    expect(await inbox.runOnce('inventory', 'm-1', reserve)).toBe('duplicate');
    await expect(
      inbox.runOnce('inventory', 'm-2', async (tx) => {
        await reserve(tx);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await prisma.reservedStock.findUnique({ where: { productId: 'p-1' } }))?.quantity).toBe(2);
    expect(await inbox.runOnce('inventory', 'm-2', reserve)).toBe('applied');
    expect((await prisma.reservedStock.findUnique({ where: { productId: 'p-1' } }))?.quantity).toBe(4);
  });

  it('recordAfterInbox runs the work outside a transaction, records it after, and runs a failed one again', async () => {
    const inbox = recordAfterInbox(prisma);
    const effects: string[] = [];
    const inTransaction = async () =>
      (await prisma.$queryRaw<{ open: boolean }[]>`SELECT now() <> statement_timestamp() AS open`)[0]?.open;
    const work = (id: string) => async (client: TestClient) => {
      expect(client).toBe(prisma);
      // A statement of its own: no transaction started before it.
      expect(await inTransaction()).toBe(false);
      effects.push(id);
    };
    expect(await inbox.runOnce('saga', 'r-1', work('r-1'))).toBe('applied');
    expect(await inbox.runOnce('saga', 'r-1', work('r-1 again'))).toBe('duplicate');
    await expect(
      inbox.runOnce('saga', 'r-2', async () => {
        effects.push('r-2 failed');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    // Not recorded: the redelivery runs it again.
    expect(await inbox.runOnce('saga', 'r-2', work('r-2'))).toBe('applied');
    expect(effects).toEqual(['r-1', 'r-2 failed', 'r-2']);
    const recorded = await prisma.$queryRaw<
      { message_id: string }[]
    >`SELECT message_id FROM inbox WHERE consumer = 'saga' ORDER BY message_id`;
    expect(recorded.map((row) => row.message_id)).toEqual(['r-1', 'r-2']);
  });
});
