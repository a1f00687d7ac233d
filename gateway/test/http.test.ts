import { signInternalRequest } from '@magasin/service-kit';
import { SignJWT } from 'jose';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASKED_MESSAGE } from '../src/errors.ts';
import type { RunningGateway } from '../src/server.ts';
import { SignedSubgraphSource } from '../src/subgraph-source.ts';
import { FIXTURE_SECRET, type FixtureSubgraphs, startFixtureSubgraphs } from './fixture/subgraphs.ts';
import { codes, logger, post, startTestGateway, token } from './helpers.ts';

let fixture: FixtureSubgraphs;
let gateway: RunningGateway;
const registry = new Registry();
let alice: string;
let bob: string;
let admin: string;
let auditor: string;

beforeAll(async () => {
  fixture = await startFixtureSubgraphs();
  gateway = await startTestGateway(fixture, { OPERATION_TIMEOUT_MS: '1000' }, registry);
  const { world } = fixture;
  world.products.set('p1', { id: 'p1', name: 'Kettle', priceCents: 2_500, available: 4 });
  world.products.set('p2', { id: 'p2', name: 'Teapot', priceCents: 1_800, available: 9 });
  world.orders.set('o1', {
    id: 'o1',
    customerId: 'alice',
    lines: [
      { productId: 'p1', quantity: 2 },
      { productId: 'p2', quantity: 1 },
    ],
    status: 'CONFIRMED',
  });
  world.orders.set('o2', {
    id: 'o2',
    customerId: 'alice',
    lines: [{ productId: 'p2', quantity: 3 }],
    status: 'PENDING',
  });
  world.orders.set('o3', {
    id: 'o3',
    customerId: 'bob',
    lines: [{ productId: 'p1', quantity: 1 }],
    status: 'PENDING',
  });
  world.payments.set('o1', { id: 'pay-1', status: 'CAPTURED' });
  [alice, bob, admin, auditor] = await Promise.all([
    token('alice', ['customer']),
    token('bob', ['customer']),
    token('ada', ['admin']),
    token('audrey', ['auditor']),
  ]);
});
afterAll(async () => {
  await gateway?.stop();
  await fixture?.stop();
});

const ordersAcrossSubgraphs = `query MyOrders {
  orders { id totalCents status lines { quantity product { name priceCents } } payment { status amountCents } }
}`;

describe('federated queries', () => {
  it('resolves a query across store, inventory and payment', async () => {
    const answer = await post(gateway, ordersAcrossSubgraphs, { token: alice });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      data: {
        orders: [
          {
            id: 'o1',
            totalCents: 6_800,
            status: 'CONFIRMED',
            lines: [
              { quantity: 2, product: { name: 'Kettle', priceCents: 2_500 } },
              { quantity: 1, product: { name: 'Teapot', priceCents: 1_800 } },
            ],
            payment: { status: 'CAPTURED', amountCents: 6_800 },
          },
          {
            id: 'o2',
            totalCents: 5_400,
            status: 'PENDING',
            lines: [{ quantity: 3, product: { name: 'Teapot', priceCents: 1_800 } }],
            payment: null,
          },
        ],
      },
    });
  });

  it('fetches the entities of a whole list in one request per subgraph', async () => {
    const correlationId = 'batch-check-1';
    const answer = await post(gateway, ordersAcrossSubgraphs, {
      token: admin,
      headers: { 'x-correlation-id': correlationId },
    });
    expect(answer.body.errors).toBeUndefined();
    const received = fixture.world.requests.filter((request) => request.correlationId === correlationId);
    expect(received.map((request) => [request.subgraph, request.representations]).sort()).toEqual([
      ['inventory', 4],
      ['payment', 3],
      ['store', 0],
    ]);
  });

  it('signs each subgraph request as the gateway, for the verified caller, with the correlation id', async () => {
    const answer = await post(gateway, '{ orders { id } }', {
      token: alice,
      headers: { 'x-correlation-id': 'corr-signed-1' },
    });
    expect(answer.headers.get('x-correlation-id')).toBe('corr-signed-1');
    const request = fixture.world.requests.find((r) => r.correlationId === 'corr-signed-1');
    expect(request).toMatchObject({
      subgraph: 'store',
      caller: 'gateway',
      identity: { sub: 'alice', roles: ['customer'] },
    });
  });

  it('gives an operation without a correlation id a new one, sent to subgraphs and returned', async () => {
    const answer = await post(gateway, '{ products { id } }');
    const correlationId = answer.headers.get('x-correlation-id');
    expect(correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fixture.world.requests.some((request) => request.correlationId === correlationId)).toBe(true);
  });
});

