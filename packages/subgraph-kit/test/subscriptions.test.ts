import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { parse } from 'graphql';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError, requireIdentity } from '../src/errors.ts';
import type { RequestContext } from '../src/graphql.ts';
import {
  SUBSCRIPTION_FORBIDDEN_CLOSE_CODE,
  type SubscriptionServer,
  serveSubscriptions,
} from '../src/subscriptions.ts';
import { subscriptionClient, TEST_INTERNAL_SECRET } from '../src/testing.ts';

async function* countdown(from: number, who: string) {
  for (let left = from; left > 0; left--) yield { tick: { left, who } };
}

// Built as services build theirs (graphql-ws must execute against the same graphql module).
const schema = buildSubgraphSchema({
  typeDefs: parse(`
    type Query { ok: Int }
    type Tick { left: Int!, who: String! }
    type Subscription { tick(from: Int!): Tick! }
  `),
  resolvers: {
    Subscription: {
      tick: {
        subscribe: (
          _root: unknown,
          args: { from: number },
          context: RequestContext & { service: string },
        ) => {
          const identity = requireIdentity(context.identity);
          if (args.from > 10)
            throw new DomainError('BAD_USER_INPUT', 'at most 10 ticks', { from: args.from });
          return countdown(args.from, `${identity.sub}@${context.service}`);
        },
      },
    },
  } as GraphQLResolverMap<unknown>,
});

let server: Server;
let subscriptions: SubscriptionServer;
let url: string;
const ada = { sub: 'ada', roles: ['customer'] as const };
const query = 'subscription ($from: Int!) { tick(from: $from) { left who } }';

beforeAll(async () => {
  server = createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  subscriptions = serveSubscriptions({
    server,
    schema,
    secret: TEST_INTERNAL_SECRET,
    logger: pino({ level: 'silent' }),
    context: (request) => ({ ...request, service: 'kit' }),
  });
});
afterAll(async () => {
  await subscriptions?.close();
  await new Promise((resolve) => server?.close(resolve));
});

describe('subscriptions over graphql-ws', () => {
  it('serves a connection signed in its connection_init payload, with the signed identity in the context', async () => {
    const client = subscriptionClient(url, { identity: ada });
    const answers = await client.collect(query, { from: 3 });
    await client.close();
    expect(answers).toEqual([
      { data: { tick: { left: 3, who: 'ada@kit' } } },
      { data: { tick: { left: 2, who: 'ada@kit' } } },
      { data: { tick: { left: 1, who: 'ada@kit' } } },
    ]);
  });

  it('serves a connection whose upgrade request is signed', async () => {
    const client = subscriptionClient(url, { identity: ada, signUpgrade: true });
    const answers = await client.collect(query, { from: 1 });
    await client.close();
    expect(answers).toEqual([{ data: { tick: { left: 1, who: 'ada@kit' } } }]);
  });

  it('closes an unsigned connection, or one signed with another secret, with 4403 Forbidden', async () => {
    for (const options of [{ unsigned: true }, { secret: 'not-the-internal-secret-at-all' }]) {
      const client = subscriptionClient(url, { identity: ada, ...options });
      const failure = await client.collect(query, { from: 1 }).catch((error: Error) => error);
      await client.close();
      expect(failure).toBeInstanceOf(Error);
      expect(((failure as Error).cause as { code?: number }).code).toBe(SUBSCRIPTION_FORBIDDEN_CLOSE_CODE);
    }
  });

  it('maps domain errors to their code, as for HTTP requests', async () => {
    const client = subscriptionClient(url, { identity: ada });
    const tooMany = await client.collect(query, { from: 11 });
    const anonymous = subscriptionClient(url);
    const unauthenticated = await anonymous.collect(query, { from: 1 });
    await Promise.all([client.close(), anonymous.close()]);
    expect(tooMany).toEqual([
      {
        errors: [
          {
            message: 'at most 10 ticks',
            path: ['tick'],
            extensions: { code: 'BAD_USER_INPUT', from: 11 },
          },
        ],
      },
    ]);
    expect(unauthenticated[0]?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
