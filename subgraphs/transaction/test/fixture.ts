/**
 * A running transaction service for one test file: its own event store, database and RabbitMQ
 * vhost (kit backbone), plus what the store and the return saga would do to it: append
 * OrderPlaced + OrderConfirmed to `order-<orderId>`, and send RecordRefund on the bus.
 */
import type { RecordedEvent } from '@magasin/event-store/client';
import { type CommandPayloadOf, type EventDataOf, type EventType, newEventId } from '@magasin/events';
import { connectMessaging, type Messaging, newCommand } from '@magasin/messaging';
import type { Identity } from '@magasin/service-kit';
import type { RunningSubgraph } from '@magasin/subgraph-kit';
import { graphqlClient, startTestBackbone, type TestBackbone } from '@magasin/subgraph-kit/testing';
import { eventually } from '@magasin/test-kit';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { loadTransactionConfig } from '../src/config.ts';
import { ledgerStreamId } from '../src/domain/ledger.ts';
import type { LedgerPrisma } from '../src/projections/ledger.ts';
import { runTransaction } from '../src/service.ts';

export const ADMIN: Identity = { sub: 'root', roles: ['admin'] };
export const ALICE: Identity = { sub: 'alice', roles: ['customer'] };

/** One line of an order to place. */
export type Line = EventDataOf<'OrderPlaced'>['lines'][number];

export interface TransactionFixture {
  backbone: TestBackbone;
  service: RunningSubgraph<LedgerPrisma>;
  databaseUrl: string;
  /** The test's own connection to the vhost (sends commands, republishes events). */
  bus: Messaging;
  /** GraphQL as `identity` (none: no end user). */
  graphql(identity?: Identity): ReturnType<typeof graphqlClient>;
  /** Appends OrderPlaced then OrderConfirmed to `order-<orderId>`, as the store does; returns them. */
  confirmOrder(customerId: string, lines: Line[]): Promise<{ orderId: string; confirmed: RecordedEvent }>;
  /** Sends RecordRefund on magasin.commands, as the return saga does. */
  sendRecordRefund(payload: CommandPayloadOf<'RecordRefund'>): Promise<void>;
  /** The events of an order's ledger stream of one type, once `count` of them exist. */
  ledgerEvents(orderId: string, type: EventType, count?: number): Promise<RecordedEvent[]>;
  /** Waits until the read model has applied every event of the log so far. */
  caughtUp(): Promise<number>;
  stop(): Promise<void>;
}

const total = (lines: Line[]) => lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);

export const startTransactionFixture = async (label: string): Promise<TransactionFixture> => {
  const backbone = await startTestBackbone(label);
  const config = loadTransactionConfig(backbone.env('transaction', 'TRANSACTION_PORT'));
  const logger = pino({ level: process.env.MAGASIN_TEST_LOG_LEVEL ?? 'silent' });
  let service: RunningSubgraph<LedgerPrisma> | undefined;
  try {
    service = await runTransaction({
      config: { ...config, port: 0 },
      logger,
      registry: new Registry(),
      handleSignals: false,
    });
    const running = service;
    const bus = await connectMessaging({
      url: backbone.rabbitmqUrl,
      service: 'transaction-test',
      logger,
      registry: new Registry(),
    });
    const { eventStore } = backbone;

    const ledgerEvents = (orderId: string, type: EventType, count = 1) =>
      eventually(
        async () => {
          const { events } = await eventStore.readStream(ledgerStreamId(orderId));
          const found = events.filter((event) => event.type === type);
          return found.length >= count ? found : undefined;
        },
        { what: `${count} ${type} on ${ledgerStreamId(orderId)}` },
      );

    return {
      backbone,
      service: running,
      databaseUrl: config.databaseUrl,
      bus,
      graphql: (identity) => graphqlClient(running.url, identity ? { identity } : {}),
      confirmOrder: async (customerId, lines) => {
        const orderId = newEventId();
        const totalCents = total(lines);
        const metadata = { correlationId: orderId, actor: 'service:store' };
        const placed = await eventStore.append(`order-${orderId}`, 'no_stream', [
          {
            eventId: newEventId(),
            type: 'OrderPlaced',
            data: {
              orderId,
              customerId,
              lines,
              totalCents,
              currency: 'EUR',
              paymentToken: 'tok_visa',
              placedAt: new Date().toISOString(),
            } satisfies EventDataOf<'OrderPlaced'>,
            ...metadata,
            actor: customerId,
          },
        ]);
        const confirmed = await eventStore.append(`order-${orderId}`, placed.version, [
          {
            eventId: newEventId(),
            type: 'OrderConfirmed',
            data: { orderId, paymentId: newEventId(), totalCents } satisfies EventDataOf<'OrderConfirmed'>,
            ...metadata,
          },
        ]);
        const [event] = confirmed.events;
        if (!event) throw new Error('the event store recorded no OrderConfirmed');
        return { orderId, confirmed: event };
      },
      sendRecordRefund: (payload) =>
        bus.sendCommands([
          newCommand('RecordRefund', payload, { actor: 'service:saga', correlationId: payload.orderId }),
        ]),
      ledgerEvents,
      caughtUp: async () => {
        let head = 0;
        for (let page = await eventStore.readAll(0); ; page = await eventStore.readAll(head)) {
          head = page.events.at(-1)?.position ?? head;
          if (!page.hasMore) break;
        }
        await running.deps.projector.waitForPosition(head);
        return head;
      },
      stop: async () => {
        await bus.close();
        await running.stop();
        await backbone.stop();
      },
    };
  } catch (error) {
    await service?.stop();
    await backbone.stop();
    throw error;
  }
};

/** The salesReport query with every field. */
export const SALES_REPORT = /* GraphQL */ `
  query SalesReport($from: DateTime, $to: DateTime) {
    salesReport(from: $from, to: $to) {
      from
      to
      salesCount
      refundsCount
      grossCents
      refundedCents
      netCents
      lines {
        product {
          id
        }
        quantity
        revenueCents
        soldQuantity
        returnedQuantity
      }
    }
  }
`;

/** What salesReport answers. */
export interface SalesReportAnswer {
  salesReport: {
    from: string | null;
    to: string | null;
    salesCount: number;
    refundsCount: number;
    grossCents: number;
    refundedCents: number;
    netCents: number;
    lines: {
      product: { id: string };
      quantity: number;
      revenueCents: number;
      soldQuantity: number;
      returnedQuantity: number;
    }[];
  };
}
