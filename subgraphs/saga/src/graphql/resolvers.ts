/**
 * Resolvers of the saga subgraph: `saga(id)`, `requestReturn`, the `orderSaga` / `saga`
 * subscriptions, the `Saga` entity and the `saga` / `returnSagas` fields it adds to the store's
 * `Order`. A saga is read by its order's customer or by an admin (FORBIDDEN otherwise).
 */
import type { EventStoreClient } from '@magasin/event-store/client';
import type { Identity } from '@magasin/service-kit';
import {
  type CommandHandler,
  createCommandHandler,
  DateTimeScalar,
  DomainError,
  hasRole,
  type RequestContext,
  requireIdentity,
  requireRole,
} from '@magasin/subgraph-kit';
import type { Logger } from 'pino';
import { validate as isUuid, v7 as uuidv7 } from 'uuid';
import {
  type OrderForReturn,
  orderReturnDecider,
  orderStreamId,
  type RequestReturn,
} from '../domain/order-return.ts';
import type { SagaView } from '../domain/timeline.ts';
import type { Orchestrator } from '../orchestrator.ts';
import type { SagaPrisma } from '../projections/index.ts';
import { followSaga, type SagaUpdateHub } from '../saga-updates.ts';
import { readSagaView, sagaViewFromStream } from '../saga-views.ts';
import { createSagaLoaders, type SagaLoaders } from './loaders.ts';

/** What the resolvers find in each request's (or subscription's) context. */
export interface SagaContext extends RequestContext {
  loaders: SagaLoaders;
}

/** What the resolvers are built from. */
export interface SagaResolverDeps {
  prisma: SagaPrisma;
  eventStore: EventStoreClient;
  orchestrator: Orchestrator;
  hub: SagaUpdateHub;
  /** SAGA_SUBSCRIPTION_RESYNC_MS. */
  resyncMs: number;
  logger: Logger;
}

/** The per-request part of the context: fresh loaders (a cache per request, never shared). */
export const sagaContext = (
  prisma: SagaPrisma,
  eventStore: EventStoreClient,
): Pick<SagaContext, 'loaders'> => ({
  loaders: createSagaLoaders(prisma, eventStore),
});

/** BAD_USER_INPUT unless `id` is a UUID (order ids and return ids are). */
const requireId = (id: string, what: string): string => {
  if (!isUuid(id))
    throw new DomainError('BAD_USER_INPUT', `${JSON.stringify(id)} is not ${what} (a UUID)`, { id });
  return id;
};

/** Throws unless the identity placed the order (or is an admin); NOT_FOUND when nobody did. */
const authorizeOrder = async (identity: Identity | undefined, orderId: string, loaders: SagaLoaders) => {
  const caller = requireIdentity(identity);
  const customerId = await loaders.customers.load(orderId);
  if (customerId === null) throw new DomainError('NOT_FOUND', `no order ${orderId}`, { orderId });
  if (hasRole(caller, 'admin')) return;
  if (customerId !== caller.sub) {
    throw new DomainError('FORBIDDEN', `${caller.sub} may not see the sagas of order ${orderId}`, {
      orderId,
    });
  }
};

/** The saga if the identity may read it (FORBIDDEN otherwise), null when unknown. */
const readableSaga = async (id: string, context: SagaContext): Promise<SagaView | null> => {
  requireIdentity(context.identity);
  const saga = await context.loaders.sagas.load(id);
  if (!saga) return null;
  await authorizeOrder(context.identity, saga.orderId, context.loaders);
  return saga;
};

/** The API's view of a saga (its order as a reference the gateway resolves). */
const sagaOf = (view: SagaView) => ({ ...view, order: { id: view.orderId } });

