/** The write side of orders: the order decider behind the kit's command handler (load, decide, append). */
import type { EventStoreClient } from '@magasin/event-store/client';
import { type CommandHandler, createCommandHandler } from '@magasin/subgraph-kit';
import { type Order, type OrderCommand, orderDecider } from './domain/order.ts';

/** Handles order commands on `order-<orderId>` streams (no cache: order streams are many and short). */
export const createOrderCommands = (eventStore: EventStoreClient): CommandHandler<OrderCommand, Order> =>
  createCommandHandler({ eventStore, decider: orderDecider });
