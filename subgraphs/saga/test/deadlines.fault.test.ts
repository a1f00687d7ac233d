/**
 * Durable deadlines under `kill -9`: the saga service runs as child processes (`node --import
 * tsx src/main.ts`, the service's own entry point), is killed while its sagas wait on their
 * deadlines (in the middle of projecting them), and comes back as two replicas, one of which is
 * killed again while deadlines fire. Every deadline fires exactly once: one SagaTimedOut per
 * saga, one set of compensating commands.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { newEventId } from '@magasin/events';
import { startTestBackbone, type TestBackbone } from '@magasin/subgraph-kit/testing';
import { eventually } from '@magasin/test-kit';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CommandLog,
  ITEMS,
  LINES,
  recordCommands,
  recorded,
  TOTAL_CENTS,
  withDeadlinesHeld,
} from './fixture.ts';

const SAGA_DIRECTORY = fileURLToPath(new URL('..', import.meta.url));
const STEP_TIMEOUT_MS = 3_000;
const SAGAS = 20;

let backbone: TestBackbone;
let commands: CommandLog;
let closeCommands: () => Promise<void>;
let database: pg.Client;
const children = new Set<ChildProcess>();

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });

/** Starts the service as a child process and waits until it is ready. */
const startService = async (): Promise<ChildProcess> => {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: SAGA_DIRECTORY,
    env: {
      ...process.env,
      ...backbone.env('saga', 'SAGA_PORT'),
      SAGA_PORT: String(port),
      SAGA_STEP_TIMEOUT_MS: String(STEP_TIMEOUT_MS),
      SAGA_DEADLINE_POLL_MS: '100',
      LOG_LEVEL: process.env.MAGASIN_TEST_LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`saga service exited with ${child.exitCode}`);
      const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      return response?.ok ? true : undefined;
    },
    { what: 'saga service ready', timeoutMs: 30_000, intervalMs: 200 },
  );
  return child;
};

const kill9 = async (child: ChildProcess) => {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
};

const count = async (sql: string): Promise<number> => Number((await database.query(sql)).rows[0]?.count ?? 0);

beforeAll(async () => {
  backbone = await startTestBackbone('saga_fault');
  const recorder = await recordCommands(backbone.rabbitmqUrl);
  commands = recorder.log;
  closeCommands = () => recorder.connection.close();
  database = new pg.Client({ connectionString: backbone.serviceDatabase.url });
  await database.connect();
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await database?.end();
  await closeCommands?.();
  await backbone?.stop();
});

describe('deadlines survive kill -9', () => {
  it('fires every deadline exactly once after the service is killed and restarted as two replicas', async () => {
    const first = await startService();
    const orders = Array.from({ length: SAGAS }, () => uuidv7());
    // Set up with the deadlines held (see withDeadlinesHeld), so that none can fire before the
    // kill, however slowly a loaded machine relays the events: every saga records its
    // reservation and waits for its payment, and the service dies with all of them waiting.
    await withDeadlinesHeld(backbone.serviceDatabase.url, async () => {
      for (const orderId of orders) {
        await backbone.eventStore.append(`order-${orderId}`, 'no_stream', [
          {
            eventId: newEventId(),
            type: 'OrderPlaced',
            data: {
              orderId,
              customerId: 'alice',
              lines: LINES,
              totalCents: TOTAL_CENTS,
              currency: 'EUR',
              paymentToken: 'tok_timeout',
              placedAt: new Date().toISOString(),
            },
            correlationId: orderId,
            actor: 'alice',
          },
        ]);
        await backbone.eventStore.append('inventory', 'any', [
          {
            eventId: newEventId(),
            type: 'StockReserved',
            data: { orderId, items: ITEMS },
            correlationId: orderId,
            actor: 'service:inventory',
          },
        ]);
      }
      // Every saga waits for its payment, on a deadline recorded on its stream (the projection
      // stores it in saga_deadlines, and a restarted replica's projection stores it again).
      for (const orderId of orders) {
        await eventually(
          async () => {
            const { events } = await backbone.eventStore.readStream(`saga-${orderId}`);
            const waiting = events.at(-1)?.data as { awaiting?: string } | undefined;
            return recorded(events, 'StockReserved') && waiting?.awaiting === 'PaymentCaptured'
              ? true
              : undefined;
          },
          { what: `saga ${orderId} waiting for PaymentCaptured`, timeoutMs: 30_000, intervalMs: 100 },
        );
      }
      await kill9(first);
    });
    for (const orderId of orders) {
      const { events } = await backbone.eventStore.readStream(`saga-${orderId}`);
      expect(events.map((event) => event.type)).toEqual(['SagaStarted', 'SagaStepCompleted']);
    }
    expect(await count(`SELECT count(*) FROM sagas WHERE status = 'TIMED_OUT'`)).toBe(0);

    // Down past every deadline, then back as two replicas racing for the due deadlines.
    await new Promise((resolve) => setTimeout(resolve, STEP_TIMEOUT_MS + 500));
    const [second, third] = await Promise.all([startService(), startService()]);
    // Killed again as soon as deadlines start firing: the other replica finishes the work.
    await eventually(
      async () =>
        (await count(`SELECT count(*) FROM sagas WHERE status = 'TIMED_OUT'`)) > 0 ? true : undefined,
      { what: 'a first timeout', timeoutMs: 20_000, intervalMs: 10 },
    );
    await kill9(second as ChildProcess);
    await eventually(
      async () =>
        (await count(`SELECT count(*) FROM sagas WHERE status = 'TIMED_OUT'`)) === SAGAS ? true : undefined,
      { what: `${SAGAS} sagas TIMED_OUT`, timeoutMs: 30_000 },
    );
    for (const orderId of orders) await commands.waitFor(orderId, undefined, 3);
    // A few more looks of the surviving timer: nothing fires a second time.
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    for (const orderId of orders) {
      const { events } = await backbone.eventStore.readStream(`saga-${orderId}`);
      expect(events.filter((event) => event.type === 'SagaTimedOut')).toHaveLength(1);
      expect(events.filter((event) => event.type === 'SagaCompleted')).toHaveLength(1);
      const sent = commands.received.filter(
        (command) => (command.payload as { orderId: string }).orderId === orderId,
      );
      // At least once on the bus (a resend after a kill keeps its id), exactly once in effect.
      expect([...new Map(sent.map((command) => [command.commandId, command.type])).values()].sort()).toEqual([
        'CancelOrder',
        'RefundPayment',
        'ReleaseStock',
      ]);
    }
    expect(await count('SELECT count(*) FROM saga_deadlines')).toBe(0);
    await kill9(third as ChildProcess);
  });
});
