/** Resolvers of the operators' subgraph (schema.graphql beside this file). */
import type { Identity } from '@magasin/service-kit';
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import type { EventStore } from '../store/event-store.ts';
import type { RecordedEvent } from '../store/types.ts';

/** What every resolver gets: the store and the end user the gateway signed for. */
export interface SubgraphContext {
  store: EventStore;
  identity: Identity | undefined;
}

/** Roles allowed to read the log through the subgraph. */
export const OPERATOR_ROLES = ['admin', 'auditor'] as const;

const requireOperator = (identity: Identity | undefined): void => {
  if (!identity) {
    throw new GraphQLError('sign in: reading events needs the admin or auditor role', {
      extensions: { code: 'UNAUTHENTICATED' },
    });
  }
  if (!identity.roles.some((role) => (OPERATOR_ROLES as readonly string[]).includes(role))) {
    throw new GraphQLError(`${identity.sub} may not read events: the admin or auditor role is needed`, {
      extensions: { code: 'FORBIDDEN' },
    });
  }
};

const literal = (node: ValueNode): unknown => {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map(literal);
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((field) => [field.name.value, literal(field.value)]));
    default:
      throw new GraphQLError(`JSON cannot hold a ${node.kind}`);
  }
};

/** The resolver map for `buildSubgraphSchema`. */
export const resolvers = {
  JSON: new GraphQLScalarType({
    name: 'JSON',
    serialize: (value) => value,
    parseValue: (value) => value,
    parseLiteral: literal,
  }),
  DateTime: new GraphQLScalarType({
    name: 'DateTime',
    serialize: (value) => (value instanceof Date ? value.toISOString() : String(value)),
    parseValue: (value) => new Date(String(value)),
  }),
  Query: {
    events: async (
      _: unknown,
      args: { streamId: string },
      context: SubgraphContext,
    ): Promise<RecordedEvent[]> => {
      requireOperator(context.identity);
      return (await context.store.readStream(args.streamId)).events;
    },
    eventsByCorrelation: async (
      _: unknown,
      args: { correlationId: string },
      context: SubgraphContext,
    ): Promise<RecordedEvent[]> => {
      requireOperator(context.identity);
      return context.store.readByCorrelation(args.correlationId);
    },
  },
};
