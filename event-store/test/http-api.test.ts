import { newEventId } from '@magasin/events';
import { signedFetch } from '@magasin/service-kit';
import {
  createTestDatabase,
  createTestVhost,
  eventually,
  type TestDatabase,
  type TestVhost,
} from '@magasin/test-kit';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEventStoreClient,
  type EventStoreClient,
  EventStoreError,
  type RecordedEvent,
  WrongExpectedVersionError,
} from '../src/client/index.ts';
import { loadEventStoreConfig } from '../src/config.ts';
import { type RunningEventStore, runEventStore } from '../src/service.ts';
import { stockReserved } from './event-store-fixture.ts';

const SECRET = 'test-internal-secret-0123456789';
let database: TestDatabase;
let vhost: TestVhost;
let running: RunningEventStore;
let client: EventStoreClient;

beforeAll(async () => {
  [database, vhost] = await Promise.all([createTestDatabase('http'), createTestVhost('http')]);
  const config = loadEventStoreConfig({
    EVENT_STORE_PORT: '1',
    EVENT_STORE_DATABASE_URL: database.url,
    RABBITMQ_URL: vhost.url,
    INTERNAL_SECRET: SECRET,
  });
  running = await runEventStore({
    config: { ...config, EVENT_STORE_PORT: 0 },
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    handleSignals: false,
  });
  client = createEventStoreClient({ url: running.service.url, secret: SECRET, caller: 'store' });
});
afterAll(async () => {
  await running?.service.stop();
  await Promise.all([database?.drop(), vhost?.drop()]);
});

describe('internal authentication', () => {
  it('refuses unsigned and wrongly signed requests and accepts signed ones', async () => {
    const unsigned = await fetch(`${running.service.url}/events`);
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    const forged = await signedFetch({ secret: 'not-the-secret-at-all', caller: 'x' })(
      `${running.service.url}/events`,
    );
    expect(forged.status).toBe(401);
    const signed = await signedFetch({ secret: SECRET, caller: 'store' })(`${running.service.url}/events`);
    expect(signed.status).toBe(200);
  });
});

describe('the client', () => {
  it('appends, reads back, and retries idempotently', async () => {
    const streamId = `order-${newEventId()}`;
    const correlationId = newEventId();
    const events = [stockReserved({ correlationId }), stockReserved({ correlationId })];
    const appended = await client.append(streamId, 'no_stream', events);
    expect(appended).toMatchObject({ streamId, version: 2 });
    expect(await client.append(streamId, 'no_stream', events)).toEqual(appended);

    const stream = await client.readStream(streamId);
    expect(stream.events).toEqual(appended.events);
    expect((await client.readStream(streamId, { fromVersion: 2 })).events).toHaveLength(1);
    expect((await client.readStream(streamId, { asOf: new Date(0) })).version).toBe(0);
    expect(await client.readByCorrelation(correlationId)).toEqual(appended.events);
    const page = await client.readAll(appended.position - 2, { limit: 10 });
    expect(page.events.map((event) => event.eventId)).toEqual(events.map((event) => event.eventId));
  });

  it('raises typed errors: wrong expected version with the current version, contract violations', async () => {
    const streamId = `order-${newEventId()}`;
    await client.append(streamId, 'no_stream', [stockReserved()]);
    const conflict = await client
      .append(streamId, 'no_stream', [stockReserved()])
      .catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(WrongExpectedVersionError);
    expect(conflict).toMatchObject({
      code: 'WRONG_EXPECTED_VERSION',
      status: 409,
      currentVersion: 1,
      streamId,
    });

    const bad = stockReserved({ data: { orderId: 'o' } });
    const invalid = await client.append(streamId, 1, [bad]).catch((error: unknown) => error);
    expect(invalid).toBeInstanceOf(EventStoreError);
    expect(invalid).toMatchObject({ code: 'VALIDATION', status: 400 });
    expect((invalid as Error).message).toMatch(new RegExp(`StockReserved, ${bad.eventId}.*items`));

    const badQuery = await client.readAll(-1).catch((error: unknown) => error);
    expect(badQuery).toMatchObject({ code: 'VALIDATION' });
  });

  it('reads only the event types asked for, the page still covering the events it skipped', async () => {
    const start = (await client.readAll(0, { limit: 5_000 })).nextPosition;
    const released = (orderId = newEventId()): ReturnType<typeof stockReserved> =>
      stockReserved({
        type: 'StockReleased',
        data: { orderId, items: [{ productId: 'p-1', quantity: 1 }], reason: 'test' },
        correlationId: orderId,
      });
    const streamId = `order-${newEventId()}`;
    const appended = await client.append(streamId, 'no_stream', [
      stockReserved(),
      released(),
      stockReserved(),
      released(),
    ]);
    const [, first, , second] = appended.events;

    const page = await client.readAll(start, { types: ['StockReleased'] });
    expect(page.events.map((event) => event.eventId)).toEqual([first?.eventId, second?.eventId]);
    expect(page.nextPosition).toBe(appended.position);
    expect(page.hasMore).toBe(false);

    // A full page ends at its last event, so nothing past it is skipped unread.
    const firstOnly = await client.readAll(start, { types: ['StockReleased'], limit: 1 });
    expect(firstOnly).toMatchObject({ nextPosition: first?.position, hasMore: true });

    // Nothing of those types: the page is empty, yet moves the reader to the head.
    const none = await client.readAll(start, { types: ['PaymentRefunded'] });
    expect(none).toEqual({ events: [], nextPosition: appended.position, hasMore: false });

    // A long poll with nothing of its types to read waits for a commit; one of other types only
    // ends the wait shortly after, with an empty page past it (the reader follows the log).
    const waiting = client.readAll(start, { types: ['PaymentRefunded'], waitMs: 5_000 });
    const later = await client.append(streamId, appended.version, [stockReserved()]);
    expect(await waiting).toEqual({ events: [], nextPosition: later.position, hasMore: false });

    // A long poll from behind commits of other types only does not wait for another commit (none
    // may come: the load stopped): it answers shortly with the page moved past them.
    const behind = await Promise.race([
      client.readAll(start, { types: ['PaymentRefunded'], waitMs: 60_000 }),
      new Promise((resolve) => setTimeout(() => resolve('still waiting after 10 s'), 10_000)),
    ]);
    expect(behind).toEqual({ events: [], nextPosition: later.position, hasMore: false });

    // A commit of its types answers it with the events of those types.
    const waitingForReleases = client.readAll(later.position, { types: ['StockReleased'], waitMs: 5_000 });
    const third = await client.append(streamId, later.version, [stockReserved(), released()]);
    const releases = await waitingForReleases;
    expect(releases.events.map((event) => event.eventId)).toEqual([third.events[1]?.eventId]);
    expect(releases.nextPosition).toBe(third.position);

    // No type at all (a projection that handles none): only how far the log goes.
    expect(await client.readAll(start, { types: [] })).toEqual({
      events: [],
      nextPosition: third.position,
      hasMore: false,
    });

    for (const types of [
      [',StockReserved'],
      ['Stock Reserved'],
      Array.from({ length: 101 }, (_, i) => `T${i}`),
    ]) {
      const refused = await client.readAll(start, { types }).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: 'VALIDATION', status: 400 });
      expect((refused as Error).message).toMatch(/types must be a comma-separated list/);
    }
  });

  it('subscribes to the log: catches up, then receives new events as they are appended', async () => {
    const start = (await client.readAll(0, { limit: 5_000 })).nextPosition;
    const before = await client.append(`order-${newEventId()}`, 'any', [stockReserved()]);
    const received: RecordedEvent[] = [];
    const subscription = client.subscribeAll(
      start,
      (event) => {
        received.push(event);
      },
      { waitMs: 5_000 },
    );
    try {
      await eventually(() => (received.length === 1 ? true : undefined), { what: 'catch-up' });
      const after = await client.append(`order-${newEventId()}`, 'any', [stockReserved(), stockReserved()]);
      await eventually(() => (received.length === 3 ? true : undefined), { what: 'live events' });
      expect(received.map((event) => event.position)).toEqual([
        before.position,
        after.position - 1,
        after.position,
      ]);
    } finally {
      await subscription.stop();
    }
    await subscription.done;
  });
});

