/**
 * The gateway's subscriptions on the subgraphs: graphql-ws (`graphql-transport-ws`) to the
 * subgraph's `/graphql`, one WebSocket per subgraph and end user, carrying every subscription of
 * that user on that subgraph. The connection is signed like any internal request: the upgrade
 * request (GET /graphql) carries `x-magasin-signature`, `x-magasin-caller: gateway` and
 * `x-magasin-identity`, and `connection_init` carries the same headers as its payload, so a
 * subgraph can verify either with the service kit's `verifyInternalRequest`.
 */
import { CORRELATION_HEADER, type Identity, signInternalRequest } from '@magasin/service-kit';
import { type Client, createClient, type ExecutionResult, type Sink } from 'graphql-ws';
import type { Logger } from 'pino';
import WebSocket from 'ws';

/** Options of {@link createUpstreams}. */
export interface UpstreamOptions {
  /** INTERNAL_SECRET shared with the subgraphs. */
  secret: string;
  /** GraphQL HTTP endpoint of each subgraph by name; the WebSocket is the same URL in ws(s). */
  urlOf(subgraph: string): string;
  logger: Logger;
  /** Reconnections tried after a connection drops, resubscribing every live subscription; default 3. */
  retryAttempts?: number;
}

/** One subscription asked of a subgraph. */
export interface UpstreamRequest {
  subgraph: string;
  identity: Identity | undefined;
  correlationId: string;
  query: string;
  variables: Record<string, unknown>;
  operationName: string | undefined;
}

/** Opens and closes the gateway's subscriptions on subgraphs; see the module comment. */
export interface Upstreams {
  /** Subscribes; `sink` gets the subgraph's results. Returns the function that ends the subscription. */
  subscribe(
    request: UpstreamRequest,
    sink: Sink<ExecutionResult<Record<string, unknown>, unknown>>,
  ): () => void;
  /** WebSocket connections open or opening now. */
  readonly connections: number;
  /** Closes every connection (their subscriptions end). */
  close(): Promise<void>;
}

const CALLER = 'gateway';

const identityKey = (identity: Identity | undefined): string =>
  identity ? `${identity.sub}\u0000${[...identity.roles].sort().join(',')}` : '';

const websocketUrl = (httpUrl: string): URL => {
  const url = new URL(httpUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url;
};

/** The upgrade request's signed headers (fresh timestamp on every (re)connection). */
const signedHeaders = (secret: string, url: URL, identity: Identity | undefined, correlationId: string) => ({
  [CORRELATION_HEADER]: correlationId,
  ...signInternalRequest({
    secret,
    caller: CALLER,
    method: 'GET',
    path: `${url.pathname}${url.search}`,
    ...(identity ? { identity } : {}),
  }),
});

/** Subgraph subscriptions over shared, signed graphql-ws connections. */
export const createUpstreams = (options: UpstreamOptions): Upstreams => {
  const clients = new Map<string, { client: Client; users: number }>();

  const clientFor = (request: UpstreamRequest) => {
    const key = `${request.subgraph}\u0000${identityKey(request.identity)}`;
    const existing = clients.get(key);
    if (existing) return { key, entry: existing };
    const url = websocketUrl(options.urlOf(request.subgraph));
    let headers = signedHeaders(options.secret, url, request.identity, request.correlationId);
    // graphql-ws constructs the socket as `new WebSocketImpl(url, protocol)`: this one adds the
    // signed headers to the upgrade request.
    class SignedWebSocket extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        headers = signedHeaders(options.secret, url, request.identity, request.correlationId);
        super(address, protocols, { headers });
      }
    }
    const client = createClient({
      url: url.toString(),
      webSocketImpl: SignedWebSocket,
      lazy: true,
      lazyCloseTimeout: 0,
      keepAlive: 10_000,
      retryAttempts: options.retryAttempts ?? 3,
      connectionParams: () => headers,
      on: {
        closed: (event) => {
          const { code, reason } = event as { code?: number; reason?: string };
          if (code !== 1000) {
            options.logger.debug({ subgraph: request.subgraph, code, reason }, 'subgraph WebSocket closed');
          }
        },
      },
    });
    const entry = { client, users: 0 };
    clients.set(key, entry);
    return { key, entry };
  };

  return {
    subscribe(request, sink) {
      const { key, entry } = clientFor(request);
      entry.users += 1;
      const unsubscribe = entry.client.subscribe(
        {
          query: request.query,
          variables: request.variables,
          ...(request.operationName ? { operationName: request.operationName } : {}),
        },
        sink,
      );
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        unsubscribe();
        entry.users -= 1;
        if (entry.users === 0 && clients.get(key) === entry) {
          clients.delete(key);
          void entry.client.dispose();
        }
      };
    },
    get connections() {
      return clients.size;
    },
    async close() {
      const entries = [...clients.values()];
      clients.clear();
      await Promise.all(entries.map((entry) => entry.client.dispose()));
    },
  };
};
