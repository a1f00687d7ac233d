/**
 * GraphQL over WebSocket on the gateway (`graphql-transport-ws`, graphql-ws), at the same
 * `/graphql` as HTTP. `connection_init` carries the token (`{ "Authorization": "Bearer ..." }`,
 * as GraphiQL sends its headers; the upgrade request's Authorization header works too): a token
 * that does not verify closes the socket with {@link WS_CLOSE_CODES.unauthenticated}, and a
 * connection ends when its token expires. Every operation gets the same limits as over HTTP;
 * subscriptions run on the federated subscription engine, queries and mutations through the
 * HTTP pipeline's Apollo Server.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  type DocumentNode,
  type ExecutionResult,
  type FormattedExecutionResult,
  GraphQLError,
  type GraphQLFormattedError,
  getOperationAST,
  getVariableValues,
  type OperationDefinitionNode,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import type { Context } from 'graphql-ws';
import { type Extra, useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { AuthenticationError, type Caller, type TokenVerifier } from '../auth.ts';
import type { OperationLimits } from '../config.ts';
import { GATEWAY_ERROR_CODES, gatewayError, maskError } from '../errors.ts';
import { noIntrospectionRule, operationLimitsRule } from '../limits.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { GatewayContext } from '../subgraph-source.ts';
import type { FederatedSchema } from '../supergraph.ts';
import type { SubscriptionEngine } from './federated.ts';

/** Close codes of the gateway's WebSocket, beside graphql-ws's own (4400, 4403, 4408, ...). */
export const WS_CLOSE_CODES = {
  /** The token of `connection_init` did not verify, or has expired since; the reason says why. */
  unauthenticated: 4401,
  /** The gateway is shutting down. */
  goingAway: 1001,
} as const;

/** Validated documents kept (parse and validation run once per distinct query text). */
const DOCUMENT_CACHE_SIZE = 1_000;

/** Longest a timer may wait in Node (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Runs a query or mutation received over WebSocket; answers as over HTTP (errors already formatted). */
export type OperationRunner = (
  request: { query: string; variables: Record<string, unknown>; operationName: string | undefined },
  context: GatewayContext,
) => Promise<FormattedExecutionResult>;

/** Options of {@link attachGraphQLWebSocket}. */
export interface GraphQLWebSocketOptions {
  server: Server;
  /** Path served (other upgrade requests are refused); default `/graphql`. */
  path?: string;
  schema: FederatedSchema;
  verifier: TokenVerifier;
  engine: SubscriptionEngine;
  runOperation: OperationRunner;
  limits: OperationLimits;
  introspection: boolean;
  /** Largest message accepted, in bytes. */
  maxPayloadBytes: number;
  /** Most operations running at once on one connection. */
  maxOperationsPerConnection: number;
  logger: Logger;
  metrics: GatewayMetrics;
}

/** The WebSocket endpoint; `close()` ends every connection (1001). */
export interface GraphQLWebSocket {
  readonly connections: number;
  close(): Promise<void>;
}

interface ConnectionState {
  caller: Caller | undefined;
  expiry: NodeJS.Timeout | undefined;
}

/** The context each operation runs with. */
interface OperationContext extends GatewayContext {
  query: string;
  operation: OperationDefinitionNode;
}

type SocketContext = Context<Record<string, unknown> | undefined, Extra>;

const authorizationOf = (ctx: SocketContext): string | undefined => {
  const params = ctx.connectionParams ?? {};
  const lookup = (record: Record<string, unknown>): string | undefined => {
    for (const [key, value] of Object.entries(record)) {
      if (key.toLowerCase() === 'authorization' && typeof value === 'string') return value;
    }
    return undefined;
  };
  const nested = params.headers;
  return (
    lookup(params) ??
    (nested && typeof nested === 'object' ? lookup(nested as Record<string, unknown>) : undefined) ??
    ctx.extra.request.headers.authorization
  );
};

const withCode = (errors: readonly GraphQLError[], code: string): GraphQLError[] =>
  errors.map((error) =>
    error.extensions.code
      ? error
      : new GraphQLError(error.message, {
          ...(error.nodes ? { nodes: error.nodes } : {}),
          ...(error.source ? { source: error.source } : {}),
          ...(error.positions ? { positions: error.positions } : {}),
          originalError: error,
          extensions: { ...error.extensions, code },
        }),
  );

