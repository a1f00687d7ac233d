/**
 * Order identity: which stream an order lives in. With an idempotency key the id is derived
 * from the customer and the key, so a retried placement lands on the same stream (and the
 * decider then decides nothing new); the same key from another customer is another order.
 */

import { DomainError } from '@magasin/subgraph-kit';
import { validate as isUuid, v5 as uuidv5, v7 as uuidv7 } from 'uuid';

/** Namespace of the v5 order ids (fixed forever: changing it would re-place retried orders). */
export const ORDER_ID_NAMESPACE = '6f1d3c3e-7b7a-4c49-9a55-2f3e8f0c5a10';

/** Longest idempotency key accepted (it is hashed, but a key that long is a client bug). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/**
 * `uuid v5(customerId + '/' + idempotencyKey)` with a key, a new uuid v7 without one.
 * BAD_USER_INPUT for a blank or overlong key.
 */
export const orderIdFor = (customerId: string, idempotencyKey?: string | null): string => {
  if (idempotencyKey === undefined || idempotencyKey === null) return uuidv7();
  if (idempotencyKey.trim() === '' || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `idempotencyKey must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters and not blank (or left out)`,
    );
  }
  return uuidv5(`${customerId}/${idempotencyKey}`, ORDER_ID_NAMESPACE);
};

/** The event store stream of an order. */
export const orderStream = (orderId: string): string => `order-${orderId}`;

/** BAD_USER_INPUT unless `orderId` has the shape of an order id (a UUID). */
export const requireOrderId = (orderId: string): string => {
  if (!isUuid(orderId)) {
    throw new DomainError('BAD_USER_INPUT', `${JSON.stringify(orderId)} is not an order id (a UUID)`, {
      orderId,
    });
  }
  return orderId;
};
