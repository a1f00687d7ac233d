/**
 * Publishing on a confirm channel: every message of a batch is written at once (pipelined,
 * respecting the socket's back-pressure) and the batch resolves when the broker confirmed all
 * of them. One callback per message, one promise per batch: no per-message promise, no
 * waitForConfirms over unrelated publications.
 */
import type { ConfirmChannel, Message, Options } from 'amqplib';
import { MessagingError } from './errors.ts';

/** A message ready to be written: body serialised, AMQP properties set. */
export interface PreparedMessage {
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish & { messageId: string };
  /** Metrics label: the event or command type. */
  type: string;
  /** Returned by the broker (and rejected to the caller) when no queue matches. */
  mandatory: boolean;
}

/** A confirm channel with the bookkeeping the publisher needs. */
export interface PublishSlot {
  channel: ConfirmChannel;
  /** Ids of mandatory messages the broker returned as unroutable, until their confirm arrives. */
  returned: Set<string>;
  closed: boolean;
  /** Resolves when the socket drained or the channel closed (one waiter shared by all batches). */
  drained(): Promise<void>;
}

/** Wraps a confirm channel; tracks returns and closure. */
export const publishSlot = (channel: ConfirmChannel): PublishSlot => {
  let draining: Promise<void> | undefined;
  const slot: PublishSlot = {
    channel,
    returned: new Set(),
    closed: false,
    drained() {
      draining ??= new Promise<void>((resolve) => {
        const settle = () => {
          channel.off('drain', settle);
          channel.off('close', settle);
          draining = undefined;
          resolve();
        };
        channel.on('drain', settle);
        channel.on('close', settle);
      });
      return draining;
    },
  };
  channel.on('return', (message: Message) => {
    const id = message.properties.messageId;
    if (typeof id === 'string') slot.returned.add(id);
  });
  channel.on('close', () => {
    slot.closed = true;
  });
  return slot;
};

/** Outcome of one attempt at a batch: messages whose fate is unknown because the channel closed. */
export interface BatchResult {
  lost: PreparedMessage[];
}

/**
 * Writes `batch` on `slot` and waits for every confirm. Resolves with the messages that were
 * neither confirmed nor refused because the channel closed (the caller resends them after
 * reconnecting); rejects with PUBLISH_NACKED or PUBLISH_UNROUTABLE when the broker refused one.
 */
export const sendBatch = async (slot: PublishSlot, batch: PreparedMessage[]): Promise<BatchResult> => {
  const lost: PreparedMessage[] = [];
  let refused: MessagingError | undefined;
  let left = batch.length;
  let settle: () => void = () => undefined;
  const confirmed = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const done = () => {
    left -= 1;
    if (left === 0) settle();
  };
  for (const message of batch) {
    if (slot.closed) {
      lost.push(message);
      done();
      continue;
    }
    let writable: boolean;
    try {
      writable = slot.channel.publish(
        message.exchange,
        message.routingKey,
        message.content,
        message.options,
        (error: unknown) => {
          if (error instanceof Error && error.message === 'message nacked') {
            refused ??= new MessagingError(
              'PUBLISH_NACKED',
              `RabbitMQ refused message ${message.options.messageId} (${message.type}) to ${message.exchange}/${message.routingKey}: it was not stored; check the broker's logs (disk/memory alarms, queue limits)`,
            );
          } else if (error) {
            lost.push(message);
          } else if (message.mandatory && slot.returned.delete(message.options.messageId)) {
            refused ??= new MessagingError(
              'PUBLISH_UNROUTABLE',
              `no queue is bound to ${message.exchange} for routing key '${message.routingKey}' (message ${message.options.messageId}, ${message.type}): start the receiving service once so it declares its queue`,
            );
          }
          done();
        },
      );
    } catch {
      // amqplib throws synchronously when the channel is already closed.
      slot.closed = true;
      lost.push(message);
      done();
      continue;
    }
    if (!writable && !slot.closed) await slot.drained();
  }
  if (batch.length > 0) await confirmed;
  if (refused) throw refused;
  return { lost };
};
