/** Starts the inventory on a real event store, PostgreSQL and RabbitMQ, and speaks for its peers. */
import type { RecordedEvent } from '@magasin/event-store/client';
import { type EventDataOf, newEventId } from '@magasin/events';
import type { Identity } from '@magasin/service-kit';
import type { RunningSubgraph } from '@magasin/subgraph-kit';
import { graphqlClient, startTestBackbone, type TestBackbone } from '@magasin/subgraph-kit/testing';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { loadInventoryConfig } from '../src/config.ts';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { INVENTORY_STREAM } from '../src/inventory-stream.ts';
import { runInventory } from '../src/service.ts';

export const admin: Identity = { sub: 'ada', roles: ['admin'] };
export const customer: Identity = { sub: 'bob', roles: ['customer'] };

/** A running inventory and what it runs on. */
export interface InventoryUnderTest {
  backbone: TestBackbone;
  service: RunningSubgraph<PrismaClient>;
  registry: Registry;
  /** Signed GraphQL as the gateway would send it, for `identity` (anonymous without). */
  graphql: (identity?: Identity) => ReturnType<typeof graphqlClient>;
  /** Waits until the read model has applied the whole log. */
  caughtUp(): Promise<void>;
  /** Every event of the inventory stream. */
  inventoryEvents(): Promise<RecordedEvent[]>;
  stop(): Promise<void>;
}

export const startInventory = async (label: string): Promise<InventoryUnderTest> => {
  const backbone = await startTestBackbone(label);
  const registry = new Registry();
  const config = loadInventoryConfig(backbone.env('inventory', 'INVENTORY_PORT'));
  const service = await runInventory({
    config: { ...config, port: 0 },
    logger: pino({ level: process.env.MAGASIN_TEST_LOG_LEVEL ?? 'silent' }),
    registry,
    handleSignals: false,
  });
  const head = async () => {
    let position = 0;
    for (;;) {
      const page = await backbone.eventStore.readAll(position, { limit: 1_000 });
      position = page.nextPosition;
      if (!page.hasMore) return position;
    }
  };
  return {
    backbone,
    service,
    registry,
    graphql: (identity) => graphqlClient(service.url, identity ? { identity } : {}),
    caughtUp: async () => service.deps.projector.waitForPosition(await head(), 20_000),
    inventoryEvents: async () => (await backbone.eventStore.readStream(INVENTORY_STREAM)).events,
    stop: async () => {
      await service.stop();
      await backbone.stop();
    },
  };
};

/** Appends an order's OrderPlaced to its stream, as the store does; returns the event. */
export const placeOrder = async (
  backbone: TestBackbone,
  lines: { productId: string; quantity: number }[],
  orderId: string = newEventId(),
  /** Later events of the order appended in the same (atomic) append, e.g. its OrderCancelled. */
  then: { type: 'OrderCancelled'; data: EventDataOf<'OrderCancelled'> }[] = [],
): Promise<RecordedEvent> => {
  const data: EventDataOf<'OrderPlaced'> = {
    orderId,
    customerId: 'bob',
    lines: lines.map((line) => ({ ...line, unitPriceCents: 100 })),
    totalCents: lines.reduce((sum, line) => sum + line.quantity * 100, 0),
    currency: 'EUR',
    paymentToken: 'tok_visa',
    placedAt: new Date().toISOString(),
  };
  const { events } = await backbone.eventStore.append(`order-${orderId}`, 'any', [
    { eventId: newEventId(), type: 'OrderPlaced', data, correlationId: orderId, actor: 'bob' },
    ...then.map((event) => ({ eventId: newEventId(), ...event, correlationId: orderId, actor: 'bob' })),
  ]);
  return events[0] as RecordedEvent;
};

/** Appends an event of the store or payment about an order to the order's stream. */
export const orderEvent = async <T extends 'OrderConfirmed' | 'OrderCancelled' | 'PaymentDeclined'>(
  backbone: TestBackbone,
  type: T,
  data: EventDataOf<T>,
): Promise<void> => {
  const stream = type === 'PaymentDeclined' ? `payment-${data.orderId}` : `order-${data.orderId}`;
  await backbone.eventStore.append(stream, 'any', [
    { eventId: newEventId(), type, data, correlationId: data.orderId, actor: 'service:test' },
  ]);
};

/** The order ids of the inventory's decisions of `type`. */
export const decided = (events: RecordedEvent[], type: string): string[] =>
  events.filter((event) => event.type === type).map((event) => (event.data as { orderId: string }).orderId);
