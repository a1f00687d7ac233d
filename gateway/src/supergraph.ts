/**
 * The supergraph the gateway serves, read once from schema/supergraph.graphql, and the
 * federation query planner over it. Queries and mutations are planned by `@apollo/gateway`
 * (with its own plan cache); subscriptions, which the stock gateway cannot execute, are planned
 * here with the same planner and kept in {@link FederatedSchema.planSubscription}'s cache.
 */
import { readFileSync } from 'node:fs';
import { operationFromDocument, type Schema, Supergraph } from '@apollo/federation-internals';
import { type FetchNode, type PlanNode, QueryPlanner } from '@apollo/query-planner';
import type { DocumentNode, GraphQLSchema } from 'graphql';

/** Distinct subscription operations whose plan is kept. */
const PLAN_CACHE_SIZE = 500;

/** A subscription as the planner splits it: the root field on its subgraph, then the rest. */
export interface SubscriptionPlan {
  /** The fetch that subscribes on the subgraph owning the root field. */
  primary: FetchNode;
  /** What the other subgraphs contribute to every event (entity fetches), if anything. */
  rest: PlanNode | undefined;
}

/** A loaded supergraph: schemas, subgraphs and the subscription planner. */
export interface FederatedSchema {
  /** The supergraph SDL as read (what `@apollo/gateway` is given). */
  readonly sdl: string;
  /** The public (API) schema clients query, as graphql-js. */
  readonly apiSchema: GraphQLSchema;
  /** The API schema in federation's own model (for the query plan executor). */
  readonly apiFederationSchema: Schema;
  /** The whole supergraph as graphql-js (for the query plan executor). */
  readonly supergraphSchema: GraphQLSchema;
  /** Subgraph names and the URLs recorded at composition. */
  readonly subgraphs: readonly { name: string; url: string }[];
  /**
   * The plan of the subscription `operationName` of `document` (validated beforehand), from
   * the cache when `cacheKey` was planned before. Throws when the operation is not a
   * subscription.
   */
  planSubscription(
    document: DocumentNode,
    operationName: string | undefined,
    cacheKey: string,
  ): SubscriptionPlan;
}

/** Builds the federated schema from supergraph SDL; throws when the SDL is not a valid supergraph. */
export const buildFederatedSchema = (sdl: string): FederatedSchema => {
  const supergraph = Supergraph.build(sdl);
  const apiFederationSchema = supergraph.apiSchema();
  const planner = new QueryPlanner(supergraph);
  const plans = new Map<string, SubscriptionPlan>();
  return {
    sdl,
    apiSchema: apiFederationSchema.toGraphQLJSSchema(),
    apiFederationSchema,
    supergraphSchema: supergraph.schema.toGraphQLJSSchema(),
    subgraphs: supergraph.subgraphsMetadata(),
    planSubscription(document, operationName, cacheKey) {
      const cached = plans.get(cacheKey);
      if (cached) {
        // Refresh its place: the map's order is the eviction order.
        plans.delete(cacheKey);
        plans.set(cacheKey, cached);
        return cached;
      }
      const operation = operationFromDocument(apiFederationSchema, document, {
        ...(operationName ? { operationName } : {}),
        validate: false,
      });
      const node = planner.buildQueryPlan(operation).node;
      if (node?.kind !== 'Subscription') throw new Error('the operation is not a subscription');
      const plan = { primary: node.primary, rest: node.rest };
      if (plans.size >= PLAN_CACHE_SIZE) plans.delete(plans.keys().next().value as string);
      plans.set(cacheKey, plan);
      return plan;
    },
  };
};

/** Reads and builds the supergraph at `path`; the error names the file and says how to make it. */
export const loadFederatedSchema = (path: string): FederatedSchema => {
  let sdl: string;
  try {
    sdl = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot read the supergraph ${path} (run \`npm run compose\`): ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  try {
    return buildFederatedSchema(sdl);
  } catch (error) {
    throw new Error(
      `${path} is not a valid supergraph (run \`npm run compose\`): ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
};
