import { setTimeout as sleep } from 'node:timers/promises';
import { connectMessaging, type Messaging } from '@magasin/messaging';
import { bounceRabbitmq, createTestVhost, eventually, type TestVhost } from '@magasin/test-kit';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Relay, startRelay } from '../src/relay/relay.ts';
import { type EventTap, tapEvents } from './bus-fixture.ts';
import { openStoreFixture, type StoreFixture, stockReserved } from './event-store-fixture.ts';

const logger = pino({ level: 'silent' });
let fixture: StoreFixture;
let vhost: TestVhost;
let messaging: Messaging;
let relay: Relay;
const taps: EventTap[] = [];

beforeAll(async () => {
  [fixture, vhost] = await Promise.all([openStoreFixture('broker_down'), createTestVhost('broker_down')]);
  messaging = await connectMessaging({
    url: vhost.url,
    service: 'event-store',
    logger,
    registry: new Registry(),
    publishTimeoutMs: 1_000,
  });
  relay = await startRelay({
    databaseUrl: fixture.database.url,
    prisma: fixture.prisma,
    store: fixture.store,
    publisher: messaging,
    logger,
    pollIntervalMs: 100,
    maxRetryDelayMs: 500,
  });
});
afterAll(async () => {
  await relay?.stop();
  for (const tap of taps) await tap.close();
  await messaging?.close();
  await fixture?.close();
  await vhost?.drop();
});

describe('RabbitMQ stopped during appends', () => {
  it('keeps accepting appends and publishes every one of them once the broker is back', async () => {
    const received = new Set<string>();
    taps.push(await tapEvents(vhost.url, 'event-tap', received));
    const appended: string[] = [];
    let appending = true;
    const appender = (async () => {
      for (let round = 0; appending; round++) {
        const events = [stockReserved(), stockReserved()];
        await fixture.store.append({ streamId: `order-${round % 20}`, expectedVersion: 'any', events });
        appended.push(...events.map((event) => event.eventId));
        await sleep(10);
      }
    })();

    await eventually(() => (received.size > 0 ? true : undefined), { what: 'publishing before the outage' });
    const beforeOutage = appended.length;
    await bounceRabbitmq(3_000);
    appending = false;
    await appender;
    // Appends went on during the outage (about 3 s of them).
    expect(appended.length - beforeOutage).toBeGreaterThan(50);

    // The tap's connection died with the broker: consume the durable queue again.
    taps.push(await tapEvents(vhost.url, 'event-tap', received));
    await eventually(() => (appended.every((id) => received.has(id)) ? true : undefined), {
      timeoutMs: 30_000,
      what: 'every event appended published after the broker came back',
    });
    expect(received.size).toBe(appended.length);
    expect(
      await fixture.registry.getSingleMetricAsString('magasin_eventstore_publish_failures_total'),
    ).toMatch(/magasin_eventstore_publish_failures_total [1-9]/);
    await eventually(() => (relay.checkpoint() === appended.length ? true : undefined), {
      what: 'checkpoint at head',
    });
  });
});
