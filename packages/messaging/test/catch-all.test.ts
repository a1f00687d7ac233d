/**
 * A consumer of every event (`anyEvent`): its queue is bound to `#`, so events of every type
 * reach it, each once (the inbox), while a type with its own handler still goes to that handler.
 */
import { type DomainEvent, newEventId } from '@magasin/events';
import { eventually } from '@magasin/test-kit';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Messaging, pgInbox } from '../src/index.ts';
import { metricValue, type StockService, startStockService, stockReserved } from './stock-projection.ts';

describe('a consumer of every event', () => {
  let service: StockService;
  let messaging: Messaging;
  const recorded: string[] = [];
  const reservedByOwnHandler: string[] = [];

  beforeAll(async () => {
    service = await startStockService('catch_all');
    messaging = await service.connect({ service: 'recorder' });
    await messaging.consume<pg.PoolClient>({
      inbox: pgInbox(service.pool),
      events: {
        StockReserved: async (event) => {
          reservedByOwnHandler.push(event.eventId);
        },
      },
      anyEvent: async (event: DomainEvent) => {
        recorded.push(`${event.type}:${event.eventId}`);
      },
    });
  });
  afterAll(() => service?.teardown());

  it('receives events of every type, each once, with no handler named for them', async () => {
    const orderId = newEventId();
    const confirmed: DomainEvent = {
      eventId: newEventId(),
      type: 'OrderConfirmed',
      streamId: `order-${orderId}`,
      version: 2,
      position: 7,
      occurredAt: new Date().toISOString(),
      correlationId: orderId,
      causationId: null,
      actor: 'service:store',
      traceparent: null,
      schemaVersion: 1,
      data: { orderId, paymentId: newEventId(), totalCents: 1_200 },
    };
    const sale: DomainEvent = {
      ...confirmed,
      eventId: newEventId(),
      type: 'SaleRecorded',
      streamId: `ledger-${orderId}`,
      version: 1,
      schemaVersion: 1,
      data: { saleId: newEventId(), orderId, customerId: 'alice', amountCents: 1_200 },
    };
    await messaging.publishEvents([confirmed, sale, confirmed]);
    await eventually(
      async () =>
        (await metricValue(service.registry, 'magasin_messages_consumed_total', {
          type: 'OrderConfirmed',
          outcome: 'duplicate',
        })) === 1
          ? true
          : undefined,
      { what: 'the second OrderConfirmed seen as a duplicate' },
    );
    await eventually(async () => (recorded.length >= 2 ? true : undefined), { what: 'two events recorded' });
    expect(recorded.sort()).toEqual(
      [`OrderConfirmed:${confirmed.eventId}`, `SaleRecorded:${sale.eventId}`].sort(),
    );
  });

  it('gives an event with its own handler to that handler, not to the catch-all', async () => {
    const event = stockReserved('p-own', 2);
    await messaging.publishEvents([event]);
    await eventually(async () => (reservedByOwnHandler.includes(event.eventId) ? true : undefined), {
      what: 'StockReserved handled by its own handler',
    });
    expect(recorded.some((entry) => entry.endsWith(event.eventId))).toBe(false);
  });
});
