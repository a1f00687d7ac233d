import { newEventId } from '@magasin/events';
import { eventually } from '@magasin/test-kit';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommandHandler } from '../src/command-handler.ts';
import { checkpointOf, startProjector } from '../src/projector.ts';
import { diffProjection, rebuildProjection } from '../src/rebuild.ts';
import { loadSubgraphConfig, type RunningSubgraph, runSubgraph } from '../src/subgraph.ts';
import { graphqlClient, startTestBackbone, type TestBackbone } from '../src/testing.ts';
import { catalogProjection, catalogResolvers, catalogTypeDefs, productDecider } from './fixture/catalog.ts';
import type { PrismaClient } from './fixture/src/generated/prisma/client.ts';

let backbone: TestBackbone;
let running: RunningSubgraph<PrismaClient>;
const admin = { sub: 'ada', roles: ['admin'] as const };

const start = async () => {
  const config = loadSubgraphConfig(
    'kit',
    { portEnv: 'KIT_PORT', port: 4099 },
    backbone.env('kit', 'KIT_PORT'),
  );
  return runSubgraph({
    name: 'kit',
    config: { ...config, port: 0 },
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    handleSignals: false,
    projection: catalogProjection,
    typeDefs: catalogTypeDefs,
    resolvers: catalogResolvers,
  });
};

beforeAll(async () => {
  backbone = await startTestBackbone('kit');
  running = await start();
});
afterAll(async () => {
  await running?.stop();
  await backbone?.stop();
});

const createProduct = `mutation ($id: ID!, $name: String!, $stock: Int!) {
  createProduct(id: $id, name: $name, initialStock: $stock) { id name stock }
}`;
const restock = `mutation ($id: ID!, $quantity: Int!) { restockProduct(id: $id, quantity: $quantity) { id stock } }`;

