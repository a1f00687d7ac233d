/**
 * Resolvers of the payment subgraph: the `Payment` entity and the `payment` field it adds to the
 * store's `Order`. A payment is read by its order's customer or by an admin (FORBIDDEN otherwise).
 */
import type { Identity } from '@magasin/service-kit';
import { DomainError, hasRole, type RequestContext, requireIdentity } from '@magasin/subgraph-kit';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { createPaymentLoaders, type PaymentLoaders, type PaymentView } from './payment-loaders.ts';

/** What the resolvers find in each request's context. */
export interface PaymentContext extends RequestContext {
  payments: PaymentLoaders;
}

/** The per-request part of the context: fresh loaders (a cache per request, never shared). */
export const paymentContext = (prisma: PrismaClient): Pick<PaymentContext, 'payments'> => ({
  payments: createPaymentLoaders(prisma),
});

/** Throws unless the identity placed the order or is an admin. */
const authorizeRead = (
  identity: Identity | undefined,
  order: { orderId: string; customerId: string | null },
): void => {
  const caller = requireIdentity(identity);
  if (hasRole(caller, 'admin')) return;
  if (order.customerId === null || order.customerId !== caller.sub) {
    throw new DomainError('FORBIDDEN', `${caller.sub} may not see the payment of order ${order.orderId}`, {
      orderId: order.orderId,
    });
  }
};

/** The API's view of a payment (the customer id stays internal). */
const publicView = ({ customerId: _customerId, ...payment }: PaymentView) => payment;

/** The resolver map. */
export const resolvers = () => ({
  Payment: {
    __resolveReference: async ({ id }: { id: string }, context: PaymentContext) => {
      requireIdentity(context.identity);
      const payment = await context.payments.byId.load(id);
      if (!payment) return null;
      authorizeRead(context.identity, payment);
      return publicView(payment);
    },
  },
  Order: {
    __resolveReference: ({ id }: { id: string }) => ({ id }),
    payment: async ({ id }: { id: string }, _args: unknown, context: PaymentContext) => {
      requireIdentity(context.identity);
      const order = await context.payments.byOrderId.load(id);
      // An order this service has not seen yet has no payment: nothing to protect.
      if (order.customerId === null && order.payment === null) return null;
      authorizeRead(context.identity, order);
      return order.payment ? publicView(order.payment) : null;
    },
  },
});
