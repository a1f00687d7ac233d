/** Resolvers of the audit subgraph: the trail (admin, auditor), its integrity and erasures (admin). */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { DateTimeScalar, type RequestContext, requireRole, type SubgraphDeps } from '@magasin/subgraph-kit';
import { GraphQLScalarType } from 'graphql';
import type { ComplianceTag } from '../domain/record.ts';
import type { PersonalDataOptions } from '../records/append.ts';
import type { AuditPrisma } from '../records/database.ts';
import { eraseSubject } from '../records/erasure.ts';
import { verifyIntegrity } from '../records/integrity.ts';
import { type RevealedRecord, trailOf } from '../records/reading.ts';

/** Any JSON value, passed through as is. */
const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  description: "Any JSON value (an event's data).",
  serialize: (value) => value,
});

/** GraphQL enum values of the compliance tags (a GraphQL name cannot hold a dash). */
const TAG_VALUES: Record<ComplianceTag, string> = { 'PCI-DSS': 'PCI_DSS', GDPR: 'GDPR' };

export const resolvers = (
  { prisma }: Pick<SubgraphDeps<AuditPrisma>, 'prisma'>,
  options: PersonalDataOptions,
): GraphQLResolverMap<RequestContext> => ({
  DateTime: DateTimeScalar,
  JSON: JSONScalar,
  Query: {
    auditTrail: (_parent: unknown, args: { correlationId: string }, context: RequestContext) => {
      requireRole(context.identity, 'admin', 'auditor');
      return trailOf(prisma, args.correlationId);
    },
    auditIntegrity: (_parent: unknown, _args: unknown, context: RequestContext) => {
      requireRole(context.identity, 'admin');
      return verifyIntegrity(prisma);
    },
  },
  Mutation: {
    eraseCustomer: (_parent: unknown, args: { customerId: string }, context: RequestContext) => {
      requireRole(context.identity, 'admin');
      return eraseSubject(prisma, args.customerId, options);
    },
  },
  AuditRecord: {
    at: (record: RevealedRecord) => record.occurredAt,
    tags: (record: RevealedRecord) => record.tags.map((tag) => TAG_VALUES[tag]),
  },
});
