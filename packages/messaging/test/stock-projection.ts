/**
 * A small service for the tests: a real database with the inbox and a `reserved_stock`
 * projection fed by StockReserved events, a real RabbitMQ vhost, and a Messaging instance.
 */
import { type EventOf, newEventId } from '@magasin/events';
import { createTestDatabase, createTestVhost, type TestDatabase, type TestVhost } from '@magasin/test-kit';
import pg from 'pg';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { connectMessaging, INBOX_TABLE_SQL, type Messaging, type MessagingOptions } from '../src/index.ts';

export interface StockService {
  db: TestDatabase;
  vhost: TestVhost;
  pool: pg.Pool;
  registry: Registry;
  connect(options?: Partial<MessagingOptions>): Promise<Messaging>;
  /** Reserved quantity of a product in the projection. */
  reserved(productId: string): Promise<number>;
  teardown(): Promise<void>;
}

export const quietLogger = () => pino({ level: process.env.MAGASIN_TEST_LOG_LEVEL ?? 'silent' });

export const startStockService = async (label: string): Promise<StockService> => {
  const [db, vhost] = await Promise.all([createTestDatabase(label), createTestVhost(label)]);
  const pool = new pg.Pool({ connectionString: db.url, max: 8 });
  await pool.query(INBOX_TABLE_SQL);
  await pool.query('CREATE TABLE reserved_stock (product_id text PRIMARY KEY, quantity int NOT NULL)');
  const registry = new Registry();
  const opened: Messaging[] = [];
  return {
    db,
    vhost,
    pool,
    registry,
    async connect(options) {
      const messaging = await connectMessaging({
        url: vhost.url,
        service: 'inventory',
        logger: quietLogger(),
        registry,
        ...options,
      });
      opened.push(messaging);
      return messaging;
    },
    async reserved(productId) {
      const { rows } = await pool.query<{ quantity: number }>(
        'SELECT quantity FROM reserved_stock WHERE product_id = $1',
        [productId],
      );
      return rows[0]?.quantity ?? 0;
    },
    async teardown() {
      await Promise.allSettled(opened.map((messaging) => messaging.close()));
      await pool.end();
      await Promise.allSettled([db.drop(), vhost.drop()]);
    },
  };
};

/** Adds the reserved quantities of an event to the projection, in the inbox transaction. */
export const applyStockReserved = async (
  event: EventOf<'StockReserved'>,
  tx: pg.PoolClient,
): Promise<void> => {
  for (const item of event.data.items) {
    await tx.query(
      `INSERT INTO reserved_stock (product_id, quantity) VALUES ($1, $2)
       ON CONFLICT (product_id) DO UPDATE SET quantity = reserved_stock.quantity + EXCLUDED.quantity`,
      [item.productId, item.quantity],
    );
  }
};

/** A valid StockReserved envelope. */
export const stockReserved = (
  productId: string,
  quantity: number,
  orderId = newEventId(),
): EventOf<'StockReserved'> => ({
  eventId: newEventId(),
  type: 'StockReserved',
  streamId: `product-${productId}`,
  version: 1,
  position: 1,
  occurredAt: new Date().toISOString(),
  correlationId: orderId,
  causationId: null,
  actor: 'inventory',
  traceparent: null,
  schemaVersion: 1,
  data: { orderId, items: [{ productId, quantity }] },
});

/** Value of a counter/gauge sample with these labels, from the registry. */
export const metricValue = async (
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> => {
  const metric = registry.getSingleMetric(name);
  if (!metric) return undefined;
  const { values } = await metric.get();
  return values.find((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    ?.value;
};