/** The resolver map. */
export const createResolvers = (deps: SagaResolverDeps) => {
  const orders: CommandHandler<RequestReturn, OrderForReturn> = createCommandHandler({
    eventStore: deps.eventStore,
    decider: orderReturnDecider,
  });

  const follow = async (sagaId: string) => {
    const views = await followSaga(sagaId, {
      hub: deps.hub,
      read: (id) => readSagaView(deps.prisma, id),
      resyncMs: deps.resyncMs,
      logger: deps.logger,
    });
    return views;
  };

  return {
    DateTime: DateTimeScalar,
    Query: {
      saga: async (_: unknown, args: { id: string }, context: SagaContext) => {
        const saga = await readableSaga(requireId(args.id, 'a saga id'), context);
        return saga && sagaOf(saga);
      },
    },
    Mutation: {
      requestReturn: async (_: unknown, args: { orderId: string }, context: SagaContext) => {
        const identity = requireRole(context.identity, 'customer', 'admin');
        const orderId = requireId(args.orderId, 'an order id');
        const returnId = uuidv7();
        const requested = await orders.handle(
          orderStreamId(orderId),
          {
            type: 'RequestReturn',
            orderId,
            returnId,
            requester: { sub: identity.sub, admin: hasRole(identity, 'admin') },
          },
          { correlationId: orderId, actor: identity.sub },
        );
        const [event] = requested.events;
        if (!event || requested.state.status === 'unknown')
          throw new Error(`order-${orderId}: no ReturnRequested appended`);
        const { lines, totalCents } = requested.state;
        // The bus also starts it from ReturnRequested (if this request stops here): whichever is first.
        await deps.orchestrator.handle(
          returnId,
          orderId,
          {
            type: 'StartReturn',
            data: {
              returnId,
              orderId,
              refundCents: totalCents,
              items: lines.reduce((sum, line) => sum + line.quantity, 0),
            },
            now: new Date().toISOString(),
          },
          { causationId: event.eventId, actor: identity.sub },
        );
        const saga = await sagaViewFromStream(deps.eventStore, returnId);
        if (!saga) throw new Error(`saga-${returnId} was not started`);
        return sagaOf(saga);
      },
    },
    Subscription: {
      orderSaga: {
        subscribe: async (_: unknown, args: { orderId: string }, context: SagaContext) => {
          const orderId = requireId(args.orderId, 'an order id');
          await authorizeOrder(context.identity, orderId, context.loaders);
          return follow(orderId);
        },
        resolve: (view: SagaView) => sagaOf(view),
      },
      saga: {
        subscribe: async (_: unknown, args: { id: string }, context: SagaContext) => {
          const sagaId = requireId(args.id, 'a saga id');
          requireIdentity(context.identity);
          const saga =
            (await context.loaders.sagas.load(sagaId)) ?? (await sagaViewFromStream(deps.eventStore, sagaId));
          if (!saga) throw new DomainError('NOT_FOUND', `no saga ${sagaId}`, { sagaId });
          await authorizeOrder(context.identity, saga.orderId, context.loaders);
          return follow(sagaId);
        },
        resolve: (view: SagaView) => sagaOf(view),
      },
    },
    Saga: {
      __resolveReference: async ({ id }: { id: string }, context: SagaContext) => {
        const saga = await readableSaga(id, context);
        return saga && sagaOf(saga);
      },
    },
    Order: {
      __resolveReference: ({ id }: { id: string }) => ({ id }),
      saga: async ({ id }: { id: string }, _args: unknown, context: SagaContext) => {
        const saga = await readableSaga(id, context);
        return saga && sagaOf(saga);
      },
      returnSagas: async ({ id }: { id: string }, _args: unknown, context: SagaContext) => {
        requireIdentity(context.identity);
        const ids = await context.loaders.returnSagaIds.load(id);
        if (ids.length === 0) return [];
        await authorizeOrder(context.identity, id, context.loaders);
        const sagas = await context.loaders.sagas.loadMany(ids);
        return sagas
          .filter((saga): saga is SagaView => saga !== null && !(saga instanceof Error))
          .map(sagaOf);
      },
    },
  };
};
