/**
 * Messaging throughput, in one run on its own vhost and database:
 *  1. publish with confirms: @magasin/messaging `publishEvents` vs a naive pipelined publisher
 *     (amqplib: publish everything, then `waitForConfirms`), alternated, same messages, same queue;
 *  2. consume with inbox: the @magasin/messaging consumer applying each event to a projection and
 *     recording it in the inbox in one PostgreSQL transaction.
 *
 * Beside each publish figure: the CPU this process and the RabbitMQ node (when it runs on this
 * machine: read from /proc) used meanwhile, in % of one core, to show which side is the limit.
 *
 * `npm run bench:messaging -w bench` (MAGASIN_BENCH_MESSAGES, default 30000; MAGASIN_BENCH_ROUNDS, default 3;
 * MAGASIN_BENCH_PREFETCH, default 64; MAGASIN_BENCH_POOL, default 16).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { type EventOf, EXCHANGES, newEventId, routingKeyFor } from '@magasin/events';
import {
  connectMessaging,
  DEFAULT_RETRY_POLICY,
  declareServiceQueue,
  INBOX_TABLE_SQL,
  type Messaging,
  pgInbox,
} from '@magasin/messaging';
import { createTestDatabase, createTestVhost } from '@magasin/test-kit';
import amqp from 'amqplib';
import pg from 'pg';
import { pino } from 'pino';
import { Registry } from 'prom-client';

const total = Number(process.env.MAGASIN_BENCH_MESSAGES ?? 30_000);
const rounds = Number(process.env.MAGASIN_BENCH_ROUNDS ?? 3);
const queue = 'bench';
const prefetch = Number(process.env.MAGASIN_BENCH_PREFETCH ?? 64);
const poolSize = Number(process.env.MAGASIN_BENCH_POOL ?? 16);

const event = (index: number): EventOf<'StockReserved'> => {
  const orderId = newEventId();
  return {
    eventId: newEventId(),
    type: 'StockReserved',
    streamId: `product-${index % 100}`,
    version: Math.floor(index / 100) + 1,
    position: index + 1,
    occurredAt: new Date().toISOString(),
    correlationId: orderId,
    causationId: orderId,
    actor: 'bench',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    schemaVersion: 1,
    data: { orderId, items: [{ productId: `p-${index % 100}`, quantity: 1 }] },
  };
};

const rate = (count: number, ms: number) => Math.round(count / (ms / 1000));

/** The local RabbitMQ node's process (Erlang's beam.smp), if there is one. */
const brokerPid = ((): number | undefined => {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'beam.smp') return Number(entry);
      } catch {
        // the process ended while we looked: not the broker
      }
    }
  } catch {
    // no /proc (not Linux): broker CPU is not shown
  }
  return undefined;
})();

