/**
 * The message being handled, visible to code running inside a handler (AsyncLocalStorage):
 * publishing from there carries its correlation id and uses its id as causation id.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** What a handler's publications inherit from the message being handled. */
export interface MessageContext {
  /** eventId or commandId of the message being handled. */
  messageId: string;
  correlationId: string;
  type: string;
  /** The consuming queue. */
  queue: string;
}

const storage = new AsyncLocalStorage<MessageContext>();

/** Runs fn with `context` as the message being handled. */
export const withMessageContext = <T>(context: MessageContext, fn: () => T): T => storage.run(context, fn);

/** The message being handled, or undefined outside a handler. */
export const currentMessage = (): MessageContext | undefined => storage.getStore();