describe('authorization (the subgraphs decide, the gateway relays their refusals)', () => {
  it('lets an anonymous caller read the catalog', async () => {
    const answer = await post(gateway, '{ products { name } }');
    expect(answer.body).toEqual({ data: { products: [{ name: 'Kettle' }, { name: 'Teapot' }] } });
  });

  it('refuses an anonymous caller what needs a token', async () => {
    const answer = await post(gateway, '{ orders { id } }');
    expect(codes(answer.body)).toEqual(['UNAUTHENTICATED']);
    expect(answer.body.data).toBeNull();
  });

  it('refuses a caller with the wrong role', async () => {
    const answer = await post(gateway, '{ orders { id } }', { token: auditor });
    expect(codes(answer.body)).toEqual(['FORBIDDEN']);
    expect(answer.body.errors?.[0]?.message).toMatch(/customer or admin/);
  });

  it("refuses someone else's order", async () => {
    const answer = await post(gateway, '{ order(id: "o1") { id totalCents } }', { token: bob });
    expect(codes(answer.body)).toEqual(['FORBIDDEN']);
    expect(answer.body.data).toEqual({ order: null });
  });

  it('lets an admin see any order', async () => {
    const answer = await post(gateway, '{ order(id: "o3") { customerId } }', { token: admin });
    expect(answer.body).toEqual({ data: { order: { customerId: 'bob' } } });
  });

  it('relays no internal detail of a subgraph error', async () => {
    const answer = await post(gateway, '{ order(id: "o1") { id } }', { token: bob });
    expect(Object.keys(answer.body.errors?.[0]?.extensions ?? {})).toEqual(['code']);
  });
});

