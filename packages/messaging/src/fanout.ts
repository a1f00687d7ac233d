/**
 * Subscription to the `magasin.saga-updates` fanout exchange: each subscriber (a gateway
 * replica) gets its own exclusive, auto-deleted queue, so every replica sees every update.
 * Updates are live notifications, not work: no inbox, no retry; an update published while a
 * subscriber is reconnecting is missed (subscribers read the current state first, then follow).
 */
import { EXCHANGES } from '@magasin/events';
import type { Channel, ChannelModel } from 'amqplib';
import type { Logger } from 'pino';

/** A live subscription to saga updates. */
export interface Subscription {
  /** Stops receiving and deletes the subscriber's queue. */
  close(): Promise<void>;
}

/** @internal One subscriber queue, re-created on every connection. */
export class FanoutSubscription implements Subscription {
  private channel: Channel | undefined;
  private stopped = false;

  constructor(
    private readonly onUpdate: (update: unknown) => void,
    private readonly deps: { logger: Logger; onClosed: (subscription: FanoutSubscription) => void },
  ) {}

  async attach(connection: ChannelModel): Promise<void> {
    if (this.stopped) return;
    const channel = await connection.createChannel();
    channel.on('error', (error: Error) =>
      this.deps.logger.warn({ err: error }, 'saga-updates channel error'),
    );
    await channel.assertExchange(EXCHANGES.sagaUpdates, 'fanout', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    await channel.bindQueue(queue, EXCHANGES.sagaUpdates, '');
    await channel.consume(
      queue,
      (message) => {
        if (!message) return;
        try {
          this.onUpdate(JSON.parse(message.content.toString('utf8')));
        } catch (error) {
          this.deps.logger.warn(
            { err: error, messageId: message.properties.messageId },
            'saga update not delivered to subscriber',
          );
        }
      },
      { noAck: true },
    );
    this.channel = channel;
  }

  detach(): void {
    this.channel = undefined;
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const channel = this.channel;
    this.channel = undefined;
    if (channel) await channel.close().catch(() => undefined);
    this.deps.onClosed(this);
  }
}
