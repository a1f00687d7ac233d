/**
 * The one writer of the `inventory` stream in this process. Every product and reservation
 * lives in that single stream (one consistency boundary: an order of several products is
 * reserved all or nothing, and no two orders take the same unit), so its commands are decided
 * in turns by the kit's stream writer: each turn decides every command that queued up meanwhile
 * against the cached state and appends them together (one read and one append per turn, no
 * conflicts between them). A replica appending meanwhile makes the append conflict, which
 * reloads and decides the turn again.
 */
import type { EventStoreClient } from '@magasin/event-store/client';
import { openStreamWriter, type StreamWriter } from '@magasin/subgraph-kit';
import { type Inventory, type InventoryCommand, inventoryDecider } from './domain/inventory.ts';

/** The stream holding every inventory event. */
export const INVENTORY_STREAM = 'inventory';

/** Decides inventory commands in turns (see the module comment). */
export type InventoryStream = StreamWriter<InventoryCommand, Inventory>;

/** Options of {@link openInventoryStream}. */
export interface InventoryStreamOptions {
  /** Attempts when another replica keeps appending (version conflicts) before CONFLICT; default 10. */
  maxAttempts?: number;
}

/** The writer of the inventory stream on `eventStore`. */
export const openInventoryStream = (
  eventStore: EventStoreClient,
  options: InventoryStreamOptions = {},
): InventoryStream =>
  openStreamWriter({
    eventStore,
    decider: inventoryDecider,
    streamId: INVENTORY_STREAM,
    maxAttempts: options.maxAttempts ?? 10,
  });