/** CPU seconds the broker has used so far (utime + stime), or undefined. */
const brokerCpuSeconds = (): number | undefined => {
  if (brokerPid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${brokerPid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
};

interface Run {
  rate: number;
  /** CPU of this process and of the broker while the run lasted, % of one core. */
  nodeCpu: number;
  brokerCpu: number | undefined;
}

/** Runs `publish` (which returns its rate) and measures the CPU both sides used meanwhile. */
const withCpu = async (publish: () => Promise<number>): Promise<Run> => {
  const broker = brokerCpuSeconds();
  const node = process.cpuUsage();
  const started = performance.now();
  const publishRate = await publish();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(node);
  const brokerAfter = brokerCpuSeconds();
  return {
    rate: publishRate,
    nodeCpu: Math.round(((used.user + used.system) / 1e6 / seconds) * 100),
    brokerCpu:
      broker === undefined || brokerAfter === undefined
        ? undefined
        : Math.round(((brokerAfter - broker) / seconds) * 100),
  };
};

const vhost = await createTestVhost('bench_messaging');
const db = await createTestDatabase('bench_messaging');
const connection = await amqp.connect(vhost.url);
const admin = await connection.createChannel();
await declareServiceQueue(admin, {
  queue,
  bindings: [{ exchange: EXCHANGES.events, routingKey: routingKeyFor('StockReserved') }],
  retry: DEFAULT_RETRY_POLICY,
  queueType: 'classic',
});
const logger = pino({ level: 'warn' });
const registry = new Registry();
const messaging: Messaging = await connectMessaging({
  url: vhost.url,
  service: 'bench-publisher',
  logger,
  registry,
});

/** The baseline: publish every message on one confirm channel, then wait for all confirms. */
const naive = async (events: EventOf<'StockReserved'>[]): Promise<number> => {
  const channel = await connection.createConfirmChannel();
  const started = performance.now();
  for (const item of events) {
    channel.publish(EXCHANGES.events, routingKeyFor(item.type), Buffer.from(JSON.stringify(item)), {
      persistent: true,
      messageId: item.eventId,
      correlationId: item.correlationId,
      contentType: 'application/json',
      headers: { traceparent: item.traceparent, 'x-causation-id': item.causationId },
    });
  }
  await channel.waitForConfirms();
  const elapsed = performance.now() - started;
  await channel.close();
  return rate(events.length, elapsed);
};

/** Ours: batches of 1000, up to 8 batches in flight, each awaiting its own confirms. */
const ours = async (events: EventOf<'StockReserved'>[]): Promise<number> => {
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  for (let start = 0; start < events.length; start += 1000) {
    const batch = messaging.publishEvents(events.slice(start, start + 1000));
    inFlight.add(batch);
    void batch.finally(() => inFlight.delete(batch));
    if (inFlight.size >= 8) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return rate(events.length, performance.now() - started);
};

const results: { naive: Run[]; ours: Run[]; unrouted: Run[] } = {
  naive: [],
  ours: [],
  unrouted: [],
};
const loadBefore = loadavg()[0] ?? 0;
// Reference point: the naive publisher to a routing key no queue is bound to (nothing stored).
const unrouted = async (events: EventOf<'StockReserved'>[]) =>
  naive(events.map((item) => ({ ...item, type: 'StockReleased' as 'StockReserved' })));
for (let round = 0; round < rounds; round++) {
  const events = () => Array.from({ length: total }, (_, index) => event(index));
  results.unrouted.push(await withCpu(() => unrouted(events())));
  await admin.purgeQueue(queue);
  results.naive.push(await withCpu(() => naive(events())));
  await admin.purgeQueue(queue);
  // The last round's messages stay in the queue for the consume part.
  results.ours.push(await withCpu(() => ours(events())));
  if (round < rounds - 1) await admin.purgeQueue(queue);
}
// The queue now holds `total` events published by ours: consume them with the inbox.
const pool = new pg.Pool({ connectionString: db.url, max: poolSize });
// Dropping the database at the end closes connections the pool may not have closed yet.
pool.on('error', () => undefined);
await pool.query(INBOX_TABLE_SQL);
await pool.query('CREATE TABLE reserved_stock (product_id text PRIMARY KEY, quantity int NOT NULL)');
const consumer = await connectMessaging({ url: vhost.url, service: queue, logger, registry });
let consumed = 0;
let finished: () => void = () => undefined;
const done = new Promise<void>((resolve) => {
  finished = resolve;
});
const consumeStarted = performance.now();
await consumer.consume<pg.PoolClient>({
  inbox: pgInbox(pool),
  prefetch,
  events: {
    StockReserved: async (received, tx) => {
      for (const item of received.data.items) {
        await tx.query(
          `INSERT INTO reserved_stock (product_id, quantity) VALUES ($1, $2)
           ON CONFLICT (product_id) DO UPDATE SET quantity = reserved_stock.quantity + EXCLUDED.quantity`,
          [item.productId, item.quantity],
        );
      }
      consumed += 1;
      if (consumed === total) finished();
    },
  },
});
await done;
const consumeRate = rate(total, performance.now() - consumeStarted);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return Math.round(
    sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2,
  );
};
const summary = (runs: Run[]) => ({
  'msg/s median': median(runs.map((run) => run.rate)),
  'msg/s best': Math.max(...runs.map((run) => run.rate)),
  runs: runs.map((run) => run.rate).join(' '),
  'node CPU %': median(runs.map((run) => run.nodeCpu)),
  'RabbitMQ CPU %': brokerPid === undefined ? 'n/a' : median(runs.map((run) => run.brokerCpu ?? 0)),
});
console.log(
  `\nmessaging throughput: ${total} persistent messages to one durable queue, ${rounds} rounds alternated` +
    ` (load average ${loadBefore.toFixed(2)} before, ${(loadavg()[0] ?? 0).toFixed(2)} after, 2 cores shared)\n`,
);
console.table({
  'reference: naive publish, routing key bound to no queue (nothing stored)': summary(results.unrouted),
  'naive pipelined publish (publish all, waitForConfirms)': summary(results.naive),
  '@magasin/messaging publishEvents (batches of 1000, 8 in flight)': summary(results.ours),
  [`consume with inbox (pg transaction per message, prefetch ${prefetch}, pool ${poolSize})`]: {
    'msg/s median': consumeRate,
    'msg/s best': consumeRate,
    runs: String(consumeRate),
  },
});
const oursRates = results.ours.map((run) => run.rate);
const naiveRates = results.naive.map((run) => run.rate);
console.log(`publish ratio ours/naive (median): ${(median(oursRates) / median(naiveRates)).toFixed(2)}`);

await consumer.close();
await messaging.close();
await connection.close();
await pool.end();
await Promise.all([vhost.drop(), db.drop()]);
