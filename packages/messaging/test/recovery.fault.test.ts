import { bounceRabbitmq, eventually, rabbitmqctl } from '@magasin/test-kit';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Messaging, MessagingError, pgInbox } from '../src/index.ts';
import {
  applyStockReserved,
  type StockService,
  startStockService,
  stockReserved,
} from './stock-projection.ts';

describe('RabbitMQ restarted while messages flow', () => {
  let service: StockService;
  let consumerSide: Messaging;
  let publisherSide: Messaging;

  beforeAll(async () => {
    service = await startStockService('recovery');
    consumerSide = await service.connect({ heartbeatSeconds: 2 });
    publisherSide = await service.connect({
      service: 'store',
      heartbeatSeconds: 2,
      publishTimeoutMs: 30_000,
    });
    await consumerSide.consume<pg.PoolClient>({
      inbox: pgInbox(service.pool),
      prefetch: 50,
      events: { StockReserved: (event, tx) => applyStockReserved(event, tx) },
    });
  });
  afterAll(async () => {
    await rabbitmqctl('start_app').catch(() => undefined);
    await service?.teardown();
  });

  it('resumes consuming and loses nothing; publications wait for the broker and succeed', async () => {
    const total = 1500;
    const events = Array.from({ length: total }, (_, index) => stockReserved(`p-${index}`, 1));
    const failures: unknown[] = [];
    const publishing = (async () => {
      for (let start = 0; start < total; start += 25) {
        const batch = events.slice(start, start + 25);
        await publisherSide.publishEvents(batch).catch((error: unknown) => failures.push(error));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await eventually(async () => ((await service.reserved('p-100')) === 1 ? true : undefined), {
      what: 'flow started',
    });
    await bounceRabbitmq(1_500);
    await publishing;

    // Every batch either was confirmed (resent after recovery if needed) or was rejected clearly.
    expect(
      failures.every((error) => error instanceof MessagingError && error.code === 'PUBLISH_TIMEOUT'),
    ).toBe(true);
    expect(failures).toEqual([]);
    await eventually(
      async () => {
        const { rows } = await service.pool.query<{ n: string }>('SELECT count(*) AS n FROM reserved_stock');
        return Number(rows[0]?.n) === total ? true : undefined;
      },
      { timeoutMs: 30_000, what: `all ${total} events applied` },
    );
    const { rows } = await service.pool.query<{ n: string; total: string }>(
      'SELECT count(DISTINCT message_id) AS n, (SELECT sum(quantity) FROM reserved_stock) AS total FROM inbox',
    );
    expect(rows[0]).toEqual({ n: String(total), total: String(total) });
    await eventually(() => (consumerSide.isConnected() && publisherSide.isConnected() ? true : undefined), {
      what: 'both sides connected',
    });
  });

  it('rejects a publication clearly when the broker stays away longer than publishTimeoutMs', async () => {
    const impatient = await service.connect({ service: 'store', heartbeatSeconds: 2, publishTimeoutMs: 800 });
    await rabbitmqctl('stop_app');
    try {
      await eventually(() => (impatient.isConnected() ? undefined : true), {
        what: 'connection loss noticed',
      });
      const started = Date.now();
      const error = await impatient
        .publishEvents([stockReserved('p-late', 1)])
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({
        code: 'PUBLISH_TIMEOUT',
        message: expect.stringContaining('RabbitMQ unreachable'),
      });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await rabbitmqctl('start_app');
      await rabbitmqctl('await_startup');
    }
    await eventually(() => (impatient.isConnected() ? true : undefined), {
      timeoutMs: 20_000,
      what: 'reconnected',
    });
    await impatient.publishEvents([stockReserved('p-late', 1)]);
    await eventually(async () => ((await service.reserved('p-late')) === 1 ? true : undefined), {
      what: 'late applied',
    });
  });
});
