/** A queue bound to every event of `magasin.events` on a test vhost, counting distinct event ids. */
import { declareExchanges } from '@magasin/messaging';
import amqp from 'amqplib';

export interface EventTap {
  /** Distinct event ids received. */
  readonly eventIds: Set<string>;
  /** Positions in delivery order. */
  readonly positions: number[];
  /** Deliveries, duplicates included. */
  deliveries(): number;
  close(): Promise<void>;
}

/** Declares the exchanges and a durable queue bound with `#` on `url`, and consumes it. */
export const tapEvents = async (
  url: string,
  queue = 'event-tap',
  eventIds: Set<string> = new Set(),
): Promise<EventTap> => {
  const connection = await amqp.connect(url);
  const channel = await connection.createChannel();
  await declareExchanges(channel);
  await channel.assertQueue(queue, { durable: true });
  await channel.bindQueue(queue, 'magasin.events', '#');
  let deliveries = 0;
  const positions: number[] = [];
  await channel.prefetch(1_000);
  await channel.consume(queue, (message) => {
    if (!message) return;
    deliveries++;
    eventIds.add(String(message.properties.messageId));
    positions.push((JSON.parse(message.content.toString()) as { position: number }).position);
    channel.ack(message);
  });
  return {
    eventIds,
    positions,
    deliveries: () => deliveries,
    close: async () => {
      await connection.close().catch(() => undefined); // already closed by a broker restart
    },
  };
};
