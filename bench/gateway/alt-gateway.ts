/**
 * A gateway to compare Magasin's with, run as its own process by `throughput.ts` (so that it
 * gets a process of its own like Magasin's gateway, away from the load generator), over the
 * same subgraphs:
 *
 *  - `apollo`: a stock `ApolloGateway` with default options behind Apollo Server's standalone
 *    server; the only addition is what the subgraphs require, a `RemoteGraphQLDataSource` whose
 *    `willSendRequest` signs each request (service kit `signInternalRequest`) for the caller.
 *  - `hive` / `hive-nodedup`: the Hive Gateway runtime (`@graphql-hive/gateway-runtime` with
 *    `@graphql-mesh/transport-http`) with an `onFetch` plugin that signs each request; its
 *    in-flight request deduplication on (its default) or off.
 *  - `magasin-nodedup`: Magasin's own gateway with `SUBGRAPH_DEDUPLICATION=false`, to show what
 *    its in-flight deduplication is worth.
 *
 * The caller's `Authorization: Bearer <dev JWT>` is verified (HS256, issuer, audience, expiry)
 * once per request. `node --import tsx alt-gateway.ts <kind>` with SUPERGRAPH_FILE (the
 * supergraph with the subgraphs' real URLs) and INTERNAL_SECRET; prints `listening <port>`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import {
  ApolloGateway,
  type GraphQLDataSourceProcessOptions,
  RemoteGraphQLDataSource,
} from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { loadGatewayConfig, startGateway } from '@magasin/gateway';
import { DEV_INTERNAL_SECRET, type Identity, signInternalRequest } from '@magasin/service-kit';
import { pino } from 'pino';
import { Registry } from 'prom-client';

const kind = process.argv[2] ?? 'apollo';
const supergraphSdl = readFileSync(process.env.SUPERGRAPH_FILE as string, 'utf8');
const secret = process.env.INTERNAL_SECRET ?? DEV_INTERNAL_SECRET;
const jwtSecret = process.env.JWT_SECRET ?? 'magasin-dev-jwt-secret';
const CALLER = 'gateway';

/** The identity of `Bearer <HS256 JWT>`, undefined when absent or not valid. */
const identityOf = (authorization: string | null | undefined): Identity | undefined => {
  const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
  const [header, payload, signature] = token?.split('.') ?? [];
  if (!header || !payload || !signature) return undefined;
  const expected = createHmac('sha256', jwtSecret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
    sub?: string;
    roles?: Identity['roles'];
    exp?: number;
    iss?: string;
    aud?: string | string[];
  };
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!claims.sub || !claims.roles || claims.iss !== 'magasin-dev' || !audience.includes('magasin'))
    return undefined;
  if (claims.exp !== undefined && claims.exp * 1000 < Date.now()) return undefined;
  return { sub: claims.sub, roles: claims.roles };
};

interface Context {
  identity: Identity | undefined;
}

/** Apollo's remote data source, signing each request as Magasin's subgraphs require. */
class SignedDataSource extends RemoteGraphQLDataSource<Context> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<Context>): void {
    // The body exactly as RemoteGraphQLDataSource serializes it: { query, ...the rest but http }.
    const { query, http, ...rest } = request;
    const body = JSON.stringify({ query, ...rest });
    const signed = signInternalRequest({
      secret,
      caller: CALLER,
      method: 'POST',
      path: new URL(this.url as string).pathname,
      body,
      ...(context.identity ? { identity: context.identity } : {}),
    });
    for (const [name, value] of Object.entries(signed)) http?.headers.set(name, value);
  }
}

const listening = (port: number) => console.log(`listening ${port}`);

if (kind === 'apollo') {
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ url }) => new SignedDataSource({ url }),
  });
  const server = new ApolloServer<Context>({ gateway });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => ({ identity: identityOf(req.headers.authorization) }),
  });
  listening(Number(new URL(url).port));
} else if (kind === 'hive' || kind === 'hive-nodedup') {
  const identities = new WeakMap<object, Identity | undefined>();
  const runtime = createGatewayRuntime({
    supergraph: supergraphSdl,
    logging: false,
    graphiql: false,
    landingPage: false,
    ...(kind === 'hive-nodedup'
      ? { transportEntries: { '*.http': { options: { deduplicateInflightRequests: false } } } }
      : {}),
    plugins: () => [
      {
        onFetch({ url, options, setOptions, context }) {
          const request = (context as { request?: Request } | undefined)?.request;
          let identity: Identity | undefined;
          if (request) {
            if (!identities.has(request))
              identities.set(request, identityOf(request.headers.get('authorization')));
            identity = identities.get(request);
          }
          const body = typeof options.body === 'string' ? options.body : undefined;
          const signed = signInternalRequest({
            secret,
            caller: CALLER,
            method: options.method ?? 'POST',
            path: new URL(url).pathname,
            ...(body === undefined ? {} : { body }),
            ...(identity ? { identity } : {}),
          });
          setOptions({ ...options, headers: { ...options.headers, ...signed } });
        },
      },
    ],
  });
  const server = createServer(runtime);
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    listening(typeof address === 'object' && address ? address.port : 0);
  });
} else if (kind === 'magasin-nodedup') {
  // Only what the comparison needs: the subgraphs' URLs come from the supergraph file.
  const config = loadGatewayConfig({
    INTERNAL_SECRET: secret,
    JWT_SECRET: jwtSecret,
    SUPERGRAPH_PATH: process.env.SUPERGRAPH_FILE,
    SUBGRAPH_DEDUPLICATION: 'false',
    AUDIT_MUTATIONS: 'false',
    PLAYGROUND: 'false',
  });
  const gateway = await startGateway({
    config: { ...config, port: 0 },
    logger: pino({ level: 'warn' }),
    registry: new Registry(),
  });
  listening(Number(new URL(gateway.url).port));
} else {
  throw new Error(`unknown gateway kind ${kind}: apollo, hive, hive-nodedup or magasin-nodedup`);
}
