import { eventually } from '@magasin/test-kit';
import amqp from 'amqplib';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Messaging, MessagingError, pgInbox } from '../src/index.ts';
import {
  applyStockReserved,
  type StockService,
  startStockService,
  stockReserved,
} from './stock-projection.ts';

describe('topology and competing consumers', () => {
  let service: StockService;
  const handledBy = new Map<string, number>();

  const replica = async (name: string): Promise<Messaging> => {
    const messaging = await service.connect();
    await messaging.consume<pg.PoolClient>({
      inbox: pgInbox(service.pool),
      prefetch: 5,
      events: {
        StockReserved: async (event, tx) => {
          await applyStockReserved(event, tx);
          handledBy.set(name, (handledBy.get(name) ?? 0) + 1);
        },
      },
    });
    return messaging;
  };

  beforeAll(async () => {
    service = await startStockService('topology');
  });
  afterAll(() => service?.teardown());

  it('declares the same topology again without error and shares the queue between replicas', async () => {
    const first = await replica('a');
    await replica('b');
    await expect(first.consume({ inbox: pgInbox(service.pool), events: {} })).rejects.toBeInstanceOf(
      MessagingError,
    );

    const events = Array.from({ length: 200 }, (_, index) => stockReserved(`p-${index % 10}`, 1));
    await first.publishEvents(events);
    await eventually(
      async () => {
        const { rows } = await service.pool.query<{ n: string }>(
          'SELECT sum(quantity) AS n FROM reserved_stock',
        );
        return rows[0]?.n === '200' ? true : undefined;
      },
      { what: '200 applied' },
    );
    expect((handledBy.get('a') ?? 0) + (handledBy.get('b') ?? 0)).toBe(200);
    expect(handledBy.get('a')).toBeGreaterThan(0);
    expect(handledBy.get('b')).toBeGreaterThan(0);

    const connection = await amqp.connect(service.vhost.url);
    const channel = await connection.createChannel();
    for (const queue of [
      'inventory',
      'inventory.dlq',
      'inventory.dlq.dropped',
      'inventory.retry.500',
      'inventory.retry.4000',
    ]) {
      await channel.checkQueue(queue);
    }
    await connection.close();
  });
});
