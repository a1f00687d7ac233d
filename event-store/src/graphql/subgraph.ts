/** Serves the operators' subgraph at /graphql on the event store's server. */
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { expressMiddleware } from '@as-integrations/express5';
import type { Express } from 'express';
import { parse } from 'graphql';
import type { EventStore } from '../store/event-store.ts';
import { resolvers, type SubgraphContext } from './resolvers.ts';

/** The subgraph's SDL (federation 2), as the gateway composes it. */
export const typeDefs = readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8');

/** A started subgraph server; stop it on shutdown. */
export interface Subgraph {
  stop(): Promise<void>;
}

/** Mounts POST /graphql (federated subgraph, signed requests only) on `app`. */
export const mountSubgraph = async (app: Express, store: EventStore): Promise<Subgraph> => {
  const server = new ApolloServer<SubgraphContext>({
    schema: buildSubgraphSchema({
      typeDefs: parse(typeDefs),
      resolvers: resolvers as unknown as GraphQLResolverMap<unknown>,
    }),
    includeStacktraceInErrorResponses: false,
    // The service's shutdown stops it (onShutdown); Apollo's own handlers would re-raise SIGTERM.
    stopOnTerminationSignals: false,
    // Traces go through OpenTelemetry, not Apollo's inline (ftv1) traces.
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  await server.start();
  app.use(
    '/graphql',
    expressMiddleware(server, { context: async ({ req }) => ({ store, identity: req.identity }) }),
  );
  return { stop: () => server.stop() };
};
