/**
 * Resolvers of the store subgraph (schema.graphql beside this file). Queries read the
 * projection; mutations run the order decider and answer with the state it produced.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import type { Identity } from '@magasin/service-kit';
import {
  DateTimeScalar,
  DomainError,
  hasRole,
  type RequestContext,
  requireRole,
  type SubgraphDeps,
} from '@magasin/subgraph-kit';
import type { Requester } from '../domain/order.ts';
import { orderIdFor, orderStream, requireOrderId } from '../domain/order-id.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { createOrderCommands } from '../order-commands.ts';
import type { StoreContext } from './loaders.ts';
import { type OrderLineView, type OrderView, viewOfRow, viewOfState } from './order-view.ts';

type Context = RequestContext & StoreContext;

interface PlaceOrderInput {
  lines: { productId: string; quantity: number }[];
  paymentToken: string;
  idempotencyKey?: string | null;
}

/** Whether `identity` may see `order`: its customer, or an admin. */
const mayView = (identity: Identity, order: OrderView): boolean =>
  hasRole(identity, 'admin') || order.customerId === identity.sub;

/** The order, or NOT_FOUND / FORBIDDEN (the same rule for `order(id)` and entity references). */
const visibleOrder = async (context: Context, id: string): Promise<OrderView> => {
  const identity = requireRole(context.identity, 'customer', 'admin');
  const order = await context.orders.load(requireOrderId(id));
  if (!order) throw new DomainError('NOT_FOUND', `no order ${id}`, { orderId: id });
  if (!mayView(identity, order))
    throw new DomainError('FORBIDDEN', `order ${id} is not yours`, { orderId: id });
  return order;
};

/** The resolver map, built once per service from its dependencies. */
export const createResolvers = (deps: SubgraphDeps<PrismaClient>): GraphQLResolverMap<Context> => {
  const { prisma } = deps;
  const commands = createOrderCommands(deps.eventStore);

  return {
    DateTime: DateTimeScalar,
    Query: {
      order: (_: unknown, args: { id: string }, context: Context) => visibleOrder(context, args.id),
      orders: async (_: unknown, _args: unknown, context: Context) => {
        const identity = requireRole(context.identity, 'customer', 'admin');
        const rows = await prisma.order.findMany({
          where: hasRole(identity, 'admin') ? {} : { customerId: identity.sub },
          include: { lines: true },
          orderBy: [{ placedAt: 'desc' }, { placedPosition: 'desc' }],
        });
        return rows.map((row) => {
          const view = viewOfRow(row);
          context.orders.prime(view.id, view);
          return view;
        });
      },
    },
    Mutation: {
      placeOrder: async (_: unknown, { input }: { input: PlaceOrderInput }, context: Context) => {
        const identity = requireRole(context.identity, 'customer');
        const orderId = orderIdFor(identity.sub, input.idempotencyKey);
        const productIds = [...new Set(input.lines.map((line) => line.productId))];
        const catalog = await prisma.catalogProduct.findMany({
          where: { productId: { in: productIds } },
          select: { productId: true, priceCents: true },
        });
        const result = await commands.handle(
          orderStream(orderId),
          {
            type: 'PlaceOrder',
            data: {
              orderId,
              customerId: identity.sub,
              lines: input.lines,
              paymentToken: input.paymentToken,
              placedAt: new Date().toISOString(),
              prices: new Map(catalog.map((product) => [product.productId, product.priceCents])),
            },
          },
          { correlationId: orderId, causationId: null, actor: identity.sub },
        );
        return { order: viewOfState(result.state) };
      },
      cancelOrder: async (_: unknown, args: { orderId: string }, context: Context) => {
        const identity = requireRole(context.identity, 'customer', 'admin');
        const orderId = requireOrderId(args.orderId);
        const admin = hasRole(identity, 'admin');
        const requestedBy: Requester = admin
          ? { kind: 'admin' }
          : { kind: 'customer', customerId: identity.sub };
        const result = await commands.handle(
          orderStream(orderId),
          {
            type: 'CancelOrder',
            data: {
              orderId,
              reason: 'CUSTOMER_REQUEST',
              requestedBy,
              ...(admin ? { detail: `cancelled by admin ${identity.sub}` } : {}),
            },
          },
          { correlationId: orderId, causationId: null, actor: identity.sub },
        );
        return viewOfState(result.state);
      },
    },
    Order: {
      // Entities asked for by the gateway (Saga.order, Payment's Order) obey the same visibility as order(id).
      __resolveReference: (reference: { id: string }, context: Context) =>
        visibleOrder(context, reference.id),
    },
    OrderLine: {
      product: (line: OrderLineView) => ({ __typename: 'Product', id: line.productId }),
    },
  };
};
