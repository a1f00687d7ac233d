import { newEventId } from '@magasin/events';
import { checkSchemaAgreement } from '@magasin/migrator';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStoreError, WrongExpectedVersionError } from '../src/store/errors.ts';
import { createEventStore } from '../src/store/event-store.ts';
import { openStoreFixture, type StoreFixture, stockReserved } from './event-store-fixture.ts';

let fixture: StoreFixture;
beforeAll(async () => {
  fixture = await openStoreFixture('append');
});
afterAll(async () => {
  await fixture?.close();
});

const countEvents = async (streamId: string) =>
  (await fixture.prisma.event.count({ where: { streamId } })) as number;

describe('the migrated database', () => {
  it('agrees with prisma/schema.prisma', async () => {
    const db = new pg.Client({ connectionString: fixture.database.url });
    await db.connect();
    try {
      expect(await checkSchemaAgreement(fixture.prisma, db)).toEqual([]);
    } finally {
      await db.end();
    }
  });
});

describe('append with an expected version', () => {
  it('lets exactly one of many concurrent appends win each version of one stream', async () => {
    const { store } = fixture;
    const streamId = `order-${newEventId()}`;
    for (let version = 0; version < 8; version++) {
      const attempts = await Promise.allSettled(
        Array.from({ length: 12 }, () =>
          store.append({ streamId, expectedVersion: version, events: [stockReserved()] }),
        ),
      );
      const won = attempts.filter((attempt) => attempt.status === 'fulfilled');
      const lost = attempts.filter((attempt) => attempt.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(won[0]?.value.version).toBe(version + 1);
      for (const attempt of lost) {
        expect(attempt.reason).toBeInstanceOf(WrongExpectedVersionError);
        expect(attempt.reason).toMatchObject({
          code: 'WRONG_EXPECTED_VERSION',
          status: 409,
          currentVersion: version + 1,
        });
      }
    }
    expect(await countEvents(streamId)).toBe(8);
    const conflicts = await fixture.registry.getSingleMetricAsString(
      'magasin_eventstore_concurrency_conflicts_total',
    );
    expect(conflicts).toMatch(/magasin_eventstore_concurrency_conflicts_total 88/);
  });

  it('refuses no_stream on an existing stream and appends nothing', async () => {
    const { store } = fixture;
    const streamId = `order-${newEventId()}`;
    await store.append({
      streamId,
      expectedVersion: 'no_stream',
      events: [stockReserved(), stockReserved()],
    });
    const refused = store.append({ streamId, expectedVersion: 'no_stream', events: [stockReserved()] });
    await expect(refused).rejects.toMatchObject({ code: 'WRONG_EXPECTED_VERSION', currentVersion: 2 });
    const appended = await store.append({ streamId, expectedVersion: 'any', events: [stockReserved()] });
    expect(appended.version).toBe(3);
    expect(await countEvents(streamId)).toBe(3);
  });
});

describe('idempotency by event id', () => {
  it('answers a retried append with the same result and writes nothing twice', async () => {
    const { store } = fixture;
    const streamId = `order-${newEventId()}`;
    const events = [stockReserved(), stockReserved()];
    const first = await store.append({ streamId, expectedVersion: 'no_stream', events });
    await store.append({ streamId, expectedVersion: 2, events: [stockReserved()] });
    // The retry comes after the stream moved on: still the original answer, not a conflict.
    const retried = await store.append({ streamId, expectedVersion: 'no_stream', events });
    expect(retried).toEqual(first);
    const concurrentRetries = await Promise.all(
      Array.from({ length: 5 }, () => store.append({ streamId, expectedVersion: 'no_stream', events })),
    );
    for (const result of concurrentRetries) expect(result).toEqual(first);
    expect(await countEvents(streamId)).toBe(3);
  });

  it('treats two identical appends in the same batch as one', async () => {
    const { store } = fixture;
    const streamId = `order-${newEventId()}`;
    const events = [stockReserved()];
    const [a, b] = await Promise.all([
      store.append({ streamId, expectedVersion: 'any', events }),
      store.append({ streamId, expectedVersion: 'any', events }),
    ]);
    expect(a).toEqual(b);
    expect(await countEvents(streamId)).toBe(1);
  });

  it('answers a retry with its original result when it is committed together with new appends', async () => {
    const { store } = fixture;
    const streamId = `order-${newEventId()}`;
    const other = `order-${newEventId()}`;
    const events = [stockReserved(), stockReserved()];
    const first = await store.append({ streamId, expectedVersion: 'no_stream', events });
    // Queued in the same tick: one batch holding a retry, a new append to the same stream and
    // one to another stream.
    const [retried, next, elsewhere] = await Promise.all([
      store.append({ streamId, expectedVersion: 'no_stream', events }),
      store.append({ streamId, expectedVersion: 2, events: [stockReserved()] }),
      store.append({ streamId: other, expectedVersion: 'no_stream', events: [stockReserved()] }),
    ]);
    expect(retried).toEqual(first);
    expect(next.version).toBe(3);
    expect(elsewhere.version).toBe(1);
    expect(await countEvents(streamId)).toBe(3);
    expect(await countEvents(other)).toBe(1);
  });

  it('lets an append reuse the ids of an append refused earlier in the same batch', async () => {
    const { store } = fixture;
    const streamId = `order-${newEventId()}`;
    const events = [stockReserved()];
    const [refused, accepted] = await Promise.allSettled([
      store.append({ streamId, expectedVersion: 5, events }),
      store.append({ streamId, expectedVersion: 'any', events }),
    ]);
    expect(refused).toMatchObject({
      status: 'rejected',
      reason: { code: 'WRONG_EXPECTED_VERSION', currentVersion: 0 },
    });
    expect(accepted).toMatchObject({ status: 'fulfilled', value: { version: 1 } });
    expect(await countEvents(streamId)).toBe(1);
  });

  it('refuses a different payload under an event id already stored', async () => {
    const { store } = fixture;
    const streamId = `order-${newEventId()}`;
    const event = stockReserved();
    await store.append({ streamId, expectedVersion: 'any', events: [event] });
    const changed = { ...event, data: { orderId: 'other', items: [{ productId: 'p-2', quantity: 3 }] } };
    await expect(store.append({ streamId, expectedVersion: 'any', events: [changed] })).rejects.toMatchObject(
      {
        code: 'IDEMPOTENCY_CONFLICT',
        status: 409,
      },
    );
    await expect(
      store.append({ streamId: `${streamId}-other`, expectedVersion: 'any', events: [event] }),
    ).rejects.toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
    expect(await countEvents(streamId)).toBe(1);
  });
});

describe('event contracts', () => {
  it('refuses an event whose data does not match its contract, naming the event and the issue', async () => {
    const event = stockReserved({ data: { orderId: 'o-1', items: [] } });
    const refused = fixture.store.append({ streamId: 'order-bad', expectedVersion: 'any', events: [event] });
    await expect(refused).rejects.toBeInstanceOf(EventStoreError);
    await expect(refused).rejects.toMatchObject({ code: 'VALIDATION', status: 400 });
    await expect(refused).rejects.toThrow(
      new RegExp(`events\\[0\\] \\(StockReserved, ${event.eventId}\\) does not match its contract: .*items`),
    );
    await expect(
      fixture.store.append({
        streamId: 'order-bad',
        expectedVersion: 'any',
        events: [stockReserved({ type: 'Nope' })],
      }),
    ).rejects.toThrow(/unknown event type 'Nope'/);
    expect(await countEvents('order-bad')).toBe(0);
  });
});

describe('lookups as the log grows', () => {
  it('finds streams and event ids through indexes, never by reading the whole log', async () => {
    // Plans cached on the first appends, while the log is nearly empty, must not turn into a
    // sequential scan of the log on every append later (it once did).
    const own = await openStoreFixture('append_plans');
    try {
      const store = createEventStore({
        databaseUrl: own.database.url,
        registry: own.registry,
      });
      let appended = 0;
      for (let round = 0; round < 30; round++) {
        const results = await Promise.all(
          Array.from({ length: 1 + (round % 4) }, (_, writer) =>
            store.append({
              streamId: `cart-${writer}`,
              expectedVersion: 'any',
              events: Array.from({ length: 1 + writer }, () => stockReserved()),
            }),
          ),
        );
        appended += results.reduce((sum, result) => sum + result.events.length, 0);
      }
      // Closing ends the writer's sessions, which report their table statistics as they exit.
      await store.close();
      const db = new pg.Client({ connectionString: own.database.url });
      await db.connect();
      try {
        let stats: { seq_tup_read: string; idx_scan: string; n_tup_ins: string } | undefined;
        for (let attempt = 0; attempt < 100; attempt++) {
          stats = (
            await db.query<{ seq_tup_read: string; idx_scan: string; n_tup_ins: string }>(
              "SELECT seq_tup_read, idx_scan, n_tup_ins FROM pg_stat_user_tables WHERE relname = 'events'",
            )
          ).rows[0];
          if (Number(stats?.n_tup_ins) === appended) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(Number(stats?.n_tup_ins)).toBe(appended);
        expect(Number(stats?.idx_scan)).toBeGreaterThan(0);
        // Building the indexes at migration scanned the empty table: no row was ever read by a scan.
        expect(Number(stats?.seq_tup_read)).toBe(0);
      } finally {
        await db.end();
      }
    } finally {
      await own.close();
    }
  });
});