describe('the operators subgraph', () => {
  const query = async (roles: string[] | undefined, body: object) => {
    const fetchSigned = signedFetch({
      secret: SECRET,
      caller: 'gateway',
      ...(roles ? { identity: { sub: 'op', roles: roles as never } } : {}),
    });
    const response = await fetchSigned(`${running.service.url}/graphql`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    return (await response.json()) as {
      data?: Record<string, unknown>;
      errors?: { extensions?: { code?: string } }[];
    };
  };

  it('serves events by stream and by correlation to admins and auditors only', async () => {
    const streamId = `order-${newEventId()}`;
    const correlationId = newEventId();
    await client.append(streamId, 'any', [stockReserved({ correlationId })]);
    const byStream = await query(['auditor'], {
      query: 'query($id: ID!) { events(streamId: $id) { streamId version type actor data } }',
      variables: { id: streamId },
    });
    expect(byStream.errors).toBeUndefined();
    expect(byStream.data?.events).toEqual([
      expect.objectContaining({ streamId, version: 1, type: 'StockReserved', actor: 'test' }),
    ]);
    const byCorrelation = await query(['admin'], {
      query: 'query($id: ID!) { eventsByCorrelation(correlationId: $id) { correlationId position } }',
      variables: { id: correlationId },
    });
    expect(byCorrelation.data?.eventsByCorrelation).toEqual([expect.objectContaining({ correlationId })]);

    const customer = await query(['customer'], { query: `{ events(streamId: "${streamId}") { eventId } }` });
    expect(customer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await query(undefined, { query: `{ events(streamId: "${streamId}") { eventId } }` });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('answers the federation _service query with its SDL', async () => {
    const result = await query(undefined, { query: '{ _service { sdl } }' });
    const service = result.data?._service as { sdl: string } | undefined;
    expect(service?.sdl).toContain('eventsByCorrelation');
  });
});

describe('metrics', () => {
  it('exposes append, conflict, relay and publish metrics', async () => {
    const text = await (await fetch(`${running.service.url}/metrics`)).text();
    for (const name of [
      'magasin_eventstore_append_duration_seconds',
      'magasin_eventstore_events_appended_total',
      'magasin_eventstore_concurrency_conflicts_total',
      'magasin_eventstore_relay_lag',
      'magasin_eventstore_publish_failures_total',
    ]) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(/magasin_eventstore_events_appended_total\{type="StockReserved"\} \d+/);
  });

  it('exposes the head position of the log, from which projection lag is computed', async () => {
    const head = await running.store.headPosition();
    expect(head).toBeGreaterThan(0);
    const text = await (await fetch(`${running.service.url}/metrics`)).text();
    expect(text).toMatch(new RegExp(`^magasin_eventstore_head_position(\\{[^}]*\\})? ${head}$`, 'm'));
  });
});
