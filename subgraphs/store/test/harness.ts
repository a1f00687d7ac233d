/**
 * The store subgraph under test: a real event store, PostgreSQL and RabbitMQ (own database and
 * vhost per test file), the store started with port 0 and talked to over signed HTTP GraphQL as
 * the gateway would. Payment, inventory and the saga orchestrator are played by the test: it
 * appends their events to the event store and sends their commands on the bus.
 */
import type { RecordedEvent } from '@magasin/event-store/client';
import { newEventId } from '@magasin/events';
import { connectMessaging, type Messaging } from '@magasin/messaging';
import type { Identity } from '@magasin/service-kit';
import type { RunningSubgraph } from '@magasin/subgraph-kit';
import {
  type GraphQLAnswer,
  graphqlClient,
  startTestBackbone,
  type TestBackbone,
} from '@magasin/subgraph-kit/testing';
import { eventually } from '@magasin/test-kit';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { expect } from 'vitest';
import { loadStoreConfig, type StoreConfig } from '../src/config.ts';
import { orderStream } from '../src/domain/order-id.ts';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { runStore } from '../src/service.ts';

export const alice: Identity = { sub: 'alice', roles: ['customer'] };
export const bob: Identity = { sub: 'bob', roles: ['customer'] };
export const ada: Identity = { sub: 'ada', roles: ['admin'] };

/** Products of the catalog every harness starts with. */
export const MUG = 'c0ffee00-0000-4000-8000-000000000001';
export const TEA = 'c0ffee00-0000-4000-8000-000000000002';
export const MUG_PRICE = 1_250;
export const TEA_PRICE = 480;
export const UNKNOWN_ORDER = '0195a6c0-0000-7000-8000-00000000dead';

const ORDER_FIELDS = `id customerId totalCents currency status cancellationReason placedAt
  lines { product { id } quantity unitPriceCents }`;
export const PLACE_ORDER = `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { order { ${ORDER_FIELDS} } } }`;
export const CANCEL_ORDER = `mutation ($orderId: ID!) { cancelOrder(orderId: $orderId) { ${ORDER_FIELDS} } }`;
export const ORDER = `query ($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`;
export const ORDERS = `{ orders { id customerId status } }`;

/** An order as the tests select it. */
export interface OrderData {
  id: string;
  customerId: string;
  totalCents: number;
  currency: string;
  status: string;
  cancellationReason: string | null;
  placedAt: string;
  lines: { product: { id: string }; quantity: number; unitPriceCents: number }[];
}

/** The first error code of an answer. */
export const codeOf = (answer: GraphQLAnswer<unknown>) => answer.errors?.[0]?.extensions?.code;

/** A running store with its backbone, and what the tests do with it. */
export interface StoreHarness {
  backbone: TestBackbone;
  config: StoreConfig;
  registry: Registry;
  running: RunningSubgraph<PrismaClient>;
  /** A bus connection playing the saga orchestrator (sends commands). */
  saga: Messaging;
  /** A GraphQL client signed as the gateway, for `identity` (none: anonymous). */
  as(identity?: Identity): ReturnType<typeof graphqlClient>;
  /** Places an order that must succeed (default: one mug, tok_visa); returns it. */
  placeOrder(
    identity: Identity,
    input?: {
      lines?: { productId: string; quantity: number }[];
      paymentToken?: string;
      idempotencyKey?: string;
    },
  ): Promise<OrderData>;
  /** Waits until the read model has applied every event of the order's stream. */
  projected(orderId: string): Promise<void>;
  /** Query.order as `identity`. */
  readOrder(identity: Identity, id: string): Promise<GraphQLAnswer<{ order: OrderData | null }>>;
  /** Waits until the order reads (as an admin) with `status`, then returns it. */
  orderWithStatus(id: string, status: string): Promise<OrderData>;
  /** Types of the events of the order's stream, in order. */
  typesIn(orderId: string): Promise<string[]>;
  /** Appends an event as another service would (its own stream, correlation = the order). */
  appendAsPeer(
    streamId: string,
    type: string,
    data: Record<string, unknown> & { orderId: string },
  ): Promise<RecordedEvent>;
  /** Waits until the store's consumer has handled (and recorded in its inbox) the message `id`. */
  handled(id: string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the backbone and the store, and publishes the catalog (MUG, TEA) as inventory would. */
export const startStoreHarness = async (label: string): Promise<StoreHarness> => {
  const backbone = await startTestBackbone(label);
  const config = { ...loadStoreConfig(backbone.env('store', 'STORE_PORT')), port: 0 };
  const registry = new Registry();
  const running = await runStore({
    config,
    logger: pino({ level: 'silent' }),
    registry,
    handleSignals: false,
  });
  const saga = await connectMessaging({
    url: backbone.rabbitmqUrl,
    service: 'test-saga',
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
  });
  const product = (productId: string, sku: string, name: string, priceCents: number) => ({
    eventId: newEventId(),
    type: 'ProductCreated',
    data: { productId, sku, name, priceCents, initialStock: 10 },
    correlationId: productId,
    actor: 'ada',
  });
  const created = await backbone.eventStore.append('inventory', 'any', [
    product(MUG, 'MUG-1', 'Mug', MUG_PRICE),
    product(TEA, 'TEA-1', 'Tea', TEA_PRICE),
  ]);
  await running.deps.projector.waitForPosition(created.position);

  const as = (identity?: Identity) => graphqlClient(running.url, identity ? { identity } : {});
  const readOrder = (identity: Identity, id: string) =>
    as(identity)<{ order: OrderData | null }>(ORDER, { id });
  return {
    backbone,
    config,
    registry,
    running,
    saga,
    as,
    placeOrder: async (identity, input = {}) => {
      const answer = await as(identity)<{ placeOrder: { order: OrderData } }>(PLACE_ORDER, {
        input: { lines: [{ productId: MUG, quantity: 1 }], paymentToken: 'tok_visa', ...input },
      });
      expect(answer.errors).toBeUndefined();
      const order = answer.data?.placeOrder.order;
      if (!order) throw new Error(`placeOrder answered ${JSON.stringify(answer)}`);
      return order;
    },
    projected: async (orderId) => {
      const { events } = await backbone.eventStore.readStream(orderStream(orderId));
      const last = events.at(-1);
      if (last) await running.deps.projector.waitForPosition(last.position);
    },
    readOrder,
    orderWithStatus: (id, status) =>
      eventually(
        async () => {
          const order = (await readOrder(ada, id)).data?.order;
          return order?.status === status ? order : undefined;
        },
        { what: `order ${id} ${status}` },
      ),
    typesIn: async (orderId) =>
      (await backbone.eventStore.readStream(orderStream(orderId))).events.map((event) => event.type),
    appendAsPeer: async (streamId, type, data) => {
      const result = await backbone.eventStore.append(streamId, 'any', [
        { eventId: newEventId(), type, data, correlationId: data.orderId, actor: 'service:test-peer' },
      ]);
      const [event] = result.events;
      if (!event) throw new Error('nothing appended');
      return event;
    },
    handled: async (id) => {
      await eventually(
        async () => {
          const rows = await running.deps.prisma.$queryRaw<
            { n: bigint }[]
          >`SELECT count(*) AS n FROM inbox WHERE message_id = ${id}`;
          return rows[0]?.n === 1n ? true : undefined;
        },
        { what: `message ${id} handled` },
      );
    },
    stop: async () => {
      await saga.close();
      await running.stop();
      await backbone.stop();
    },
  };
};
