/**
 * The payment subgraph on a real event store, RabbitMQ vhost and PostgreSQL database, with
 * helpers that append what the other services would (OrderPlaced, StockReserved,
 * OrderCancelled) and read what payment decided.
 */
import { Writable } from 'node:stream';
import type { RecordedEvent } from '@magasin/event-store/client';
import { type EventDataOf, newEventId } from '@magasin/events';
import { connectMessaging, type Messaging } from '@magasin/messaging';
import type { Identity } from '@magasin/service-kit';
import type { RunningSubgraph } from '@magasin/subgraph-kit';
import { graphqlClient, startTestBackbone, type TestBackbone } from '@magasin/subgraph-kit/testing';
import { eventually } from '@magasin/test-kit';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { type CardProcessor, simulatedCardProcessor } from '../src/card-processor.ts';
import { loadPaymentConfig, type PaymentConfig } from '../src/config.ts';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { runPayment } from '../src/service.ts';

export const admin: Identity = { sub: 'admin-1', roles: ['admin'] };
export const customer = (sub: string): Identity => ({ sub, roles: ['customer'] });

/** A running payment subgraph and what the tests drive it with. */
export interface PaymentFixture {
  backbone: TestBackbone;
  config: PaymentConfig;
  running: RunningSubgraph<PrismaClient>;
  registry: Registry;
  /** Every log line the service wrote (level debug and above), as JSON text. */
  logs: string[];
  /** Every SQL statement the service's Prisma client sent, in order. */
  queries: string[];
  /** A publisher on the test's vhost, to deliver messages again. */
  bus: Messaging;
  graphql(identity?: Identity): ReturnType<typeof graphqlClient>;
  /** Appends OrderPlaced (v2) to `order-<orderId>` as the store would. */
  placeOrder(options: { customerId: string; paymentToken: string; totalCents?: number }): Promise<string>;
  /** Appends StockReserved to `inventory` as inventory would; returns the recorded event. */
  reserveStock(orderId: string): Promise<RecordedEvent>;
  /** Appends OrderCancelled to `order-<orderId>`. */
  cancelOrder(orderId: string): Promise<RecordedEvent>;
  /** Events of `payment-<orderId>`. */
  paymentEvents(orderId: string): Promise<RecordedEvent[]>;
  /** Waits until `payment-<orderId>` holds an event of `type`, and the read model has applied it. */
  waitForPaymentEvent(orderId: string, type: string): Promise<RecordedEvent>;
  /** Waits until the read model has applied the whole log as it is now. */
  caughtUp(): Promise<void>;
  /**
   * Holds the processor's answer to the charge of `orderId` until `release()`; `entered`
   * resolves once the charge reached the processor.
   */
  holdCharge(orderId: string): { entered: Promise<void>; release(): void };
  /** Deliveries of `type` the consumer finished (applied or recognised as duplicates). */
  handled(type: string): Promise<number>;
  /** Waits until the consumer finished `count` deliveries of `type`. */
  waitForHandled(type: string, count: number): Promise<void>;
  stop(): Promise<void>;
}

const logSink = (lines: string[]) =>
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });

