/**
 * Event store throughput, in one run on its own database:
 *  1. appends with 1 and 16 concurrent writers (each awaiting its append before the next):
 *     the group-commit writer (one `append_events` statement per batch) vs a naive gap-free
 *     append (one transaction per event, taking the same position lock), events/s and p50/p95
 *     latency;
 *  2. read-all: paging the log through the store (`readAll`, 1 000 per page) vs reading
 *     one event per query.
 * Every append is durable (synchronous_commit as the server has it) and gap-free in both.
 *
 * `npx tsx bench/event-store/append-throughput.ts` from the repository root
 * (MAGASIN_BENCH_EVENTS: appends per writer for 16 writers, default 1 000). Latency is per append.
 */
import { fileURLToPath } from 'node:url';
import { createEventStore, POSITION_LOCK_KEY } from '@magasin/event-store';
import { newEventId } from '@magasin/events';
import { migrate } from '@magasin/migrator';
import { createTestDatabase } from '@magasin/test-kit';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { Registry } from 'prom-client';
import { PrismaClient } from '../../event-store/src/generated/prisma/client.ts';

const perWriter = Number(process.env.MAGASIN_BENCH_EVENTS ?? 1_000);
const migrations = fileURLToPath(new URL('../../event-store/prisma/migrations', import.meta.url));

const database = await createTestDatabase('bench_event_store');
await migrate({ databaseUrl: database.url, migrationsDirectory: migrations });
const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: database.url }) });
const store = createEventStore({ databaseUrl: database.url, registry: new Registry() });
const naivePool = new pg.Pool({ connectionString: database.url, max: 16 });
// Dropping the database at the end closes connections the pool may not have closed yet.
naivePool.on('error', () => undefined);
const synchronousCommit = (await naivePool.query<{ synchronous_commit: string }>('SHOW synchronous_commit'))
  .rows[0]?.synchronous_commit;

const newEvent = () => {
  const orderId = newEventId();
  return {
    eventId: newEventId(),
    type: 'StockReserved',
    data: { orderId, items: [{ productId: 'p-1', quantity: 1 }] },
    correlationId: orderId,
    actor: 'bench',
  };
};

/** One gap-free append in its own transaction: lock, read head and stream version, insert, commit. */
const naiveAppend = async (streamId: string): Promise<void> => {
  const event = newEvent();
  const client = await naivePool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [POSITION_LOCK_KEY.toString()]);
    const { rows } = await client.query<{ head: string; version: number | null }>(
      'SELECT (SELECT coalesce(max(position), 0) FROM events)::text AS head, (SELECT version FROM streams WHERE stream_id = $1) AS version',
      [streamId],
    );
    const head = Number(rows[0]?.head ?? 0);
    const version = (rows[0]?.version ?? 0) + 1;
    const metadata = {
      correlationId: event.correlationId,
      causationId: null,
      actor: event.actor,
      traceparent: null,
      schemaVersion: 1,
      occurredAt: new Date().toISOString(),
    };
    await client.query(
      `INSERT INTO events (position, stream_id, version, event_id, type, data, metadata, correlation_id, recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, clock_timestamp())`,
      [
        head + 1,
        streamId,
        version,
        event.eventId,
        event.type,
        JSON.stringify(event.data),
        JSON.stringify(metadata),
        event.correlationId,
      ],
    );
    await client.query(
      `INSERT INTO streams (stream_id, version, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version, updated_at = EXCLUDED.updated_at`,
      [streamId, version],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
};

const storeAppend = async (streamId: string): Promise<void> => {
  await store.append({ streamId, expectedVersion: 'any', events: [newEvent()] });
};

/** An append of 10 events (a saga step appending several events at once). */
const storeAppendTen = async (streamId: string): Promise<void> => {
  await store.append({ streamId, expectedVersion: 'any', events: Array.from({ length: 10 }, newEvent) });
};

/** The naive path for 10 events: ten transactions. */
const naiveAppendTen = async (streamId: string): Promise<void> => {
  for (let i = 0; i < 10; i++) await naiveAppend(streamId);
};

interface Figures {
  eventsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

const measureAppends = async (
  writers: number,
  appendsPerWriter: number,
  append: (streamId: string) => Promise<void>,
  eventsPerAppend = 1,
): Promise<Figures> => {
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      const streamId = `bench-${newEventId()}-${writer}`;
      for (let i = 0; i < appendsPerWriter; i++) {
        const t0 = performance.now();
        await append(streamId);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    eventsPerSecond: Math.round((writers * appendsPerWriter * eventsPerAppend) / seconds),
    p50Ms: Number(percentile(latencies, 0.5).toFixed(2)),
    p95Ms: Number(percentile(latencies, 0.95).toFixed(2)),
  };
};

const rows: string[] = [];
const row = (name: string, ours: Figures, naive: Figures) =>
  rows.push(
    `| ${name} | ${ours.eventsPerSecond} ev/s, p50 ${ours.p50Ms} ms, p95 ${ours.p95Ms} ms | ${naive.eventsPerSecond} ev/s, p50 ${naive.p50Ms} ms, p95 ${naive.p95Ms} ms | x${(ours.eventsPerSecond / naive.eventsPerSecond).toFixed(1)} |`,
  );

// Warm up both paths (connections, JIT).
await measureAppends(4, 50, storeAppend);
await measureAppends(4, 50, naiveAppend);

row(
  'append, 1 writer',
  await measureAppends(1, Math.max(200, perWriter / 2), storeAppend),
  await measureAppends(1, Math.max(200, perWriter / 2), naiveAppend),
);
row(
  'append, 16 writers',
  await measureAppends(16, perWriter, storeAppend),
  await measureAppends(16, Math.max(50, perWriter / 4), naiveAppend),
);
row(
  'append of 10 events, 16 writers',
  await measureAppends(16, Math.max(20, perWriter / 10), storeAppendTen, 10),
  await measureAppends(16, Math.max(5, perWriter / 100), naiveAppendTen, 10),
);

// Read-all over the whole log.
const total = await store.headPosition();
let started = performance.now();
let position = 0;
for (;;) {
  const page = await store.readAll(position, 1_000);
  position = page.nextPosition;
  if (!page.hasMore) break;
}
const pagedRate = Math.round(total / ((performance.now() - started) / 1000));
const naiveCount = Math.min(total, 5_000);
started = performance.now();
for (let p = 1; p <= naiveCount; p++) {
  await naivePool.query('SELECT * FROM events WHERE position = $1', [p]);
}
const naiveRate = Math.round(naiveCount / ((performance.now() - started) / 1000));
rows.push(
  `| read-all (${total} events) | ${pagedRate} ev/s (pages of 1 000) | ${naiveRate} ev/s (one query per event) | x${(pagedRate / naiveRate).toFixed(1)} |`,
);

console.log(
  `\nEvent store throughput (${new Date().toISOString()}, synchronous_commit=${synchronousCommit}, gap-free positions)\n`,
);
console.log('| scenario | event store (group commit) | naive (one transaction per event) | ratio |');
console.log('|---|---|---|---|');
for (const line of rows) console.log(line);

await store.close();
await naivePool.end();
await prisma.$disconnect();
await database.drop();
