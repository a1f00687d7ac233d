/** Resolvers of the transaction subgraph: the sales report, for admins. */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { DateTimeScalar, type RequestContext, requireRole, type SubgraphDeps } from '@magasin/subgraph-kit';
import type { LedgerPrisma } from '../projections/ledger.ts';
import { type SalesReportLine, salesReport } from '../projections/sales-report.ts';

export const resolvers = ({ prisma }: SubgraphDeps<LedgerPrisma>): GraphQLResolverMap<RequestContext> => ({
  DateTime: DateTimeScalar,
  Query: {
    salesReport: (
      _parent: unknown,
      args: { from?: Date | null; to?: Date | null },
      context: RequestContext,
    ) => {
      requireRole(context.identity, 'admin');
      return salesReport(prisma, args);
    },
  },
  SalesReportLine: {
    product: (line: SalesReportLine) => ({ id: line.productId }),
  },
});