describe('tokens', () => {
  const refusal = async (authorization: string) => {
    const answer = await post(gateway, '{ products { id } }', { headers: { authorization } });
    expect(answer.status).toBe(401);
    expect(codes(answer.body)).toEqual(['UNAUTHENTICATED']);
    expect(answer.body.data).toBeUndefined();
    return answer.body.errors?.[0]?.message;
  };

  it('refuses a forged token (signed with another secret)', async () => {
    const forged = await token('mallory', ['admin'], { secret: 'not-the-gateway-secret-at-all' });
    expect(await refusal(`Bearer ${forged}`)).toBe('the token signature is invalid');
  });

  it('refuses an expired token', async () => {
    const expired = await token('alice', ['customer'], { ttl: '60s', now: Date.now() - 3_600_000 });
    expect(await refusal(`Bearer ${expired}`)).toBe('the token has expired');
  });

  it('refuses an unsigned token (alg none)', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const claims = Buffer.from(
      JSON.stringify({
        sub: 'mallory',
        roles: ['admin'],
        iss: 'magasin-dev',
        aud: 'magasin',
        exp: 9_999_999_999,
      }),
    ).toString('base64url');
    expect(await refusal(`Bearer ${header}.${claims}.`)).toBe(
      'the token is not signed with an accepted algorithm',
    );
  });

  it('refuses a token of another issuer or audience', async () => {
    const secret = new TextEncoder().encode('magasin-dev-jwt-secret');
    const foreign = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setIssuer('someone-else')
      .setAudience('magasin')
      .setExpirationTime('1h')
      .sign(secret);
    expect(await refusal(`Bearer ${foreign}`)).toBe("the token's iss claim is not accepted");
  });

  it('refuses an Authorization header that is not a bearer token', async () => {
    expect(await refusal('Basic YWxpY2U6cGFzc3dvcmQ=')).toBe(
      'the Authorization header must be "Bearer <token>"',
    );
  });

  it('grants nothing for roles the system does not know', async () => {
    const odd = await new SignJWT({ roles: ['customer', 'superuser'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setIssuer('magasin-dev')
      .setAudience('magasin')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('magasin-dev-jwt-secret'));
    const answer = await post(gateway, '{ orders { id } }', {
      token: odd,
      headers: { 'x-correlation-id': 'corr-odd-roles' },
    });
    expect(answer.body.errors).toBeUndefined();
    const request = fixture.world.requests.find((r) => r.correlationId === 'corr-odd-roles');
    expect(request?.identity).toEqual({ sub: 'alice', roles: ['customer'] });
  });
});

describe('protection', () => {
  let strict: RunningGateway;
  let closed: RunningGateway;
  beforeAll(async () => {
    strict = await startTestGateway(fixture, {
      MAX_QUERY_DEPTH: '3',
      MAX_ALIASES: '4',
      MAX_TOKENS: '120',
      MAX_DIRECTIVES: '3',
      MAX_BODY_BYTES: '4000',
    });
    closed = await startTestGateway(fixture, { INTROSPECTION: 'false' });
  });
  afterAll(async () => {
    await strict?.stop();
    await closed?.stop();
  });

  const refused = async (target: RunningGateway, query: string) => {
    const answer = await post(target, query, { token: alice });
    expect(answer.status).toBe(400);
    expect(answer.body.data).toBeUndefined();
    return answer.body.errors ?? [];
  };

  it('accepts what stays within the limits', async () => {
    const answer = await post(strict, '{ a: products { name } b: products { id } }', { token: alice });
    expect(answer.body.errors).toBeUndefined();
  });

  it('refuses a query nested too deep with QUERY_TOO_DEEP', async () => {
    const errors = await refused(strict, '{ orders { lines { product { name } } } }');
    expect(errors).toEqual([
      {
        message: 'the operation nests selections more than 3 levels deep (limit 3)',
        extensions: { code: 'QUERY_TOO_DEEP' },
      },
    ]);
  });

  it('counts the depth of fragments where they are spread', async () => {
    const errors = await refused(
      strict,
      `query Deep { orders { ...Lines } }
       fragment Lines on Order { lines { ... on OrderLine { product { name } } } }`,
    );
    expect(codes({ errors })).toEqual(['QUERY_TOO_DEEP']);
    expect(errors[0]?.message).toMatch(/^operation Deep nests/);
  });

  it('refuses a wide-alias query with TOO_MANY_ALIASES', async () => {
    const wide = `{ ${Array.from({ length: 5 }, (_, i) => `p${i}: products { id }`).join(' ')} }`;
    const errors = await refused(strict, wide);
    expect(errors).toEqual([
      {
        message: 'the operation uses more than 4 aliases (limit 4)',
        extensions: { code: 'TOO_MANY_ALIASES' },
      },
    ]);
  });

  it('refuses a document of too many tokens with TOO_MANY_TOKENS', async () => {
    const long = `{ products { ${'id '.repeat(200)} } }`;
    const errors = await refused(strict, long);
    expect(errors).toEqual([
      {
        message: 'the document has more than 120 tokens (limit 120)',
        extensions: { code: 'TOO_MANY_TOKENS' },
      },
    ]);
  });

  it('refuses too many directives with TOO_MANY_DIRECTIVES', async () => {
    const errors = await refused(
      strict,
      '{ products { id @skip(if: false) @include(if: true) name @skip(if: false) sku @skip(if: false) } }',
    );
    expect(codes({ errors })).toEqual(['TOO_MANY_DIRECTIVES']);
  });

  it('refuses an oversized body with PAYLOAD_TOO_LARGE', async () => {
    const answer = await post(strict, `{ products { id } } # ${'x'.repeat(5_000)}`, { token: alice });
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual({
      errors: [
        {
          message: 'the request body is larger than 4000 bytes (limit 4000)',
          extensions: { code: 'PAYLOAD_TOO_LARGE' },
        },
      ],
    });
  });

  it('allows introspection when configured, and refuses it with INTROSPECTION_DISABLED otherwise', async () => {
    const query = '{ __schema { queryType { name } } }';
    expect((await post(gateway, query)).body).toEqual({
      data: { __schema: { queryType: { name: 'Query' } } },
    });
    const errors = await refused(closed, query);
    expect(codes({ errors })).toEqual(['INTROSPECTION_DISABLED']);
    expect((await post(closed, '{ products { __typename } }')).body.errors).toBeUndefined();
  });

  it('prevents cross-site request forgery: a simple GET is refused, a JSON POST is served', async () => {
    const simple = await fetch(`${gateway.url}/graphql?query=${encodeURIComponent('{ products { id } }')}`);
    expect(simple.status).toBe(400);
    expect(await simple.text()).toMatch(/Cross-Site Request Forgery/);
    const preflighted = await fetch(
      `${gateway.url}/graphql?query=${encodeURIComponent('{ products { id } }')}`,
      {
        headers: { 'apollo-require-preflight': 'true' },
      },
    );
    expect(preflighted.status).toBe(200);
  });

  it('stops an operation past OPERATION_TIMEOUT_MS with OPERATION_TIMEOUT, and its subgraph request', async () => {
    const answer = await post(gateway, '{ slowProducts(delayMs: 3000) { id } }');
    expect(answer.status).toBe(504);
    expect(answer.body.errors).toEqual([
      {
        message: 'the operation took longer than 1000 ms and was stopped',
        extensions: { code: 'OPERATION_TIMEOUT' },
      },
    ]);
    await expect.poll(() => fixture.world.abandonedSlowRequests).toBe(1);
  });

  it('masks unexpected errors: no internal message, no stack, no service name', async () => {
    const answer = await post(gateway, '{ broken }');
    expect(answer.body).toEqual({
      data: { broken: null },
      errors: [{ message: MASKED_MESSAGE, path: ['broken'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    });
    expect(JSON.stringify(answer.body)).not.toMatch(/hunter2|db-internal|inventory|stack/);
  });

  it('refuses a subscription over HTTP, pointing at the WebSocket', async () => {
    const errors = await refused(gateway, 'subscription { orderSaga(orderId: "o1") { status } }');
    expect(codes({ errors })).toEqual(['OPERATION_NOT_SUPPORTED']);
  });

  it('answers SUBGRAPH_UNAVAILABLE when a subgraph cannot be reached', async () => {
    const { buildFederatedSchema } = await import('../src/supergraph.ts');
    const { startGateway } = await import('../src/server.ts');
    const { loadGatewayConfig } = await import('../src/config.ts');
    const { logger } = await import('./helpers.ts');
    const lonely = await startGateway({
      config: {
        ...loadGatewayConfig({
          INTERNAL_SECRET: FIXTURE_SECRET,
          PLAYGROUND: 'false',
          AUDIT_MUTATIONS: 'false',
        }),
        port: 0,
      },
      logger,
      registry: new Registry(),
      handleSignals: false,
      schema: buildFederatedSchema(fixture.supergraphSdl),
      subgraphUrls: { ...fixture.urls, inventory: 'http://127.0.0.1:9/graphql' },
    });
    try {
      const answer = await post(lonely, '{ products { id } }');
      expect(answer.body).toEqual({
        data: null,
        errors: [
          {
            message: 'a service needed for this operation is unavailable; try again later',
            extensions: { code: 'SUBGRAPH_UNAVAILABLE' },
          },
        ],
      });
    } finally {
      await lonely.stop();
    }
  });
});

describe('subgraphs', () => {
  it('refuse a direct unsigned call', async () => {
    const response = await fetch(fixture.urls.store as string, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ orders { id } }' }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
  });

  it('refuse a call signed with another secret', async () => {
    const body = JSON.stringify({ query: '{ orders { id } }' });
    const response = await fetch(fixture.urls.store as string, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signInternalRequest({
          secret: 'a-guessed-secret-0000000000',
          caller: 'gateway',
          method: 'POST',
          path: '/graphql',
          body,
          identity: { sub: 'mallory', roles: ['admin'] },
        }),
      },
      body,
    });
    expect(response.status).toBe(401);
  });
});

describe('operations', () => {
  it('serves /healthz, /readyz and /metrics with GraphQL durations by operation', async () => {
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
    await post(gateway, 'query CatalogForMetrics { products { id } }');
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(
      /magasin_graphql_request_duration_seconds_count\{operation="CatalogForMetrics",type="query",outcome="ok"[^}]*\} 1/,
    );
  });
});

describe('in-flight deduplication of subgraph queries', () => {
  // A gateway of its own, whose operations may outlast the slow query.
  const metrics = new Registry();
  let merging: RunningGateway;
  beforeAll(async () => {
    merging = await startTestGateway(fixture, { OPERATION_TIMEOUT_MS: '15000' }, metrics);
  });
  afterAll(async () => {
    await merging?.stop();
  });
  // Long enough for every request of a test to join the first one, even on a loaded machine.
  const slow = 'query Slow { slowProducts(delayMs: 1500) { id name } }';
  const slowRequests = (correlationIds: readonly string[]) =>
    fixture.world.requests.filter(
      (request) =>
        request.query.includes('slowProducts') && correlationIds.includes(request.correlationId ?? ''),
    );
  const deduplicated = async () =>
    (
      await metrics.getSingleMetric('magasin_gateway_subgraph_requests_deduplicated_total')?.get()
    )?.values.find((value) => value.labels.subgraph === 'inventory')?.value ?? 0;

  it('sends identical queries of one user once, and gives every client the whole answer', async () => {
    const before = await deduplicated();
    const ids = ['dedup-1', 'dedup-2', 'dedup-3', 'dedup-4', 'dedup-5'];
    const answers = await Promise.all(
      ids.map((id) => post(merging, slow, { token: alice, headers: { 'x-correlation-id': id } })),
    );
    for (const answer of answers) {
      expect(answer.body).toEqual({
        data: {
          slowProducts: [
            { id: 'p1', name: 'Kettle' },
            { id: 'p2', name: 'Teapot' },
          ],
        },
      });
    }
    expect(slowRequests(ids)).toHaveLength(1);
    expect((await deduplicated()) - before).toBe(4);
  });

  it('never shares an answer between two users', async () => {
    const ids = ['dedup-alice', 'dedup-bob', 'dedup-anonymous'];
    await Promise.all([
      post(merging, slow, { token: alice, headers: { 'x-correlation-id': ids[0] as string } }),
      post(merging, slow, { token: bob, headers: { 'x-correlation-id': ids[1] as string } }),
      post(merging, slow, { headers: { 'x-correlation-id': ids[2] as string } }),
    ]);
    expect(
      slowRequests(ids)
        .map((request) => request.identity?.sub ?? 'anonymous')
        .sort(),
    ).toEqual(['alice', 'anonymous', 'bob']);
  });

  it('keeps a shared request going while one of its clients still waits', async () => {
    const abandoned = fixture.world.abandonedSlowRequests;
    const leaving = new AbortController();
    const ids = ['dedup-leaves', 'dedup-stays'];
    const left = fetch(`${merging.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${alice}`,
        'x-correlation-id': ids[0] as string,
      },
      body: JSON.stringify({ query: slow }),
      signal: leaving.signal,
    }).catch((error: unknown) => error);
    await expect.poll(() => slowRequests(ids).length).toBe(1);
    const joined = await deduplicated();
    const stays = post(merging, slow, { token: alice, headers: { 'x-correlation-id': ids[1] as string } });
    // The second client has joined the first one's request before the first goes away.
    await expect.poll(deduplicated).toBe(joined + 1);
    leaving.abort();
    expect(await left).toBeInstanceOf(Error);
    expect((await stays).body.data?.slowProducts).toHaveLength(2);
    expect(slowRequests(ids)).toHaveLength(1);
    expect(fixture.world.abandonedSlowRequests).toBe(abandoned);
  });

  it('never merges mutations', async () => {
    const source = new SignedSubgraphSource({
      name: 'inventory',
      url: fixture.urls.inventory as string,
      secret: FIXTURE_SECRET,
      logger,
    });
    try {
      const context = {
        identity: { sub: 'ada', roles: ['admin'] as const },
        correlationId: 'dedup-mutation',
      };
      await Promise.all([
        source.send({ query: 'mutation Twice { restock }' }, context),
        source.send({ query: 'mutation Twice { restock }' }, context),
      ]);
      expect(
        fixture.world.requests.filter((request) => request.correlationId === 'dedup-mutation'),
      ).toHaveLength(2);
    } finally {
      await source.close();
    }
  });

  it('sends every query itself when SUBGRAPH_DEDUPLICATION is off', async () => {
    const plain = await startTestGateway(fixture, { SUBGRAPH_DEDUPLICATION: 'false' });
    try {
      const ids = ['nodedup-1', 'nodedup-2', 'nodedup-3'];
      await Promise.all(
        ids.map((id) => post(plain, slow, { token: alice, headers: { 'x-correlation-id': id } })),
      );
      expect(slowRequests(ids)).toHaveLength(3);
    } finally {
      await plain.stop();
    }
  });
});
