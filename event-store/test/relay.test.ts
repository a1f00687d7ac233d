import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connectMessaging, type Messaging } from '@magasin/messaging';
import { createTestVhost, eventually, type TestVhost } from '@magasin/test-kit';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay } from '../src/relay/relay.ts';
import { type EventTap, tapEvents } from './bus-fixture.ts';
import { openStoreFixture, type StoreFixture, stockReserved } from './event-store-fixture.ts';

const logger = pino({ level: 'silent' });
let fixture: StoreFixture;
let vhost: TestVhost;
let tap: EventTap;
let messaging: Messaging;

beforeAll(async () => {
  [fixture, vhost] = await Promise.all([openStoreFixture('relay'), createTestVhost('relay')]);
  tap = await tapEvents(vhost.url);
  messaging = await connectMessaging({
    url: vhost.url,
    service: 'event-store',
    logger,
    registry: new Registry(),
  });
});
afterAll(async () => {
  await tap?.close();
  await messaging?.close();
  await fixture?.close();
  await vhost?.drop();
});

const appendMany = async (count: number) => {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 100) {
    const events = Array.from({ length: Math.min(100, count - start) }, () => stockReserved());
    await fixture.store.append({ streamId: `order-${start}`, expectedVersion: 'any', events });
    ids.push(...events.map((event) => event.eventId));
  }
  return ids;
};

const checkpointOf = async () =>
  Number(
    (await fixture.prisma.relayCheckpoint.findUnique({ where: { name: 'magasin.events' } }))?.position ?? 0n,
  );

describe('the relay', () => {
  it('publishes every committed event after being killed between commit and checkpoint', async () => {
    const ids = await appendMany(2_000);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./fixtures/relay-process.ts', import.meta.url))],
      {
        env: {
          ...process.env,
          DATABASE_URL: fixture.database.url,
          RABBITMQ_URL: vhost.url,
          RELAY_BATCH_SIZE: '10',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // Kill it as soon as the broker has some of the events: mid-way through the log.
    await eventually(() => (tap.eventIds.size > 0 ? true : undefined), {
      timeoutMs: 20_000,
      what: 'first publication',
    });
    child.kill('SIGKILL');
    await exited;
    const killedAt = await checkpointOf();
    expect(killedAt).toBeLessThan(ids.length);

    const relay = await startRelay({
      databaseUrl: fixture.database.url,
      prisma: fixture.prisma,
      store: fixture.store,
      publisher: messaging,
      logger,
      pollIntervalMs: 100,
    });
    try {
      await eventually(() => (tap.eventIds.size === ids.length ? true : undefined), {
        timeoutMs: 20_000,
        what: 'every event published',
      });
      expect(tap.eventIds).toEqual(new Set(ids));
      await eventually(async () => ((await checkpointOf()) === ids.length ? true : undefined), {
        what: 'checkpoint at the head',
      });

      // New appends wake it at once (in-process signal) and it keeps the lag metric.
      const more = await appendMany(50);
      await eventually(() => (more.every((id) => tap.eventIds.has(id)) ? true : undefined), {
        what: 'new events published',
      });
      await eventually(async () => ((await checkpointOf()) === ids.length + 50 ? true : undefined), {
        what: 'checkpoint moved',
      });
      expect(await fixture.registry.getSingleMetricAsString('magasin_eventstore_relay_lag')).toMatch(
        /magasin_eventstore_relay_lag 0/,
      );
    } finally {
      await relay.stop();
    }
  });

  it('publishes in position order and lets only one replica publish at a time', async () => {
    const first = await startRelay({
      databaseUrl: fixture.database.url,
      prisma: fixture.prisma,
      store: fixture.store,
      publisher: messaging,
      logger,
      pollIntervalMs: 50,
    });
    const second = await startRelay({
      databaseUrl: fixture.database.url,
      prisma: fixture.prisma,
      store: fixture.store,
      publisher: messaging,
      logger,
      pollIntervalMs: 50,
    });
    try {
      await eventually(() => (first.isLeader() || second.isLeader() ? true : undefined), {
        what: 'a leader',
      });
      expect(first.isLeader() && second.isLeader()).toBe(false);
      const before = await checkpointOf();
      const ids = await appendMany(300);
      await eventually(async () => ((await checkpointOf()) === before + 300 ? true : undefined), {
        what: 'all published',
      });
      expect(ids.every((id) => tap.eventIds.has(id))).toBe(true);
      const published = tap.positions.filter((position) => position > before);
      expect(published).toEqual([...published].sort((a, b) => a - b));
      expect(new Set(published).size).toBe(300);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  it('publishes a commit that lands while it reads an empty page, without waiting for its poll', async () => {
    // The commit lands inside the relay's read of an empty page (the store is wrapped to append
    // right then), and the poll is an hour: only the commit signal can get it published.
    const late = stockReserved();
    let injected = false;
    const relay = await startRelay({
      databaseUrl: fixture.database.url,
      prisma: fixture.prisma,
      store: {
        metrics: fixture.store.metrics,
        onCommit: fixture.store.onCommit,
        headPosition: fixture.store.headPosition,
        readAll: async (fromPosition, limit) => {
          const page = await fixture.store.readAll(fromPosition, limit);
          if (page.events.length === 0 && !injected) {
            injected = true;
            await fixture.store.append({ streamId: 'order-late', expectedVersion: 'any', events: [late] });
          }
          return page;
        },
      },
      publisher: messaging,
      logger,
      pollIntervalMs: 3_600_000,
    });
    try {
      await eventually(() => (injected ? true : undefined), { what: 'an empty page read' });
      await eventually(() => (tap.eventIds.has(late.eventId) ? true : undefined), {
        timeoutMs: 20_000,
        what: 'the late commit published',
      });
    } finally {
      await relay.stop();
    }
  });
});