describe('mutations through the command handler', () => {
  it('answers with the state the decider produced and appends the events with the caller as actor', async () => {
    const gql = graphqlClient(running.url, { identity: admin, correlationId: 'corr-1' });
    const created = await gql(createProduct, { id: 'p1', name: 'Kettle', stock: 3 });
    expect(created).toEqual({ data: { createProduct: { id: 'p1', name: 'Kettle', stock: 3 } } });
    const restocked = await gql(restock, { id: 'p1', quantity: 2 });
    expect(restocked.data).toEqual({ restockProduct: { id: 'p1', stock: 5 } });
    const { events } = await backbone.eventStore.readStream('kit-product-p1');
    expect(events.map((e) => [e.type, e.version, e.actor, e.correlationId])).toEqual([
      ['ProductCreated', 1, 'ada', 'corr-1'],
      ['ProductRestocked', 2, 'ada', 'corr-1'],
    ]);
  });

  it('maps domain errors to codes, and masks unexpected errors', async () => {
    const gql = graphqlClient(running.url, { identity: admin });
    const unknown = await gql(restock, { id: 'nope', quantity: 1 });
    expect(unknown.errors?.[0]).toMatchObject({
      message: 'no product nope',
      extensions: { code: 'NOT_FOUND' },
    });
    const zero = await gql(restock, { id: 'p1', quantity: 0 });
    expect(zero.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const boom = await gql('{ boom }');
    expect(boom.errors?.[0]?.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    expect(JSON.stringify(boom)).not.toContain('hunter2');
    expect(JSON.stringify(boom)).not.toContain('stack');
  });

  it('refuses a customer (FORBIDDEN), an anonymous caller (UNAUTHENTICATED) and unsigned requests', async () => {
    const customer = graphqlClient(running.url, { identity: { sub: 'bob', roles: ['customer'] } });
    expect((await customer(restock, { id: 'p1', quantity: 1 })).errors?.[0]?.extensions?.code).toBe(
      'FORBIDDEN',
    );
    const anonymous = graphqlClient(running.url);
    expect((await anonymous(restock, { id: 'p1', quantity: 1 })).errors?.[0]?.extensions?.code).toBe(
      'UNAUTHENTICATED',
    );
    const unsigned = await fetch(`${running.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ product(id: "p1") { id } }' }),
    });
    expect(unsigned.status).toBe(401);
  });

  it('retries on a concurrent change: 20 concurrent restocks from two writers all land, in 20 distinct versions', async () => {
    // Two handlers: two processes (replicas) appending to the same stream.
    const writers = [1, 2].map(() =>
      createCommandHandler({ eventStore: backbone.eventStore, decider: productDecider, maxAttempts: 50 }),
    );
    const [first] = writers as [(typeof writers)[number]];
    await first.handle(
      'kit-product-race',
      { type: 'CreateProduct', productId: 'race', name: 'Race', initialStock: 0 },
      { correlationId: 'c', actor: 't' },
    );
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        writers[index % 2]?.handle(
          'kit-product-race',
          { type: 'RestockProduct', productId: 'race', quantity: 1 },
          { correlationId: 'c', actor: 't' },
        ),
      ),
    );
    const { state, version } = await first.load('kit-product-race');
    expect(state).toMatchObject({ status: 'active', stock: 20 });
    expect(version).toBe(21);
  });

  it('takes turns on a stream within one process: concurrent commands never conflict with each other', async () => {
    // One attempt only: a version conflict would fail the command.
    const handler = createCommandHandler({
      eventStore: backbone.eventStore,
      decider: productDecider,
      maxAttempts: 1,
    });
    const meta = { correlationId: 'c', actor: 't' };
    await handler.handle(
      'kit-product-turns',
      { type: 'CreateProduct', productId: 'turns', name: 'Turns', initialStock: 0 },
      meta,
    );
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, index) =>
        handler.handle(
          'kit-product-turns',
          // One bad command among them fails alone.
          { type: 'RestockProduct', productId: 'turns', quantity: index === 4 ? 0 : 1 },
          meta,
        ),
      ),
    );
    expect(results.map((result) => result.status)).toEqual(
      Array.from({ length: 10 }, (_, index) => (index === 4 ? 'rejected' : 'fulfilled')),
    );
    const { state, version } = await handler.load('kit-product-turns');
    expect(state).toMatchObject({ stock: 9 });
    expect(version).toBe(10);
  });

  it('appends the commands that queue on a stream together, and answers each with its own events', async () => {
    const appends: number[] = [];
    const eventStore = new Proxy(backbone.eventStore, {
      get: (target, property, receiver) =>
        property === 'append'
          ? (...args: Parameters<typeof target.append>) => {
              appends.push(args[2].length);
              return target.append(...args);
            }
          : Reflect.get(target, property, receiver),
    });
    const handler = createCommandHandler({ eventStore, decider: productDecider, maxAttempts: 1 });
    const meta = (index: number) => ({ correlationId: `c-${index}`, actor: `t-${index}` });
    await handler.handle(
      'kit-product-batch',
      { type: 'CreateProduct', productId: 'batch', name: 'Batch', initialStock: 0 },
      meta(0),
    );
    appends.length = 0;
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, index) =>
        handler.handle(
          'kit-product-batch',
          { type: 'RestockProduct', productId: 'batch', quantity: index === 4 ? 0 : index + 1 },
          meta(index + 1),
        ),
      ),
    );
    // The 10 queued at once go in one or two appends (the first may go alone), less the bad one.
    expect(appends.length).toBeLessThanOrEqual(2);
    expect(appends.reduce((sum, events) => sum + events, 0)).toBe(9);
    expect(results[4]).toMatchObject({ status: 'rejected', reason: { code: 'BAD_USER_INPUT' } });
    const answered = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    // Each in turn: its own event, with its own metadata, and the stock and version it left.
    expect(
      answered.map((result) => result.events.map((event) => [event.version, event.correlationId])),
    ).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10].map((quantity, turn) => [[turn + 2, `c-${quantity}`]]));
    expect(answered.map((result) => result.version)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(answered.map((result) => (result.state as { stock: number }).stock)).toEqual([
      1, 3, 6, 10, 16, 23, 31, 40, 50,
    ]);
    expect((await handler.load('kit-product-batch')).state).toMatchObject({ stock: 50 });
  });

  it('with a cache, sees events appended by another writer', async () => {
    const cached = createCommandHandler({
      eventStore: backbone.eventStore,
      decider: productDecider,
      cachedStreams: 100,
    });
    const other = createCommandHandler({ eventStore: backbone.eventStore, decider: productDecider });
    const meta = { correlationId: 'c', actor: 't' };
    await cached.handle(
      'kit-product-cached',
      { type: 'CreateProduct', productId: 'cached', name: 'C', initialStock: 1 },
      meta,
    );
    await other.handle(
      'kit-product-cached',
      { type: 'RestockProduct', productId: 'cached', quantity: 4 },
      meta,
    );
    const result = await cached.handle(
      'kit-product-cached',
      { type: 'RestockProduct', productId: 'cached', quantity: 1 },
      meta,
    );
    expect(result.state).toMatchObject({ stock: 6 });
    expect(result.version).toBe(3);
  });
});

describe('a command handler that keeps streams in memory', () => {
  /** The backbone's event store client, counting the streams it reads. */
  const countingReads = () => {
    const reads: string[] = [];
    const eventStore = new Proxy(backbone.eventStore, {
      get: (target, property, receiver) =>
        property === 'readStream'
          ? (streamId: string, options?: { fromVersion?: number }) => {
              reads.push(streamId);
              return target.readStream(streamId, options);
            }
          : Reflect.get(target, property, receiver),
    });
    return { eventStore, reads };
  };
  const meta = { correlationId: 'c', actor: 't' };

  it('creates a stream and decides on the state it keeps, without reading either', async () => {
    const { eventStore, reads } = countingReads();
    const handler = createCommandHandler({ eventStore, decider: productDecider, cachedStreams: 10 });
    await handler.handle(
      'kit-product-kept',
      { type: 'CreateProduct', productId: 'kept', name: 'K', initialStock: 1 },
      meta,
    );
    for (const quantity of [1, 2, 3]) {
      await handler.handle('kit-product-kept', { type: 'RestockProduct', productId: 'kept', quantity }, meta);
    }
    expect(reads).toEqual([]);
    const { events } = await backbone.eventStore.readStream('kit-product-kept');
    expect(events.map((event) => [event.type, event.version])).toEqual([
      ['ProductCreated', 1],
      ['ProductRestocked', 2],
      ['ProductRestocked', 3],
      ['ProductRestocked', 4],
    ]);
    const fresh = createCommandHandler({ eventStore: backbone.eventStore, decider: productDecider });
    expect((await fresh.load('kit-product-kept')).state).toMatchObject({ stock: 7 });
  });

  it('checks an error decided on kept state against the stream as read', async () => {
    const { eventStore, reads } = countingReads();
    const handler = createCommandHandler({ eventStore, decider: productDecider, cachedStreams: 10 });
    const restockLate = () =>
      handler.handle('kit-product-late', { type: 'RestockProduct', productId: 'late', quantity: 2 }, meta);
    await expect(restockLate()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Created by another writer: the kept state (no product) is behind.
    await createCommandHandler({ eventStore: backbone.eventStore, decider: productDecider }).handle(
      'kit-product-late',
      { type: 'CreateProduct', productId: 'late', name: 'L', initialStock: 5 },
      meta,
    );
    const result = await restockLate();
    expect(result.state).toMatchObject({ status: 'active', stock: 7 });
    expect(result.version).toBe(2);
    expect(reads).toEqual(['kit-product-late', 'kit-product-late']);
  });

  it('takes a stream it does not keep for a new one, and reads it when the append finds it exists', async () => {
    await createCommandHandler({ eventStore: backbone.eventStore, decider: productDecider }).handle(
      'kit-product-known',
      { type: 'CreateProduct', productId: 'known', name: 'Known', initialStock: 3 },
      meta,
    );
    const { eventStore, reads } = countingReads();
    const handler = createCommandHandler({ eventStore, decider: productDecider, cachedStreams: 10 });
    // Creating it again decides ProductCreated on a new stream; the append says it exists.
    const again = await handler.handle(
      'kit-product-known',
      { type: 'CreateProduct', productId: 'known', name: 'Known', initialStock: 3 },
      meta,
    );
    expect(again).toMatchObject({ state: { status: 'active', stock: 3 }, version: 1, events: [] });
    expect(reads).toEqual(['kit-product-known']);
    const { events } = await backbone.eventStore.readStream('kit-product-known');
    expect(events.map((event) => event.type)).toEqual(['ProductCreated']);
  });

  it('keeps at most as many streams as it is given, the most recently used', async () => {
    const { eventStore, reads } = countingReads();
    const handler = createCommandHandler({ eventStore, decider: productDecider, cachedStreams: 2 });
    const create = (id: string) =>
      handler.handle(
        `kit-product-lru-${id}`,
        { type: 'CreateProduct', productId: id, name: id, initialStock: 1 },
        meta,
      );
    const restockOf = (id: string) =>
      handler.handle(`kit-product-lru-${id}`, { type: 'RestockProduct', productId: id, quantity: 1 }, meta);
    for (const id of ['a', 'b', 'c']) await create(id);
    // c and b are kept; a was dropped and is read again.
    for (const id of ['c', 'b', 'a']) await restockOf(id);
    expect(reads).toEqual(['kit-product-lru-a']);
  });
});

describe('the projection follows the log', () => {
  it('applies every event once, in order, and a restarted service resumes from its checkpoint', async () => {
    const gql = graphqlClient(running.url, { identity: admin });
    await gql(createProduct, { id: 'p2', name: 'Teapot', stock: 1 });
    for (let i = 0; i < 5; i++) await gql(restock, { id: 'p2', quantity: 1 });
    await eventually(
      async () =>
        ((await gql('{ product(id: "p2") { stock } }')).data as { product?: { stock: number } })?.product
          ?.stock === 6 || undefined,
      { what: 'projection at 6' },
    );

    await running.stop();
    // Appended while the service is down: applied once when it is back.
    await backbone.eventStore.append('kit-product-p2', 'any', [
      {
        eventId: newEventId(),
        type: 'ProductRestocked',
        data: { productId: 'p2', quantity: 10 },
        correlationId: 'c',
        actor: 't',
      },
    ]);
    running = await start();
    const head = (await backbone.eventStore.readAll(0, { limit: 1000 })).nextPosition;
    await running.deps.projector.waitForPosition(head);
    const product = await running.deps.prisma.product.findUniqueOrThrow({ where: { id: 'p2' } });
    expect(product.stock).toBe(16);
  });

  it('moves its checkpoint over events it has no handler for, without reading them', async () => {
    const before = running.deps.projector.position();
    const appliedEvents = async () =>
      (await running.deps.registry.getSingleMetric('magasin_projection_events_total')?.get())?.values.reduce(
        (sum, value) => sum + value.value,
        0,
      );
    const appliedBefore = await appliedEvents();
    const orderId = newEventId();
    const appended = await backbone.eventStore.append(`order-${orderId}`, 'no_stream', [
      {
        eventId: newEventId(),
        type: 'StockReserved',
        data: { orderId, items: [{ productId: 'p2', quantity: 1 }] },
        correlationId: orderId,
        actor: 't',
      },
    ]);
    expect(appended.position).toBeGreaterThan(before);
    await running.deps.projector.waitForPosition(appended.position);
    expect(await checkpointOf(running.deps.prisma, catalogProjection.name)).toBe(appended.position);
    // Nothing was applied: the event store did not even send it.
    expect(await appliedEvents()).toBe(appliedBefore);
  });

  it("keeps a projection without handlers (the audit service's) at the head of the log", async () => {
    const head = (await backbone.eventStore.readAll(0, { limit: 1000 })).nextPosition;
    expect(head).toBeGreaterThan(0);
    const idle = await startProjector({
      projection: { ...catalogProjection, name: 'kit-handles-nothing', handlers: {} },
      prisma: running.deps.prisma,
      eventStore: backbone.eventStore,
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
      waitMs: 200,
    });
    try {
      await idle.waitForPosition(head);
      expect(await checkpointOf(running.deps.prisma, 'kit-handles-nothing')).toBe(head);
    } finally {
      await idle.stop();
    }
  });

  it('a rebuild from the log equals the live read model, and a tampered row shows as a difference', async () => {
    const head = (await backbone.eventStore.readAll(0, { limit: 1000 })).nextPosition;
    await running.deps.projector.waitForPosition(head);
    const rebuilt = await rebuildProjection({
      projection: catalogProjection,
      databaseUrl: backbone.serviceDatabase.url,
      eventStore: backbone.eventStore,
    });
    expect(rebuilt.position).toBe(head);
    expect(
      await diffProjection({ databaseUrl: backbone.serviceDatabase.url, schema: rebuilt.schema }),
    ).toEqual([]);

    await running.deps.prisma.product.update({ where: { id: 'p1' }, data: { stock: 999 } });
    const again = await rebuildProjection({
      projection: catalogProjection,
      databaseUrl: backbone.serviceDatabase.url,
      eventStore: backbone.eventStore,
    });
    const differences = await diffProjection({
      databaseUrl: backbone.serviceDatabase.url,
      schema: again.schema,
    });
    expect(differences).toHaveLength(2);
    expect(differences[0]).toContain('"stock":999');
  });

  it('a swapped rebuild repairs the live rows while the service runs, and the projector carries on', async () => {
    const swapped = await rebuildProjection({
      projection: catalogProjection,
      databaseUrl: backbone.serviceDatabase.url,
      eventStore: backbone.eventStore,
      swap: true,
    });
    expect(swapped.swapped).toBe(true);
    expect((await running.deps.prisma.product.findUniqueOrThrow({ where: { id: 'p1' } })).stock).toBe(5);
    const gql = graphqlClient(running.url, { identity: admin });
    await gql(restock, { id: 'p1', quantity: 1 });
    await eventually(
      async () =>
        (await running.deps.prisma.product.findUniqueOrThrow({ where: { id: 'p1' } })).stock === 6 ||
        undefined,
      { what: 'restock after swap' },
    );
  });
});
