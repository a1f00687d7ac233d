import { EXCHANGES, newEventId, routingKeyFor } from '@magasin/events';
import { eventually } from '@magasin/test-kit';
import amqp from 'amqplib';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropParked, listParked, type Messaging, pgInbox, replayParked } from '../src/index.ts';
import {
  applyStockReserved,
  metricValue,
  type StockService,
  startStockService,
  stockReserved,
} from './stock-projection.ts';

describe('consuming with an inbox', () => {
  let service: StockService;
  let messaging: Messaging;
  let failuresLeft = 0;
  let brokenProduct = '';
  let forbiddenProduct = '';

  beforeAll(async () => {
    service = await startStockService('delivery');
    messaging = await service.connect();
    await messaging.consume<pg.PoolClient>({
      inbox: pgInbox(service.pool),
      retry: { maxAttempts: 3, initialDelayMs: 50, factor: 2 },
      events: {
        StockReserved: async (event, tx) => {
          await applyStockReserved(event, tx);
          // Fails after writing: proves the write is rolled back with the failure.
          if (event.data.items.some((item) => item.productId === brokenProduct)) {
            throw new Error(`warehouse ${brokenProduct} offline`);
          }
          if (event.data.items.some((item) => item.productId === forbiddenProduct)) {
            throw Object.assign(new Error(`${forbiddenProduct} is discontinued`), { retryable: false });
          }
          if (failuresLeft > 0) {
            failuresLeft -= 1;
            throw new Error('transient failure');
          }
        },
      },
    });
  });
  afterAll(() => service?.teardown());

  it('applies the same event delivered three times once', async () => {
    const event = stockReserved('p-dup', 3);
    await messaging.publishEvents([event, event]);
    await messaging.publishEvents([event]);
    await eventually(
      async () =>
        (await metricValue(service.registry, 'magasin_messages_consumed_total', {
          type: 'StockReserved',
          outcome: 'duplicate',
        })) === 2
          ? true
          : undefined,
      { what: 'two duplicates' },
    );
    expect(await service.reserved('p-dup')).toBe(3);
    const { rows } = await service.pool.query(
      'SELECT consumer, message_id FROM inbox WHERE message_id = $1',
      [event.eventId],
    );
    expect(rows).toEqual([{ consumer: 'inventory', message_id: event.eventId }]);
  });

  it('retries a failing handler with backoff and applies it once when it recovers', async () => {
    failuresLeft = 2;
    await messaging.publishEvents([stockReserved('p-flaky', 4)]);
    await eventually(async () => ((await service.reserved('p-flaky')) === 4 ? true : undefined), {
      what: 'flaky applied',
    });
    expect(failuresLeft).toBe(0);
    expect(
      await metricValue(service.registry, 'magasin_messages_consumed_total', {
        type: 'StockReserved',
        outcome: 'retried',
      }),
    ).toBeGreaterThanOrEqual(2);
  });

  it('parks a message after maxAttempts with its error, attempts and routing key; replay after the fix applies it once', async () => {
    brokenProduct = 'p-broken';
    const event = stockReserved('p-broken', 5);
    await messaging.publishEvents([event]);
    const [parked] = await eventually(
      async () => {
        const messages = await listParked(service.vhost.url, 'inventory');
        return messages.some((message) => message.messageId === event.eventId) ? messages : undefined;
      },
      { what: 'message parked' },
    );
    expect(parked).toMatchObject({
      messageId: event.eventId,
      type: 'StockReserved',
      exchange: EXCHANGES.events,
      routingKey: 'inventory.StockReserved',
      attempts: 3,
      error: 'Error: warehouse p-broken offline',
    });
    expect(Date.parse(parked?.parkedAt ?? '')).not.toBeNaN();
    expect(await service.reserved('p-broken')).toBe(0);

    brokenProduct = '';
    const replayed = await replayParked(service.vhost.url, 'inventory', { id: event.eventId });
    expect(replayed.map((message) => message.messageId)).toEqual([event.eventId]);
    await eventually(async () => ((await service.reserved('p-broken')) === 5 ? true : undefined), {
      what: 'replay applied',
    });
    expect(await listParked(service.vhost.url, 'inventory')).toEqual([]);
    // A second replay of the same message (e.g. a duplicate) has no effect.
    await messaging.publishEvents([event]);
    await eventually(
      async () =>
        (await metricValue(service.registry, 'magasin_messages_consumed_total', {
          type: 'StockReserved',
          outcome: 'duplicate',
        })) === 3
          ? true
          : undefined,
      { what: 'duplicate counted' },
    );
    expect(await service.reserved('p-broken')).toBe(5);
  });

  it('parks at its first failure a message whose error says no retry can help', async () => {
    forbiddenProduct = 'p-discontinued';
    const event = stockReserved('p-discontinued', 1);
    await messaging.publishEvents([event]);
    const parked = await eventually(
      async () =>
        (await listParked(service.vhost.url, 'inventory')).find(
          (message) => message.messageId === event.eventId,
        ),
      { what: 'message parked' },
    );
    expect(parked).toMatchObject({ attempts: 1, error: 'Error: p-discontinued is discontinued' });
    // Leave the DLQ empty for the tests after this one.
    await dropParked(service.vhost.url, 'inventory', { id: event.eventId }, 'delivery test');
  });

  it('parks malformed messages at once with their reason', async () => {
    const connection = await amqp.connect(service.vhost.url);
    const channel = await connection.createConfirmChannel();
    const invalid = {
      ...stockReserved('p-bad', 1),
      data: { orderId: 'o', items: [{ productId: 'p-bad', quantity: 1.5 }] },
    };
    const notJson = newEventId();
    channel.publish(EXCHANGES.events, routingKeyFor('StockReserved'), Buffer.from(JSON.stringify(invalid)), {
      messageId: invalid.eventId,
      persistent: true,
    });
    channel.publish(EXCHANGES.events, routingKeyFor('StockReserved'), Buffer.from('{not json'), {
      messageId: notJson,
      persistent: true,
    });
    await channel.waitForConfirms();
    await connection.close();

    const parked = await eventually(
      async () => {
        const messages = await listParked(service.vhost.url, 'inventory');
        return messages.length >= 2 ? messages : undefined;
      },
      { what: 'malformed parked' },
    );
    const byId = new Map(parked.map((message) => [message.messageId, message]));
    expect(byId.get(invalid.eventId)).toMatchObject({
      attempts: 0,
      routingKey: 'inventory.StockReserved',
      error: expect.stringMatching(/^malformed: StockReserved v1: items\.0\.quantity: .*expected int/),
    });
    expect(byId.get(notJson)?.error).toMatch(/^malformed: body is not JSON/);
    expect(await service.reserved('p-bad')).toBe(0);
    expect(
      await metricValue(service.registry, 'magasin_messages_consumed_total', {
        type: 'StockReserved',
        outcome: 'parked',
      }),
    ).toBeGreaterThanOrEqual(2);
    expect(await metricValue(service.registry, 'magasin_dlq_depth', { queue: 'inventory.dlq' })).toBe(2);
  });
});
