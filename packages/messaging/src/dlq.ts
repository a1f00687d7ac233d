/**
 * Operations on a service's dead-letter queue `<queue>.dlq`: list parked messages, replay them
 * (attempts reset) or drop them with a record of who dropped what.
 *
 * Replay sends a message straight to the service's work queue (default exchange) with its
 * original exchange and routing key in headers, rather than through the original exchange:
 * republishing on the topic exchange would deliver it again to every other service bound to
 * that routing key, which already handled it.
 *
 * Drop records go to the durable queue `<queue>.dlq.dropped` as JSON (who, when, the message
 * with its body and error): the record lives with the broker, so it is the same whichever machine
 * the operator ran the tool from, survives restarts, and keeps the body so a drop can be undone.
 */
import amqp, { type Channel, type ConfirmChannel, type GetMessage } from 'amqplib';
import { confirmSend, HEADERS } from './consumer.ts';
import { MessagingError } from './errors.ts';
import { queueNames } from './topology.ts';

/** A parked message as shown to an operator. */
export interface ParkedMessage {
  messageId: string;
  type: string;
  exchange: string;
  routingKey: string;
  attempts: number;
  error: string;
  parkedAt: string;
  body: string;
}

/** A drop record written to `<queue>.dlq.dropped`. */
export interface DropRecord {
  droppedAt: string;
  droppedBy: string;
  queue: string;
  message: ParkedMessage;
}

/** Which parked messages an operation applies to: one id, or all of them. */
export type Selection = { id: string } | { all: true };

const header = (message: GetMessage, name: string): string => {
  const value = message.properties.headers?.[name];
  if (value === undefined || value === null) return '';
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
};

const describe = (message: GetMessage): ParkedMessage => {
  let type = typeof message.properties.type === 'string' ? message.properties.type : '';
  const body = message.content.toString('utf8');
  if (!type) {
    try {
      const parsed = JSON.parse(body) as { type?: unknown };
      type = typeof parsed.type === 'string' ? parsed.type : 'unknown';
    } catch {
      type = 'unknown';
    }
  }
  return {
    messageId: String(message.properties.messageId ?? '(none)'),
    type,
    exchange: header(message, HEADERS.originalExchange),
    routingKey: header(message, HEADERS.originalRoutingKey),
    attempts: Number(header(message, HEADERS.attempts) || 0),
    error: header(message, HEADERS.error),
    parkedAt: header(message, HEADERS.parkedAt),
    body,
  };
};

const selected = (selection: Selection, message: ParkedMessage): boolean =>
  'all' in selection || message.messageId === selection.id;

/**
 * Takes every message of the DLQ unacked, calls `visit` on each, then closes the channel: the
 * messages `visit` did not ack go back to the DLQ in their order.
 */
const walk = async (
  url: string,
  queue: string,
  visit: (channel: ConfirmChannel, message: GetMessage, parked: ParkedMessage) => Promise<void>,
): Promise<void> => {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createConfirmChannel();
    const dlq = queueNames(queue).dlq;
    await checkExists(connection, dlq);
    const { messageCount } = await channel.checkQueue(dlq);
    for (let seen = 0; seen < messageCount; seen++) {
      const message = await channel.get(dlq, { noAck: false });
      if (message === false) break;
      await visit(channel, message, describe(message));
    }
    await channel.close();
  } finally {
    await connection.close().catch(() => undefined);
  }
};

const checkExists = async (connection: amqp.ChannelModel, dlq: string): Promise<void> => {
  const probe: Channel = await connection.createChannel();
  probe.on('error', () => undefined);
  try {
    await probe.checkQueue(dlq);
    await probe.close();
  } catch (error) {
    throw new MessagingError(
      'INVALID_USAGE',
      `queue ${dlq} does not exist on this vhost: check the service name (its consumer declares it at start-up)`,
      { cause: error },
    );
  }
};

/** Lists the messages parked in `<queue>.dlq`, oldest first, leaving them in place. */
export const listParked = async (url: string, queue: string): Promise<ParkedMessage[]> => {
  const parked: ParkedMessage[] = [];
  await walk(url, queue, async (_channel, _message, description) => {
    parked.push(description);
  });
  return parked;
};

/**
 * Sends the selected parked messages back to the work queue `<queue>` with attempts reset and
 * their original exchange/routing key; each is removed from the DLQ only once the broker
 * confirmed the resend. Returns what was replayed.
 */
export const replayParked = async (
  url: string,
  queue: string,
  selection: Selection,
): Promise<ParkedMessage[]> => {
  const replayed: ParkedMessage[] = [];
  await walk(url, queue, async (channel, message, parked) => {
    if (!selected(selection, parked)) return;
    const headers: Record<string, unknown> = { ...(message.properties.headers ?? {}) };
    for (const name of [HEADERS.attempts, HEADERS.error, HEADERS.parkedAt, HEADERS.parkedBy, 'x-death']) {
      delete headers[name];
    }
    headers['x-replayed-at'] = new Date().toISOString();
    await confirmSend(channel, queueNames(queue).work, message.content, {
      persistent: true,
      contentType: message.properties.contentType ?? 'application/json',
      messageId: message.properties.messageId,
      correlationId: message.properties.correlationId,
      type: message.properties.type,
      appId: message.properties.appId,
      headers,
    });
    channel.ack(message);
    replayed.push(parked);
  });
  return replayed;
};

/**
 * Removes the selected parked messages; for each, a DropRecord is first written (confirmed) to
 * `<queue>.dlq.dropped`. `by` names the operator (CLI: --by, else $USER). Returns the records.
 */
export const dropParked = async (
  url: string,
  queue: string,
  selection: Selection,
  by: string,
): Promise<DropRecord[]> => {
  if (!by.trim()) throw new MessagingError('INVALID_USAGE', 'say who drops the messages (--by NAME or USER)');
  const records: DropRecord[] = [];
  await walk(url, queue, async (channel, message, parked) => {
    if (!selected(selection, parked)) return;
    const record: DropRecord = { droppedAt: new Date().toISOString(), droppedBy: by, queue, message: parked };
    await confirmSend(channel, queueNames(queue).dropped, Buffer.from(JSON.stringify(record)), {
      persistent: true,
      contentType: 'application/json',
      messageId: parked.messageId,
    });
    channel.ack(message);
    records.push(record);
  });
  return records;
};
