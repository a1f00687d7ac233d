/**
 * The RabbitMQ topology of Magasin, declared idempotently in code (every declaration is an
 * assert: running it again with the same options changes nothing).
 *
 * - exchanges `magasin.events` (topic), `magasin.commands` (topic), `magasin.saga-updates` (fanout);
 * - per service: durable work queue `<service>` bound to its routing keys;
 * - retry: one delay queue per backoff step, `<service>.retry.<ms>`, whose messages expire after
 *   `<ms>` and are dead-lettered through the default exchange straight back to `<service>` (only
 *   that service sees the retry, not every subscriber of the routing key). One queue per delay,
 *   rather than per-message TTLs in a single queue, because RabbitMQ only expires messages at the
 *   head of a queue: a long delay would hold back the short ones queued behind it;
 * - `<service>.dlq`: parking queue for messages that exhausted their attempts or are malformed;
 * - `<service>.dlq.dropped`: record of messages dropped from the DLQ by an operator.
 */
import { EXCHANGES } from '@magasin/events';
import type { Channel } from 'amqplib';

/** Backoff between attempts of a failing handler. */
export interface RetryPolicy {
  /** Attempts in all, the first included; then the message is parked. Default 5. */
  maxAttempts: number;
  /** Delay before the second attempt. Default 500 ms. */
  initialDelayMs: number;
  /** Multiplier per attempt. Default 2. */
  factor: number;
  /** Upper bound of a delay. Default 60 000 ms. */
  maxDelayMs: number;
}

/** The default retry policy: 5 attempts, 0.5 s, 1 s, 2 s, 4 s between them. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 500,
  factor: 2,
  maxDelayMs: 60_000,
};

/** Delay before attempt `failedAttempts + 1`, after `failedAttempts` failures (>= 1). */
export const retryDelayMs = (policy: RetryPolicy, failedAttempts: number): number =>
  Math.min(policy.maxDelayMs, Math.round(policy.initialDelayMs * policy.factor ** (failedAttempts - 1)));

/** Names of the queues of one service queue. */
export const queueNames = (queue: string) => ({
  work: queue,
  retry: (delayMs: number) => `${queue}.retry.${delayMs}`,
  dlq: `${queue}.dlq`,
  dropped: `${queue}.dlq.dropped`,
});

/** Queue type; `quorum` for a RabbitMQ cluster (replicated), `classic` (v2 storage) otherwise. */
export type QueueType = 'classic' | 'quorum';

const durableArguments = (type: QueueType): Record<string, unknown> =>
  type === 'quorum' ? { 'x-queue-type': 'quorum' } : { 'x-queue-version': 2 };

/** Declares the three shared exchanges. */
export const declareExchanges = async (channel: Channel): Promise<void> => {
  await channel.assertExchange(EXCHANGES.events, 'topic', { durable: true });
  await channel.assertExchange(EXCHANGES.commands, 'topic', { durable: true });
  await channel.assertExchange(EXCHANGES.sagaUpdates, 'fanout', { durable: true });
};

/** A binding of the work queue: messages of `exchange` matching `routingKey`. */
export interface Binding {
  exchange: string;
  routingKey: string;
}

/**
 * Declares the work queue, its bindings, its retry delay queues and its DLQ (and the exchanges).
 * Idempotent; fails with PRECONDITION_FAILED (channel closed by the broker) if a queue exists
 * with other arguments, e.g. another queue type: delete it or keep the old type.
 */
export const declareServiceQueue = async (
  channel: Channel,
  options: { queue: string; bindings: Binding[]; retry: RetryPolicy; queueType: QueueType },
): Promise<void> => {
  const names = queueNames(options.queue);
  await declareExchanges(channel);
  const args = durableArguments(options.queueType);
  await channel.assertQueue(names.work, { durable: true, arguments: args });
  for (const binding of options.bindings) {
    await channel.bindQueue(names.work, binding.exchange, binding.routingKey);
  }
  const delays = new Set<number>();
  for (let failed = 1; failed < options.retry.maxAttempts; failed++)
    delays.add(retryDelayMs(options.retry, failed));
  for (const delay of delays) {
    await channel.assertQueue(names.retry(delay), {
      durable: true,
      arguments: {
        ...durableArguments('classic'),
        'x-message-ttl': delay,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': names.work,
      },
    });
  }
  await channel.assertQueue(names.dlq, { durable: true, arguments: args });
  await channel.assertQueue(names.dropped, { durable: true, arguments: args });
};
