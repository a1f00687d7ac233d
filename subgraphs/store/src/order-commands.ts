/** The write side of orders: the order decider behind the kit's command handler (load, decide, append). */
import type { EventStoreClient } from '@magasin/event-store/client';
import { type CommandHandler, createCommandHandler } from '@magasin/subgraph-kit';
import { type Order, type OrderCommand, orderDecider } from './domain/order.ts';

/** Order streams kept in memory: far more than the orders in flight at once. */
const KEPT_ORDERS = 5_000;

/**
 * Handles order commands on `order-<orderId>` streams. The store writes them (the saga service
 * appends a return's steps to them too): the orders in flight are kept in memory, so confirming
 * one appends without reading its stream first, and a stream moved by another writer is read.
 */
export const createOrderCommands = (eventStore: EventStoreClient): CommandHandler<OrderCommand, Order> =>
  createCommandHandler({ eventStore, decider: orderDecider, cachedStreams: KEPT_ORDERS });
