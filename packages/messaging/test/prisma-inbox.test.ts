import { AsyncLocalStorage } from 'node:async_hooks';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '@magasin/test-kit';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchingPrismaInbox, INBOX_TABLE_SQL, prismaInbox, recordAfterInbox } from '../src/index.ts';

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
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): Promise<T>;
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

  it('recordAfterInbox handles messages that arrive together: each new one once, the recorded ones not again', async () => {
    const inbox = recordAfterInbox(prisma);
    await inbox.runOnce('together', 't-0', async () => undefined);
    const ran: string[] = [];
    const ids = Array.from({ length: 12 }, (_, index) => `t-${index}`);
    const outcomes = await Promise.all(
      ids.map((id) =>
        inbox.runOnce('together', id, async () => {
          ran.push(id);
        }),
      ),
    );
    expect(outcomes).toEqual(ids.map((id) => (id === 't-0' ? 'duplicate' : 'applied')));
    expect(ran.sort()).toEqual(ids.filter((id) => id !== 't-0').sort());
    const recorded = await prisma.$queryRaw<
      { message_id: string }[]
    >`SELECT message_id FROM inbox WHERE consumer = 'together'`;
    expect(recorded.map((row) => row.message_id).sort()).toEqual([...ids].sort());
    // Another consumer's record of the same id is not this consumer's.
    expect(await inbox.runOnce('elsewhere', 't-1', async () => undefined)).toBe('applied');
  });

  describe('batchingPrismaInbox', () => {
    const transactionOf = async (tx: TestTx) =>
      (await tx.$queryRaw<{ id: string }[]>`SELECT txid_current()::text AS id`)[0]?.id as string;
    const recordedOf = async (consumer: string) =>
      (
        await prisma.$queryRaw<
          { message_id: string }[]
        >`SELECT message_id FROM inbox WHERE consumer = ${consumer} ORDER BY message_id`
      ).map((row) => row.message_id);

    it('commits the messages that arrive together in one transaction, each once, in arrival order', async () => {
      const inbox = batchingPrismaInbox(prisma);
      expect(await inbox.runOnce('audit', 'b-00', async () => undefined)).toBe('applied');
      const applied: { id: string; transaction: string }[] = [];
      const work = (id: string) => async (tx: TestTx) => {
        applied.push({ id, transaction: await transactionOf(tx) });
      };
      const ids = Array.from({ length: 20 }, (_, index) => `b-${String(index + 1).padStart(2, '0')}`);
      // Already recorded before, and the same id twice in the batch.
      const outcomes = await Promise.all(
        ['b-00', ...ids, 'b-05'].map((id) => inbox.runOnce('audit', id, work(id))),
      );
      expect(outcomes).toEqual(['duplicate', ...ids.map(() => 'applied'), 'duplicate']);
      expect(applied.map((entry) => entry.id)).toEqual(ids);
      expect(new Set(applied.map((entry) => entry.transaction)).size).toBe(1);
      expect(await recordedOf('audit')).toEqual(['b-00', ...ids]);
    });

    it('runs a batch with a failing message again one by one: the others are applied, the failing one is not recorded', async () => {
      const inbox = batchingPrismaInbox(prisma);
      const attempts = new Map<string, number>();
      const work = (id: string) => async (tx: TestTx) => {
        attempts.set(id, (attempts.get(id) ?? 0) + 1);
        await tx.$executeRaw`INSERT INTO reserved_stock (product_id, quantity) VALUES (${id}, 1)`;
        if (id === 'f-2') throw new Error('poison');
      };
      const outcomes = await Promise.allSettled(
        ['f-1', 'f-2', 'f-3'].map((id) => inbox.runOnce('failing', id, work(id))),
      );
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error('poison'));
      // f-1 and f-2 ran in the rolled-back batch (which stopped at f-2), then each ran alone.
      expect(Object.fromEntries(attempts)).toEqual({ 'f-1': 2, 'f-2': 2, 'f-3': 1 });
      expect(await recordedOf('failing')).toEqual(['f-1', 'f-3']);
      const rows = await prisma.$queryRaw<
        { product_id: string }[]
      >`SELECT product_id FROM reserved_stock WHERE product_id LIKE 'f-%' ORDER BY product_id`;
      expect(rows.map((row) => row.product_id)).toEqual(['f-1', 'f-3']);
    });

    it('runs beforeCommit once per transaction, after the work of its messages, batch or single', async () => {
      const gathered = new Map<string, string[]>();
      const flushed: { transaction: string; ids: string[] }[] = [];
      const inbox = batchingPrismaInbox(prisma, {
        beforeCommit: async (tx) => {
          const transaction = await transactionOf(tx);
          flushed.push({ transaction, ids: gathered.get(transaction) ?? [] });
        },
      });
      const gather = (id: string) => async (tx: TestTx) => {
        const transaction = await transactionOf(tx);
        gathered.set(transaction, [...(gathered.get(transaction) ?? []), id]);
      };
      await Promise.all(['g-1', 'g-2', 'g-3'].map((id) => inbox.runOnce('gather', id, gather(id))));
      await inbox.runOnce('gather', 'g-4', gather('g-4'));
      expect(flushed.map((flush) => flush.ids)).toEqual([['g-1', 'g-2', 'g-3'], ['g-4']]);
    });

    it("runs each message's work in its caller's async context", async () => {
      const inbox = batchingPrismaInbox(prisma);
      const context = new AsyncLocalStorage<string>();
      const seen: [string, string | undefined][] = [];
      await Promise.all(
        ['c-1', 'c-2', 'c-3'].map((id) =>
          context.run(id, () =>
            inbox.runOnce('context', id, async (tx) => {
              await transactionOf(tx);
              seen.push([id, context.getStore()]);
            }),
          ),
        ),
      );
      expect(seen).toEqual([
        ['c-1', 'c-1'],
        ['c-2', 'c-2'],
        ['c-3', 'c-3'],
      ]);
    });
  });
});
