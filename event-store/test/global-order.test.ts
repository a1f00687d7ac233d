import { newEventId } from '@magasin/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStoreFixture, type StoreFixture, stockReserved } from './event-store-fixture.ts';

let fixture: StoreFixture;
beforeAll(async () => {
  fixture = await openStoreFixture('order');
});
afterAll(async () => {
  await fixture?.close();
});

describe('the global order', () => {
  it('lets a catch-up reader see every event exactly once, in order, while many writers append', async () => {
    // Two writers (two replicas) on the same database, 16 concurrent appenders, 40 streams.
    const writers = [fixture.store, fixture.openStore()];
    const streams = Array.from({ length: 40 }, () => `cart-${newEventId()}`);
    const appended = new Set<string>();
    let writing = true;

    const appender = async (index: number) => {
      for (let round = 0; round < 40; round++) {
        const streamId = streams[(index * 7 + round) % streams.length] as string;
        const events = Array.from({ length: 1 + ((index + round) % 3) }, () => stockReserved());
        const writer = writers[index % writers.length];
        await writer?.append({ streamId, expectedVersion: 'any', events });
        for (const event of events) appended.add(event.eventId);
      }
    };

    const seen: string[] = [];
    const reader = async () => {
      let position = 0;
      for (;;) {
        const stillWriting = writing;
        const page = await fixture.store.readAll(position, 100);
        for (const event of page.events) {
          // No gap, no repeat: each page continues exactly where the previous one stopped.
          expect(event.position).toBe(position + 1);
          position = event.position;
          seen.push(event.eventId);
        }
        if (!stillWriting && !page.hasMore) return;
      }
    };

    const reading = reader();
    await Promise.all(Array.from({ length: 16 }, (_, index) => appender(index)));
    writing = false;
    await reading;

    expect(seen.length).toBe(appended.size);
    expect(new Set(seen)).toEqual(appended);
    expect(await fixture.store.headPosition()).toBe(appended.size);
  });
});

describe('reads', () => {
  it('reads a stream from a version, as of a time, and by correlation id', async () => {
    const { store } = fixture;
    const streamId = `order-${newEventId()}`;
    const correlationId = newEventId();
    const first = await store.append({
      streamId,
      expectedVersion: 'no_stream',
      events: [stockReserved({ correlationId }), stockReserved({ correlationId })],
    });
    const between = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await store.append({ streamId, expectedVersion: 2, events: [stockReserved({ correlationId })] });

    const all = await store.readStream(streamId);
    expect(all.version).toBe(3);
    expect(all.events.map((event) => event.version)).toEqual([1, 2, 3]);
    expect(all.events[0]).toEqual(first.events[0]);

    const tail = await store.readStream(streamId, { fromVersion: 3 });
    expect(tail.events.map((event) => event.version)).toEqual([3]);
    const beyond = await store.readStream(streamId, { fromVersion: 9 });
    expect(beyond).toEqual({ streamId, version: 3, events: [] });

    const then = await store.readStream(streamId, { asOf: between });
    expect(then.version).toBe(2);
    expect(then.events.map((event) => event.version)).toEqual([1, 2]);

    expect(await store.readStream(`none-${newEventId()}`)).toMatchObject({ version: 0, events: [] });

    const correlated = await store.readByCorrelation(correlationId);
    expect(correlated.map((event) => event.version)).toEqual([1, 2, 3]);
    expect(correlated[0]).toMatchObject({
      streamId,
      correlationId,
      actor: 'test',
      schemaVersion: 1,
      causationId: null,
    });
  });
});
