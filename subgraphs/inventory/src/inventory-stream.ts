/**
 * The one writer of the `inventory` stream in this process. Every product and reservation
 * lives in that single stream (one consistency boundary: an order of several products is
 * reserved all or nothing, and no two orders take the same unit), so its commands are decided
 * one at a time here: without that, concurrent orders would mostly fail their appends with
 * version conflicts and retry. The kit's command handler keeps the stream cached in memory and
 * reads only newer events; a replica appending meanwhile still makes the append conflict, which
 * reloads and decides again.
 */
import type { EventStoreClient } from '@magasin/event-store/client';
import { type CommandMetadata, type CommandResult, createCommandHandler } from '@magasin/subgraph-kit';
import { type Inventory, type InventoryCommand, inventoryDecider } from './domain/inventory.ts';

/** The stream holding every inventory event. */
export const INVENTORY_STREAM = 'inventory';

/** Decides inventory commands, one at a time. */
export interface InventoryStream {
  /** Decides `command` against the current inventory and appends what it decided. Throws the decider's DomainError. */
  handle(command: InventoryCommand, metadata: CommandMetadata): Promise<CommandResult<Inventory>>;
  /**
   * Like `handle`, with the command built inside this process's turn: what `build` reads (the
   * order stream, say) cannot be overtaken by another command of this process before the
   * decision. `build` returning undefined decides nothing (resolves undefined).
   */
  handleWhen(
    build: () => Promise<InventoryCommand | undefined>,
    metadata: CommandMetadata,
  ): Promise<CommandResult<Inventory> | undefined>;
}

/** Options of {@link openInventoryStream}. */
export interface InventoryStreamOptions {
  /** Attempts when another replica keeps appending (version conflicts) before CONFLICT; default 10. */
  maxAttempts?: number;
}

/** The writer of the inventory stream on `eventStore`. */
export const openInventoryStream = (
  eventStore: EventStoreClient,
  options: InventoryStreamOptions = {},
): InventoryStream => {
  const commands = createCommandHandler({
    eventStore,
    decider: inventoryDecider,
    cache: true,
    maxAttempts: options.maxAttempts ?? 10,
  });
  let turn: Promise<void> = Promise.resolve();
  /** Runs `work` after every earlier one has settled; its failure is its caller's, not the next one's. */
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    const run = turn.then(() => work());
    turn = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  };
  return {
    handle: (command, metadata) => inTurn(() => commands.handle(INVENTORY_STREAM, command, metadata)),
    handleWhen: (build, metadata) =>
      inTurn(async () => {
        const command = await build();
        return command ? commands.handle(INVENTORY_STREAM, command, metadata) : undefined;
      }),
  };
};