/** Starts the backbone and the payment subgraph (port 0). */
export const startPayment = async (
  label: string,
  overrides: Partial<Pick<PaymentConfig, 'PAYMENT_PROCESSOR_TIMEOUT_MS'>> = {},
): Promise<PaymentFixture> => {
  const backbone = await startTestBackbone(label);
  const config = { ...loadPaymentConfig(backbone.env('payment', 'PAYMENT_PORT')), port: 0, ...overrides };
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, logSink(logs));
  const registry = new Registry();
  const queries: string[] = [];
  // The simulated processor, with charges of chosen orders held until a test releases them.
  const simulated = simulatedCardProcessor();
  const held = new Map<string, { entered: () => void; released: Promise<void> }>();
  const processor: CardProcessor = {
    charge: async (request) => {
      const hold = [...held].find(([orderId]) => request.idempotencyKey.includes(orderId))?.[1];
      if (hold) {
        hold.entered();
        await hold.released;
      }
      return simulated.charge(request);
    },
    refund: (request) => simulated.refund(request),
  };
  const running = await runPayment({
    config,
    logger,
    registry,
    handleSignals: false,
    processor,
    onQuery: (sql) => queries.push(sql),
  });
  const bus = await connectMessaging({
    url: backbone.rabbitmqUrl,
    service: 'payment-test',
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
  });
  const { eventStore } = backbone;

  const paymentEvents = async (orderId: string) => (await eventStore.readStream(`payment-${orderId}`)).events;

  const handled = async (type: string) => {
    const metric = await registry.getSingleMetric('magasin_messages_consumed_total')?.get();
    return (metric?.values ?? [])
      .filter(
        (value) => value.labels.type === type && ['ok', 'duplicate'].includes(String(value.labels.outcome)),
      )
      .reduce((sum, value) => sum + value.value, 0);
  };

  return {
    backbone,
    config,
    running,
    registry,
    logs,
    queries,
    bus,
    graphql: (identity) => graphqlClient(running.url, { ...(identity ? { identity } : {}) }),
    placeOrder: async ({ customerId, paymentToken, totalCents = 4200 }) => {
      const orderId = newEventId();
      const data: EventDataOf<'OrderPlaced'> = {
        orderId,
        customerId,
        lines: [{ productId: 'product-1', quantity: 2, unitPriceCents: totalCents / 2 }],
        totalCents,
        currency: 'EUR',
        paymentToken,
        placedAt: new Date().toISOString(),
      };
      await eventStore.append(`order-${orderId}`, 'no_stream', [
        { eventId: newEventId(), type: 'OrderPlaced', data, correlationId: orderId, actor: customerId },
      ]);
      return orderId;
    },
    reserveStock: async (orderId) => {
      const result = await eventStore.append('inventory', 'any', [
        {
          eventId: newEventId(),
          type: 'StockReserved',
          data: { orderId, items: [{ productId: 'product-1', quantity: 2 }] },
          correlationId: orderId,
          actor: 'service:inventory',
        },
      ]);
      const [event] = result.events;
      if (!event) throw new Error('the event store recorded no StockReserved');
      return event;
    },
    cancelOrder: async (orderId) => {
      const result = await eventStore.append(`order-${orderId}`, 'any', [
        {
          eventId: newEventId(),
          type: 'OrderCancelled',
          data: { orderId, reason: 'CUSTOMER_REQUEST' },
          correlationId: orderId,
          actor: 'service:store',
        },
      ]);
      const [event] = result.events;
      if (!event) throw new Error('the event store recorded no OrderCancelled');
      return event;
    },
    paymentEvents,
    waitForPaymentEvent: async (orderId, type) => {
      const event = await eventually(
        async () => (await paymentEvents(orderId)).find((candidate) => candidate.type === type),
        { what: `${type} in payment-${orderId}`, timeoutMs: 15_000 },
      );
      await running.deps.projector.waitForPosition(event.position);
      return event;
    },
    holdCharge: (orderId) => {
      let entered = () => {};
      let release = () => {};
      const enteredPromise = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      held.set(orderId, { entered, released });
      return { entered: enteredPromise, release };
    },
    caughtUp: async () => {
      let head = 0;
      for (
        let page = await eventStore.readAll(0, { limit: 1_000 });
        ;
        page = await eventStore.readAll(head, { limit: 1_000 })
      ) {
        head = page.events.at(-1)?.position ?? head;
        if (!page.hasMore) break;
      }
      await running.deps.projector.waitForPosition(head);
    },
    handled,
    waitForHandled: async (type, count) => {
      await eventually(async () => ((await handled(type)) >= count ? true : undefined), {
        what: `${count} ${type} deliveries handled`,
        timeoutMs: 15_000,
      });
    },
    stop: async () => {
      await bus.close();
      await running.stop();
      await backbone.stop();
    },
  };
};
