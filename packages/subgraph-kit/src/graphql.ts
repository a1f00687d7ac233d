/**
 * A federation subgraph on a service-kit server: POST /graphql (signed requests only, as the
 * service kit enforces), the identity the gateway signed in the context, DomainErrors mapped to
 * `extensions.code`, anything else masked.
 */
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { expressMiddleware } from '@as-integrations/express5';
import { CORRELATION_HEADER, type Identity } from '@magasin/service-kit';
import type { Express, Request } from 'express';
import { type GraphQLFormattedError, GraphQLScalarType, type GraphQLSchema, Kind, parse } from 'graphql';
import type { Logger } from 'pino';
import { DomainError } from './errors.ts';

/** What every resolver receives, whatever else the service adds. */
export interface RequestContext {
  /** The end user the gateway verified, if any. */
  identity: Identity | undefined;
  /** The request's correlation id (the gateway's, else a new one). */
  correlationId: string;
}

const parseDate = (value: unknown): Date => {
  const date = typeof value === 'string' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(String(value))) {
    throw new DomainError('BAD_USER_INPUT', `expected an ISO-8601 date-time, got ${JSON.stringify(value)}`);
  }
  return date;
};

/** ISO-8601 `DateTime`: serializes Dates and ISO strings, parses into Date. */
export const DateTimeScalar = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An ISO-8601 date-time, e.g. 2026-11-25T09:30:00.000Z',
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString()),
  parseValue: parseDate,
  parseLiteral: (node) => {
    if (node.kind !== Kind.STRING) throw new DomainError('BAD_USER_INPUT', 'DateTime must be a string');
    return parseDate(node.value);
  },
});

/** Options of {@link mountSubgraph}. */
export interface SubgraphServerOptions<Context extends RequestContext> {
  /** Federation 2 SDL of the subgraph. */
  typeDefs: string;
  resolvers: GraphQLResolverMap<Context>;
  /** Builds each request's context (loaders created per request belong here). */
  context: (request: RequestContext, req: Request) => Context | Promise<Context>;
  logger: Logger;
}

/**
 * Maps errors for clients: DomainError -> its code and details; GraphQL errors that already
 * carry a code pass; anything else is logged with its stack and masked as INTERNAL_SERVER_ERROR.
 */
export const formatErrorWith =
  (logger: Logger) =>
  (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = (error as { originalError?: unknown }).originalError ?? error;
    if (original instanceof DomainError) {
      return {
        message: original.message,
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: original.code, ...original.details },
      };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR') {
      const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    logger.error({ err: original, path: formatted.path }, 'resolver failed');
    return {
      message: 'internal error: the service could not complete this request (logged)',
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };

/** A started subgraph; stop it on shutdown. */
export interface SubgraphServer {
  /** The executable subgraph schema (also served over WebSocket when subscriptions are on). */
  schema: GraphQLSchema;
  stop(): Promise<void>;
}

/** Mounts the subgraph at /graphql on `app`. */
export const mountSubgraph = async <Context extends RequestContext>(
  app: Express,
  options: SubgraphServerOptions<Context>,
): Promise<SubgraphServer> => {
  const schema = buildSubgraphSchema({
    typeDefs: parse(options.typeDefs),
    resolvers: options.resolvers as GraphQLResolverMap<unknown>,
  });
  const server = new ApolloServer<Context>({
    schema,
    includeStacktraceInErrorResponses: false,
    formatError: formatErrorWith(options.logger),
    // The service's shutdown stops it; Apollo's own signal handlers would re-raise SIGTERM.
    stopOnTerminationSignals: false,
    // Traces go through OpenTelemetry, not Apollo's inline (ftv1) traces.
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  await server.start();
  app.use(
    '/graphql',
    expressMiddleware(server, {
      context: async ({ req }) => {
        const header = req.headers[CORRELATION_HEADER];
        const correlationId = (Array.isArray(header) ? header[0] : header) || crypto.randomUUID();
        return options.context({ identity: req.identity, correlationId }, req);
      },
    }),
  );
  return { schema, stop: () => server.stop() };
};
