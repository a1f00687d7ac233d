/**
 * The gateway on a service-kit server: `/graphql` over HTTP (Apollo Server + `@apollo/gateway`)
 * and over WebSocket (graphql-ws, federated subscriptions) on the same port, the GraphiQL
 * playground for browsers, `/healthz`, `/readyz`, `/metrics`, graceful shutdown.
 */
import { randomUUID } from 'node:crypto';
import { expressMiddleware } from '@as-integrations/express5';
import { CORRELATION_HEADER, type RunningService, startService } from '@magasin/service-kit';
import type { Express, NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createApolloServer, type HttpOperationContext } from './apollo.ts';
import { type MutationAudit, startMutationAudit } from './audit.ts';
import { AuthenticationError, createTokenVerifier } from './auth.ts';
import type { GatewayConfig } from './config.ts';
import { GATEWAY_ERROR_CODES } from './errors.ts';
import { createGatewayMetrics } from './metrics.ts';
import { loadPlayground, type PlaygroundAssets } from './playground/bundle.ts';
import { mountPlayground } from './playground/page.ts';
import { SignedSubgraphSource } from './subgraph-source.ts';
import { createSubscriptionEngine } from './subscriptions/federated.ts';
import { createUpstreams } from './subscriptions/upstream.ts';
import { attachGraphQLWebSocket, type GraphQLWebSocket } from './subscriptions/websocket.ts';
import { type FederatedSchema, loadFederatedSchema } from './supergraph.ts';
import { mountWebClient } from './web-client.ts';

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  config: GatewayConfig;
  logger: Logger;
  registry: Registry;
  /** Default true: SIGINT/SIGTERM stop the gateway and exit. */
  handleSignals?: boolean;
  /** The supergraph; default: read from `config.supergraphPath`. */
  schema?: FederatedSchema;
  /** Subgraph URLs by name, over those of the supergraph and the environment (tests). */
  subgraphUrls?: Readonly<Record<string, string>>;
  /** The playground bundle (tests share one); default: dist/playground, else bundled at start-up. */
  playground?: Promise<PlaygroundAssets>;
}

/** A running gateway. */
export interface RunningGateway {
  service: RunningService;
  /** `http://127.0.0.1:<port>`; GraphQL at `${url}/graphql` (ws:// for WebSocket). */
  url: string;
  /** The subgraph URLs in use, by name. */
  subgraphUrls: Readonly<Record<string, string>>;
  /** Drains HTTP, closes WebSockets (1001) and upstream subscriptions. Idempotent. */
  stop(): Promise<void>;
}

const CORRELATION_ID = /^[\w.:-]{1,128}$/;

const headerValue = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

