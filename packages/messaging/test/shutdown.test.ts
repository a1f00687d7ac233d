import { eventually } from '@magasin/test-kit';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgInbox } from '../src/index.ts';
import {
  applyStockReserved,
  type StockService,
  startStockService,
  stockReserved,
} from './stock-projection.ts';

describe('graceful close', () => {
  let service: StockService;
  beforeAll(async () => {
    service = await startStockService('shutdown');
  });
  afterAll(() => service?.teardown());

  it('stops taking messages, finishes the handler in flight, then closes', async () => {
    const messaging = await service.connect();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = 0;
    await messaging.consume<pg.PoolClient>({
      inbox: pgInbox(service.pool),
      prefetch: 1,
      events: {
        StockReserved: async (event, tx) => {
          started += 1;
          await gate;
          await applyStockReserved(event, tx);
        },
      },
    });
    await messaging.publishEvents([stockReserved('p-slow', 1), stockReserved('p-next', 1)]);
    await eventually(() => (started === 1 ? true : undefined), { what: 'handler started' });

    const closing = messaging.close();
    expect(messaging.isConnected()).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    await closing;
    expect(started).toBe(1);
    expect(await service.reserved('p-slow')).toBe(1);
    await expect(messaging.publishEvents([stockReserved('p-x', 1)])).rejects.toMatchObject({
      code: 'CLOSED',
    });

    // The message not yet handled waits in the queue for the next instance.
    const next = await service.connect();
    await next.consume<pg.PoolClient>({
      inbox: pgInbox(service.pool),
      events: { StockReserved: applyStockReserved },
    });
    await eventually(async () => ((await service.reserved('p-next')) === 1 ? true : undefined), {
      what: 'next applied',
    });
  });
});
