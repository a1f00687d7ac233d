/**
 * Queries and mutations over HTTP: `@apollo/gateway` (static supergraph, its query plan cache,
 * signed data sources) behind Apollo Server 5, with the gateway's protections: token, depth,
 * alias and directive limits as validation rules (run once per distinct document, which Apollo
 * then caches), the parser's token limit, an operation timeout that also cancels the subgraph
 * requests in flight, CSRF prevention, no batching, introspection as configured, and every
 * error masked for clients.
 */
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import type { Logger } from 'pino';
import type { OperationLimits } from './config.ts';
import { GATEWAY_ERROR_CODES, gatewayError, maskError } from './errors.ts';
import { noIntrospectionRule, operationLimitsRule } from './limits.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { GatewayContext, SignedSubgraphSource } from './subgraph-source.ts';
import type { FederatedSchema } from './supergraph.ts';

/** The context of an HTTP operation: the gateway context and how to cancel its subgraph requests. */
export interface HttpOperationContext extends GatewayContext {
  /** Aborts the operation's subgraph requests (timeout, client gone). */
  abort(reason: unknown): void;
}

type Executor = Awaited<ReturnType<ApolloGateway['load']>>['executor'];

/** `@apollo/gateway` whose executor gives up (and cancels its subgraph requests) after `timeoutMs`. */
class TimedGateway extends ApolloGateway {
  constructor(
    config: ConstructorParameters<typeof ApolloGateway>[0],
    private readonly timeoutMs: number,
  ) {
    super(config);
  }

  override async load(options?: Parameters<ApolloGateway['load']>[0]) {
    const loaded = await super.load(options);
    const executor: Executor = async (requestContext) => {
      const context = requestContext.context as HttpOperationContext;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = gatewayError(
            GATEWAY_ERROR_CODES.operationTimeout,
            `the operation took longer than ${this.timeoutMs} ms and was stopped`,
            504,
          );
          context.abort?.(error);
          reject(error);
        }, this.timeoutMs);
      });
      try {
        return await Promise.race([loaded.executor(requestContext), timeout]);
      } finally {
        clearTimeout(timer);
      }
    };
    return { ...loaded, executor };
  }
}

/** Options of {@link createApolloServer}. */
export interface ApolloServerOptions {
  schema: FederatedSchema;
  sources: Readonly<Record<string, SignedSubgraphSource>>;
  limits: OperationLimits;
  introspection: boolean;
  operationTimeoutMs: number;
  logger: Logger;
  metrics: GatewayMetrics;
  /** More plugins (the audit of mutations). */
  plugins?: ApolloServerPlugin<HttpOperationContext>[];
}

/** Refuses subscriptions over HTTP (they are served over WebSocket) and records durations. */
const gatewayPlugin = (metrics: GatewayMetrics): ApolloServerPlugin<HttpOperationContext> => ({
  async requestDidStart() {
    const started = process.hrtime.bigint();
    return {
      async didResolveOperation({ operation }) {
        if (operation?.operation === 'subscription') {
          throw gatewayError(
            GATEWAY_ERROR_CODES.operationNotSupported,
            'subscriptions are served over WebSocket (graphql-transport-ws) at this same /graphql URL',
            400,
          );
        }
      },
      async willSendResponse({ operationName, operation, response }) {
        const body = response.body;
        const failed = (body.kind === 'single' && (body.singleResult.errors?.length ?? 0) > 0) || !operation;
        metrics.observeOperation(
          operationName ?? undefined,
          operation?.operation ?? 'unknown',
          failed ? 'error' : 'ok',
          Number(process.hrtime.bigint() - started) / 1e9,
        );
      },
    };
  },
});

/** Builds (and starts) the Apollo Server of the gateway. */
export const createApolloServer = async (
  options: ApolloServerOptions,
): Promise<ApolloServer<HttpOperationContext>> => {
  const { logger } = options;
  const gateway = new TimedGateway(
    {
      supergraphSdl: options.schema.sdl,
      buildService: ({ name }) => {
        const source = options.sources[name];
        if (!source) throw new Error(`no data source for subgraph ${name}`);
        return source;
      },
      logger,
      // Never reveal query plans to clients (the stock default does outside production).
      __exposeQueryPlanExperimental: false,
    },
    options.operationTimeoutMs,
  );
  const server = new ApolloServer<HttpOperationContext>({
    gateway,
    logger,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // Introspection is refused by our own rule (with its code) when disabled.
    introspection: true,
    includeStacktraceInErrorResponses: false,
    parseOptions: { maxTokens: options.limits.maxTokens },
    validationRules: [
      operationLimitsRule(options.limits),
      ...(options.introspection ? [] : [noIntrospectionRule]),
    ],
    formatError: (formatted, error) => maskError(formatted, error, logger),
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      gatewayPlugin(options.metrics),
      ...(options.plugins ?? []),
    ],
  });
  await server.start();
  return server;
};
