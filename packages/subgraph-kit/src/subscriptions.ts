/**
 * GraphQL subscriptions of a subgraph over graphql-ws, on the service's own HTTP server and path
 * (`/graphql`), with the same schema as queries and mutations. Only peers may connect: the
 * WebSocket upgrade request, or else the `connection_init` payload, must carry the internal
 * signature of the service kit (signed as `GET <path>` with an empty body), exactly like a
 * signed HTTP request; anything else is closed with `4403 Forbidden`. The identity the signer
 * vouched for is in every resolver's context, as for HTTP requests.
 */
import type { IncomingMessage, Server } from 'node:http';
import {
  CORRELATION_HEADER,
  type Identity,
  INTERNAL_HEADERS,
  signInternalRequest,
  type Verification,
  verifyInternalRequest,
} from '@magasin/service-kit';
import type { GraphQLError, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { formatErrorWith, type RequestContext } from './graphql.ts';

/** Close code sent to a connection that is not signed (graphql-ws `CloseCode.Forbidden`). */
export const SUBSCRIPTION_FORBIDDEN_CLOSE_CODE = 4403;

/** Options of {@link serveSubscriptions}. */
export interface SubscriptionServerOptions<Context extends RequestContext> {
  /** The service's HTTP server (the kit's `RunningService.server`). */
  server: Server;
  /** Path of the WebSocket endpoint; default `/graphql`. */
  path?: string;
  /** The subgraph's executable schema (its `Subscription` fields are served). */
  schema: GraphQLSchema;
  /** `INTERNAL_SECRET`: connections must be signed with it. */
  secret: string;
  logger: Logger;
  /** Builds the context of each subscription from the connection's identity and correlation id. */
  context: (request: RequestContext) => Context | Promise<Context>;
  /** Keep-alive ping interval; default 12 000 ms (graphql-ws default). */
  keepAliveMs?: number;
}

/** A running subscription endpoint. */
export interface SubscriptionServer {
  /** Closes every connection (`1001 Going away`, completing their subscriptions) and stops accepting. */
  close(): Promise<void>;
}

/** What a verified connection keeps for its subscriptions. */
type ConnectionExtra = {
  identity?: Identity | undefined;
  correlationId?: string;
};

const headerOf = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

/** Signature headers carried by a `connection_init` payload (flat, or under `headers`). */
const signatureParams = (params: unknown): Record<string, string> => {
  if (params === null || typeof params !== 'object') return {};
  const holder = params as Record<string, unknown>;
  const source =
    holder.headers !== null && typeof holder.headers === 'object'
      ? (holder.headers as Record<string, unknown>)
      : holder;
  const headers: Record<string, string> = {};
  for (const name of [...Object.values(INTERNAL_HEADERS), CORRELATION_HEADER]) {
    const value = source[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
};

/** Verifies the upgrade request, else the `connection_init` payload, as a signed `GET <url>`. */
const verifyConnection = (
  secret: string,
  request: IncomingMessage,
  connectionParams: unknown,
): { verification: Verification; correlationId: string | undefined } => {
  const path = request.url ?? '/';
  const upgraded = verifyInternalRequest({ secret, method: 'GET', path, headers: request.headers });
  if (upgraded.ok || headerOf(request.headers[INTERNAL_HEADERS.signature]) !== undefined) {
    return { verification: upgraded, correlationId: headerOf(request.headers[CORRELATION_HEADER]) };
  }
  const params = signatureParams(connectionParams);
  return {
    verification: verifyInternalRequest({ secret, method: 'GET', path, headers: params }),
    correlationId: params[CORRELATION_HEADER],
  };
};

/**
 * The `connection_init` payload that signs a subscription connection to `path` (default
 * `/graphql`) as `caller`, for `identity` when given: pass it as graphql-ws `connectionParams`.
 * The same headers may instead be sent on the upgrade request. Signatures are time-stamped:
 * build the payload when connecting (graphql-ws accepts a function).
 */
export const signedConnectionParams = (options: {
  secret: string;
  caller: string;
  identity?: Identity;
  path?: string;
  correlationId?: string;
}): { headers: Record<string, string> } => ({
  headers: {
    ...signInternalRequest({
      secret: options.secret,
      caller: options.caller,
      method: 'GET',
      path: options.path ?? '/graphql',
      ...(options.identity ? { identity: options.identity } : {}),
    }),
    ...(options.correlationId ? { [CORRELATION_HEADER]: options.correlationId } : {}),
  },
});

/** Serves the schema's subscriptions over graphql-ws on `server`; see the module comment. */
export const serveSubscriptions = <Context extends RequestContext>(
  options: SubscriptionServerOptions<Context>,
): SubscriptionServer => {
  const { logger } = options;
  const format = formatErrorWith(logger);
  const formatAll = (errors: readonly GraphQLError[]): GraphQLFormattedError[] =>
    errors.map((error) => format(error.toJSON(), error));
  const wss = new WebSocketServer({ server: options.server, path: options.path ?? '/graphql' });
  wss.on('error', (error) => logger.warn({ err: error }, 'subscription server error'));
  const disposable = useServer<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      schema: options.schema,
      onConnect: (ctx) => {
        const { verification, correlationId } = verifyConnection(
          options.secret,
          ctx.extra.request,
          ctx.connectionParams,
        );
        if (!verification.ok) {
          logger.warn(
            { reason: verification.reason, code: verification.code, path: ctx.extra.request.url },
            'refused an unsigned subscription connection',
          );
          return false;
        }
        ctx.extra.identity = verification.identity;
        ctx.extra.correlationId = correlationId || crypto.randomUUID();
        return true;
      },
      context: (ctx) =>
        options.context({
          identity: ctx.extra.identity,
          correlationId: ctx.extra.correlationId ?? crypto.randomUUID(),
        }),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: formatAll(result.errors) } : undefined,
      onError: (_ctx, _id, _payload, errors) => formatAll(errors),
    },
    wss,
    options.keepAliveMs,
  );
  let closed: Promise<void> | undefined;
  return {
    close: () => {
      closed ??= (async () => {
        await disposable.dispose();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
      })();
      return closed;
    },
  };
};