/** Starts the gateway; resolves once it listens. */
export const startGateway = async (options: GatewayOptions): Promise<RunningGateway> => {
  const { config, logger, registry } = options;
  const schema = options.schema ?? loadFederatedSchema(config.supergraphPath);
  const metrics = createGatewayMetrics(registry);
  const sources: Record<string, SignedSubgraphSource> = {};
  for (const subgraph of schema.subgraphs) {
    const url = options.subgraphUrls?.[subgraph.name] ?? config.subgraphUrl(subgraph.name, subgraph.url);
    sources[subgraph.name] = new SignedSubgraphSource({
      name: subgraph.name,
      url,
      secret: config.internalSecret,
      connections: config.subgraphConnections,
      deduplicate: config.subgraphDeduplication,
      onDeduplicated: metrics.deduplicated,
      logger,
    });
  }
  const subgraphUrls = Object.fromEntries(Object.values(sources).map((source) => [source.name, source.url]));
  logger.info({ subgraphs: subgraphUrls }, 'supergraph loaded');

  const verifier = createTokenVerifier(config.tokens);
  const audit: MutationAudit | undefined = config.audit
    ? startMutationAudit({
        url: config.audit.rabbitmqUrl,
        backlog: config.audit.backlog,
        schema: schema.apiSchema,
        logger,
        registry,
      })
    : undefined;
  await audit?.ready;
  const apollo = await createApolloServer({
    schema,
    sources,
    limits: config.limits,
    introspection: config.introspection,
    operationTimeoutMs: config.operationTimeoutMs,
    logger,
    metrics,
    plugins: audit ? [audit.plugin] : [],
  });
  const upstreams = createUpstreams({
    secret: config.internalSecret,
    urlOf: (name) => {
      const source = sources[name];
      if (!source) throw new Error(`no subgraph named ${name}`);
      return source.url;
    },
    logger,
  });
  const engine = createSubscriptionEngine({
    schema,
    sources,
    upstreams,
    logger,
    resolveTimeoutMs: config.operationTimeoutMs,
    onUpstreamCount: (count) => metrics.upstreamSubscriptions(count),
  });

  const operationContext = (
    authorization: string | undefined,
    correlationHeader: string | undefined,
  ): Promise<HttpOperationContext> =>
    verifier.verify(authorization).then(
      (caller) => {
        const controller = new AbortController();
        return {
          identity: caller?.identity,
          correlationId:
            correlationHeader && CORRELATION_ID.test(correlationHeader) ? correlationHeader : randomUUID(),
          signal: controller.signal,
          abort: (reason: unknown) => controller.abort(reason),
        };
      },
      (error: unknown) => {
        if (error instanceof AuthenticationError) throw error.toGraphQLError();
        throw error;
      },
    );

  const routes = (app: Express) => {
    // The body limit of the service kit, answered as a GraphQL error with its code.
    app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
      const status = (error as { status?: unknown }).status;
      if (status !== 413) {
        next(error);
        return;
      }
      res.status(413).json({
        errors: [
          {
            message: `the request body is larger than ${config.maxBodyBytes} bytes (limit ${config.maxBodyBytes})`,
            extensions: { code: GATEWAY_ERROR_CODES.payloadTooLarge },
          },
        ],
      });
    });
    mountWebClient(app, { keys: config.tokens.keys, logger });
    if (config.playground) {
      mountPlayground(app, { assets: options.playground ?? loadPlayground(), logger });
    }
    app.use(
      '/graphql',
      expressMiddleware(apollo, {
        context: async ({ req, res }) => {
          const receivedAt = new Date();
          const correlationHeader = headerValue(req.headers[CORRELATION_HEADER]);
          const context = await operationContext(req.headers.authorization, correlationHeader).catch(
            (error: unknown) => {
              // Refused before Apollo runs it: the audit plugin never sees it.
              audit?.recordRefusedRequest({
                body: req.body,
                correlationId:
                  correlationHeader && CORRELATION_ID.test(correlationHeader)
                    ? correlationHeader
                    : randomUUID(),
                receivedAt,
                errorCode: GATEWAY_ERROR_CODES.unauthenticated,
              });
              throw error;
            },
          );
          res.setHeader(CORRELATION_HEADER, context.correlationId);
          // A client that leaves stops the subgraph requests made for it.
          res.once('close', () => {
            if (!res.writableFinished) context.abort(new Error('the client closed the connection'));
          });
          return context;
        },
      }),
    );
  };

  let websocket: GraphQLWebSocket | undefined;
  const service = await startService({
    name: 'gateway',
    port: config.port,
    logger,
    registry,
    readiness: [],
    handleSignals: options.handleSignals ?? true,
    bodyLimit: `${config.maxBodyBytes}b`,
    routes,
    onShutdown: async () => {
      await websocket?.close();
      engine.close();
      await upstreams.close();
      await apollo.stop();
      await audit?.close();
      await Promise.all(Object.values(sources).map((source) => source.close()));
    },
  });
  websocket = attachGraphQLWebSocket({
    server: service.server,
    schema,
    verifier,
    engine,
    runOperation: async (request, context) => {
      const controller = new AbortController();
      const response = await apollo.executeOperation(
        { query: request.query, variables: request.variables, operationName: request.operationName },
        {
          contextValue: {
            ...context,
            signal: controller.signal,
            abort: (reason: unknown) => controller.abort(reason),
          },
        },
      );
      if (response.body.kind !== 'single') throw new Error('incremental delivery is not supported');
      return response.body.singleResult;
    },
    limits: config.limits,
    introspection: config.introspection,
    maxPayloadBytes: config.maxBodyBytes,
    maxOperationsPerConnection: config.maxSubscriptionsPerConnection,
    logger,
    metrics,
  });
  return { service, url: service.url, subgraphUrls, stop: () => service.stop() };
};