/** Serves GraphQL over WebSocket on `server`'s upgrade requests; see the module comment. */
export const attachGraphQLWebSocket = (options: GraphQLWebSocketOptions): GraphQLWebSocket => {
  const { logger, metrics } = options;
  const path = options.path ?? '/graphql';
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });
  const states = new WeakMap<SocketContext, ConnectionState>();
  const rules = [
    ...specifiedRules,
    operationLimitsRule(options.limits),
    ...(options.introspection ? [] : [noIntrospectionRule]),
  ];
  const documents = new Map<string, DocumentNode | readonly GraphQLError[]>();

  /** Parses and validates `query` (cached by its text): the document, or the errors to answer. */
  const documentOf = (query: string): DocumentNode | readonly GraphQLError[] => {
    const cached = documents.get(query);
    if (cached) return cached;
    let outcome: DocumentNode | readonly GraphQLError[];
    try {
      const document = parse(query, { maxTokens: options.limits.maxTokens });
      const errors = validate(options.schema.apiSchema, document, rules);
      outcome = errors.length > 0 ? withCode(errors, 'GRAPHQL_VALIDATION_FAILED') : document;
    } catch (error) {
      outcome = withCode(
        [error instanceof GraphQLError ? error : new GraphQLError(String(error))],
        'GRAPHQL_PARSE_FAILED',
      );
    }
    if (documents.size >= DOCUMENT_CACHE_SIZE) documents.delete(documents.keys().next().value as string);
    documents.set(query, outcome);
    return outcome;
  };

  const format = (error: GraphQLError | GraphQLFormattedError): GraphQLFormattedError =>
    error instanceof GraphQLError ? maskError(error.toJSON(), error, logger) : error;

  const serverCleanup = useServer<Record<string, unknown> | undefined>(
    {
      onConnect: async (ctx) => {
        try {
          const caller = await options.verifier.verify(authorizationOf(ctx));
          const state: ConnectionState = { caller, expiry: undefined };
          if (caller) {
            state.expiry = setTimeout(
              () =>
                ctx.extra.socket.close(
                  WS_CLOSE_CODES.unauthenticated,
                  'UNAUTHENTICATED: the token has expired',
                ),
              Math.min(Math.max(caller.expiresAt - Date.now(), 0), MAX_TIMER_MS),
            );
            state.expiry.unref();
          }
          states.set(ctx, state);
          return true;
        } catch (error) {
          if (!(error instanceof AuthenticationError)) throw error;
          ctx.extra.socket.close(
            WS_CLOSE_CODES.unauthenticated,
            `UNAUTHENTICATED: ${error.reason}`.slice(0, 123),
          );
          return false;
        }
      },
      onClose: (ctx) => {
        const state = states.get(ctx);
        if (state?.expiry) clearTimeout(state.expiry);
      },
      onSubscribe: (ctx, _id, payload) => {
        if (Object.keys(ctx.subscriptions).length > options.maxOperationsPerConnection) {
          return [
            gatewayError(
              GATEWAY_ERROR_CODES.tooManySubscriptions,
              `at most ${options.maxOperationsPerConnection} operations may run at once on one connection`,
            ),
          ];
        }
        const document = documentOf(payload.query);
        if (!('kind' in document)) return [...document];
        const operationName = payload.operationName ?? undefined;
        const operation = getOperationAST(document, operationName);
        if (!operation) {
          return [
            new GraphQLError(
              operationName
                ? `no operation named ${operationName}`
                : 'the document must name the operation to run',
              { extensions: { code: 'BAD_REQUEST' } },
            ),
          ];
        }
        const variables = payload.variables ?? {};
        const coerced = getVariableValues(
          options.schema.apiSchema,
          operation.variableDefinitions ?? [],
          variables,
        );
        if (coerced.errors) return withCode(coerced.errors, 'BAD_USER_INPUT');
        const state = states.get(ctx);
        const contextValue: OperationContext = {
          identity: state?.caller?.identity,
          correlationId: randomUUID(),
          query: payload.query,
          operation,
        };
        return {
          schema: options.schema.apiSchema,
          document,
          ...(operationName ? { operationName } : {}),
          variableValues: variables,
          contextValue,
        };
      },
      subscribe: async (args) => {
        const context = args.contextValue as OperationContext;
        const started = process.hrtime.bigint();
        const name = context.operation.name?.value;
        try {
          const results = options.engine.subscribe({
            document: args.document,
            query: context.query,
            operationName: args.operationName ?? undefined,
            variables: (args.variableValues ?? {}) as Record<string, unknown>,
            identity: context.identity,
            correlationId: context.correlationId,
          });
          metrics.subscriptions(1);
          let outcome: 'ok' | 'error' = 'ok';
          let ended = false;
          const end = () => {
            if (ended) return;
            ended = true;
            metrics.subscriptions(-1);
            metrics.observeOperation(
              name,
              'subscription',
              outcome,
              Number(process.hrtime.bigint() - started) / 1e9,
            );
          };
          // Not an `async function*` wrapper: its return() would wait for the next event, and a
          // client leaving between events must end the upstream subscription at once.
          const observed: AsyncGenerator<ExecutionResult> = {
            next: async () => {
              const step = await results.next();
              if (step.done) end();
              else if (step.value.errors?.length) outcome = 'error';
              return step;
            },
            return: async () => {
              end();
              return results.return(undefined);
            },
            throw: async (error: unknown) => {
              end();
              return results.throw(error);
            },
            [Symbol.asyncIterator]() {
              return observed;
            },
          };
          return observed;
        } catch (error) {
          logger.error({ err: error }, 'subscription could not start');
          metrics.observeOperation(
            name,
            'subscription',
            'error',
            Number(process.hrtime.bigint() - started) / 1e9,
          );
          return {
            errors: [
              error instanceof GraphQLError
                ? error
                : new GraphQLError(String(error), { originalError: error as Error }),
            ],
          };
        }
      },
      execute: async (args) => {
        const context = args.contextValue as OperationContext;
        // Formatted by the HTTP pipeline already; the cast carries them through onNext unchanged.
        return (await options.runOperation(
          {
            query: context.query,
            variables: (args.variableValues ?? {}) as Record<string, unknown>,
            operationName: args.operationName ?? undefined,
          },
          { identity: context.identity, correlationId: context.correlationId },
        )) as unknown as ExecutionResult;
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        const { errors, ...rest } = result as ExecutionResult;
        if (!errors?.length) return undefined;
        return { ...rest, errors: errors.map(format) } as FormattedExecutionResult as never;
      },
      onError: (_ctx, _id, _payload, errors) => errors.map(format) as never,
    },
    wss,
  );

  wss.on('connection', () => {
    metrics.connections(1);
  });
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = new URL(request.url ?? '/', 'http://gateway').pathname;
    if (pathname !== path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      ws.once('close', () => metrics.connections(-1));
      wss.emit('connection', ws, request);
    });
  };
  options.server.on('upgrade', onUpgrade);

  return {
    get connections() {
      return wss.clients.size;
    },
    async close() {
      options.server.off('upgrade', onUpgrade);
      await serverCleanup.dispose();
    },
  };
};
