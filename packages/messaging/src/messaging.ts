/**
 * The connection to RabbitMQ of one service: publisher (confirm channel), consumers, and
 * recovery. On a lost connection it reconnects with backoff, re-declares the topology,
 * re-opens the publish channel and re-attaches every consumer; publications wait for it
 * (up to publishTimeoutMs) and resend what was not confirmed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CommandEnvelope,
  type CommandPayloadOf,
  type CommandType,
  commandRoutingKeyFor,
  type EventEnvelope,
  EXCHANGES,
  newEventId,
  routingKeyFor,
} from '@magasin/events';
import {
  context,
  extractTraceContext,
  injectTraceContext,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  tracer,
  withSpan,
} from '@magasin/telemetry';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type ConsumeOptions, type Consumer, HEADERS, ServiceConsumer } from './consumer.ts';
import { MessagingError } from './errors.ts';
import { FanoutSubscription, type Subscription } from './fanout.ts';
import { currentMessage } from './message-context.ts';
import { type MessagingMetrics, messagingMetrics } from './metrics.ts';
import { type PreparedMessage, type PublishSlot, publishSlot, sendBatch } from './publisher.ts';
import { declareExchanges, queueNames } from './topology.ts';

/** A message to publish. */
export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  /** Serialised as JSON. */
  body: unknown;
  /** AMQP message-id; the consumer's inbox key. */
  messageId: string;
  /** Default: the correlation id of the message being handled, else messageId. */
  correlationId?: string;
  /**
   * Extra headers; `traceparent` defaults to the active trace context (a given one gets a
   * producer span in its trace), `x-causation-id` to the handled message.
   */
  headers?: Record<string, unknown>;
  /** Reject when no queue matches. Default: true on magasin.commands, false elsewhere. */
  mandatory?: boolean;
  /** Metrics label and AMQP `type`; default `body.type` or 'unknown'. */
  type?: string;
}

/** The messaging runtime of a service. */
export interface Messaging {
  /** True while a connection and the publish channel are open. */
  isConnected(): boolean;
  /**
   * Publishes with publisher confirms, persistent, in order; resolves when the broker confirmed
   * all. Rejects (never drops silently) with PUBLISH_NACKED / PUBLISH_UNROUTABLE if the broker
   * refused one, PUBLISH_TIMEOUT if the connection is lost and not back within publishTimeoutMs
   * (messages unconfirmed when a connection drops are resent after reconnecting: at least once),
   * CLOSED after close().
   */
  publish(messages: OutgoingMessage[]): Promise<void>;
  /** Publishes committed event envelopes to magasin.events with routingKeyFor(type), each in its envelope's trace (traceparent). */
  publishEvents(events: EventEnvelope[]): Promise<void>;
  /** Sends commands to magasin.commands, routing key `<service>.<Command>`, mandatory. */
  sendCommands(commands: CommandEnvelope[]): Promise<void>;
  /** Publishes a saga progress update on the magasin.saga-updates fanout (every subscriber receives it). */
  publishSagaUpdate(update: { sagaId: string } & Record<string, unknown>): Promise<void>;
  /** Receives every saga update while subscribed (own exclusive queue, re-created after reconnects). */
  subscribeSagaUpdates(onUpdate: (update: unknown) => void): Promise<Subscription>;
  /**
   * Starts consuming the service's queue (declared with its bindings, retry and DLQ queues).
   * Throws INVALID_USAGE if the same queue is already consumed by this instance.
   */
  consume<Tx>(options: ConsumeOptions<Tx>): Promise<Consumer>;
  /** Stops consuming (waiting for in-flight handlers), waits for pending publications, closes. */
  close(): Promise<void>;
}

/** Options of connectMessaging. */
export interface MessagingOptions {
  /** AMQP URL, e.g. amqp://guest:guest@127.0.0.1:5672 (RABBITMQ_URL). */
  url: string;
  /** Service name: default queue name, connection name, appId. */
  service: string;
  logger: Logger;
  registry: Registry;
  /** AMQP heartbeat. Default 10 s. */
  heartbeatSeconds?: number;
  /** How long a publication waits for a lost connection to come back. Default 15 000 ms. */
  publishTimeoutMs?: number;
  /** How long connectMessaging retries the first connection. Default 30 000 ms. */
  connectTimeoutMs?: number;
  /** Reconnect backoff: first delay (default 100 ms), doubling up to maxReconnectDelayMs (default 5 000 ms). */
  initialReconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
}

/** Builds a command envelope, inheriting correlation and causation from the message being handled. */
export const newCommand = <C extends CommandType>(
  type: C,
  payload: CommandPayloadOf<C>,
  options: { actor: string; correlationId?: string; commandId?: string },
): CommandEnvelope<C, CommandPayloadOf<C>> => {
  const handled = currentMessage();
  const commandId = options.commandId ?? newEventId();
  const carrier = injectTraceContext({} as Record<string, unknown>);
  return {
    commandId,
    type,
    correlationId: options.correlationId ?? handled?.correlationId ?? commandId,
    causationId: handled?.messageId ?? null,
    actor: options.actor,
    issuedAt: new Date().toISOString(),
    traceparent: typeof carrier.traceparent === 'string' ? carrier.traceparent : null,
    payload,
  };
};

/** Connects (retrying up to connectTimeoutMs), declares the exchanges and opens the publish channel. */
export const connectMessaging = async (options: MessagingOptions): Promise<Messaging> => {
  const messaging = new RabbitMessaging(options);
  await messaging.start();
  return messaging;
};

class RabbitMessaging implements Messaging {
  private connection: ChannelModel | undefined;
  private slot: PublishSlot | undefined;
  private admin: Channel | undefined;
  private closing = false;
  private reconnecting = false;
  private readonly waiters = new Set<() => void>();
  private readonly consumers = new Set<ServiceConsumer<unknown>>();
  private readonly subscriptions = new Set<FanoutSubscription>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly metrics: MessagingMetrics;
  private readonly logger: Logger;
  private readonly removeProbe: () => void;

  constructor(private readonly options: MessagingOptions) {
    this.logger = options.logger.child({ component: 'messaging' });
    this.metrics = messagingMetrics(options.registry);
    this.removeProbe = this.metrics.addDlqProbe(() => this.dlqDepths());
  }

  async start(): Promise<void> {
    const deadline = Date.now() + (this.options.connectTimeoutMs ?? 30_000);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.establish();
        return;
      } catch (error) {
        if (Date.now() + this.delay(attempt) > deadline) {
          this.removeProbe();
          throw new MessagingError(
            'CONNECT_FAILED',
            `cannot connect to RabbitMQ at ${redact(this.options.url)} after ${attempt} attempts: ${(error as Error).message}. Is it running (rabbitmq-server -detached) and is RABBITMQ_URL right?`,
            { cause: error },
          );
        }
        this.logger.warn({ err: error, attempt }, 'RabbitMQ not reachable yet; retrying');
        await sleep(this.delay(attempt));
      }
    }
  }

  isConnected(): boolean {
    return !this.closing && this.slot !== undefined && !this.slot.closed;
  }

  private delay(attempt: number): number {
    const base = Math.min(
      this.options.maxReconnectDelayMs ?? 5_000,
      (this.options.initialReconnectDelayMs ?? 100) * 2 ** (attempt - 1),
    );
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  private async establish(): Promise<void> {
    const url = new URL(this.options.url);
    url.searchParams.set('heartbeat', String(this.options.heartbeatSeconds ?? 10));
    const connection = await amqp.connect(url.toString(), {
      timeout: 10_000,
      noDelay: true,
      clientProperties: { connection_name: `${this.options.service} (${process.pid})` },
    });
    try {
      connection.on('error', (error: Error) => this.logger.warn({ err: error }, 'RabbitMQ connection error'));
      connection.on('close', (error?: Error) => this.onConnectionLost(connection, error));
      connection.on('blocked', (reason: string) =>
        this.logger.warn({ reason }, 'RabbitMQ blocked publishing (alarm)'),
      );
      const setup = await connection.createChannel();
      await declareExchanges(setup);
      await setup.close();
      this.connection = connection;
      await this.openPublishChannel(connection);
      for (const consumer of this.consumers) await consumer.attach(connection);
      for (const subscription of this.subscriptions) await subscription.attach(connection);
      this.wake();
    } catch (error) {
      this.connection = undefined;
      this.slot = undefined;
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  private async openPublishChannel(connection: ChannelModel): Promise<void> {
    const channel = await connection.createConfirmChannel();
    channel.on('error', (error: Error) => this.logger.warn({ err: error }, 'publish channel error'));
    const slot = publishSlot(channel);
    channel.on('close', () => {
      if (this.slot !== slot) return;
      this.slot = undefined;
      // A channel-level error (e.g. an exchange that does not exist): reopen on the same connection.
      if (!this.closing && this.connection === connection) {
        setTimeout(() => {
          if (this.closing || this.connection !== connection || this.slot) return;
          this.openPublishChannel(connection)
            .then(() => this.wake())
            .catch((error: unknown) =>
              this.logger.warn({ err: error }, 'could not reopen the publish channel'),
            );
        }, 50).unref();
      }
    });
    this.slot = slot;
  }

  private onConnectionLost(connection: ChannelModel, error?: Error): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.slot = undefined;
    this.admin = undefined;
    for (const consumer of this.consumers) consumer.detach();
    for (const subscription of this.subscriptions) subscription.detach();
    if (this.closing) return;
    this.logger.warn({ err: error }, 'RabbitMQ connection lost; reconnecting');
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    try {
      for (let attempt = 1; !this.closing; attempt++) {
        await sleep(this.delay(attempt));
        if (this.closing) return;
        try {
          await this.establish();
          this.logger.info(
            { attempt },
            'RabbitMQ connection recovered; topology re-declared, consumers resumed',
          );
          return;
        } catch (error) {
          this.logger.warn({ err: error, attempt }, 'reconnect failed; retrying');
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }

  private onConsumerChannelLost(consumer: ServiceConsumer<unknown>): void {
    const connection = this.connection;
    // A channel closes just before its connection: give the connection's close event a moment,
    // so a connection loss (which re-attaches every consumer) is not mistaken for a channel error.
    setTimeout(() => {
      if (!connection || this.closing || this.connection !== connection) return;
      consumer.attach(connection).catch((error: unknown) => {
        this.logger.error(
          { err: error, queue: consumer.queue },
          'could not re-attach consumer; reconnecting to recover',
        );
        void connection.close().catch(() => undefined);
      });
    }, 50).unref();
  }

  private wake(): void {
    for (const waiter of this.waiters) waiter();
    this.waiters.clear();
  }

  private async readySlot(deadline: number): Promise<PublishSlot> {
    for (;;) {
      if (this.closing)
        throw new MessagingError('CLOSED', 'messaging is closed: nothing more can be published');
      if (this.slot && !this.slot.closed) return this.slot;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new MessagingError(
          'PUBLISH_TIMEOUT',
          `RabbitMQ unreachable for ${this.options.publishTimeoutMs ?? 15_000} ms: message(s) not confirmed; retry later (the caller still owns them)`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1_000));
        this.waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  publish(messages: OutgoingMessage[]): Promise<void> {
    if (this.closing)
      return Promise.reject(
        new MessagingError('CLOSED', 'messaging is closed: nothing more can be published'),
      );
    const run = withSpan(
      'messaging',
      'publish',
      {
        kind: SpanKind.PRODUCER,
        attributes: { 'messaging.system': 'rabbitmq', 'messaging.batch.message_count': messages.length },
      },
      async () => {
        const producers: Span[] = [];
        const prepared = messages.map((message) => this.prepare(this.inOwnTrace(message, producers)));
        try {
          await this.publishPrepared(prepared);
        } catch (error) {
          for (const span of producers) {
            span.recordException(error as Error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          }
          throw error;
        } finally {
          for (const span of producers) span.end();
        }
      },
    );
    this.pending.add(run);
    return run.finally(() => this.pending.delete(run));
  }

  /**
   * A message that brings its own `traceparent` (an event committed during a request and
   * published later by the relay) gets a producer span in that trace, and carries it: its
   * consumers then continue the request's trace through RabbitMQ. Other messages inherit the
   * batch's span. Without a tracing SDK the traceparent passes through unchanged.
   */
  private inOwnTrace(message: OutgoingMessage, producers: Span[]): OutgoingMessage {
    const own = message.headers?.traceparent;
    if (typeof own !== 'string' || own === '') return message;
    const span = tracer('messaging').startSpan(
      `${message.exchange} publish`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'rabbitmq',
          'messaging.destination.name': message.exchange,
          'messaging.rabbitmq.destination.routing_key': message.routingKey,
          'messaging.message.id': message.messageId,
        },
      },
      extractTraceContext({ traceparent: own }),
    );
    producers.push(span);
    const headers: Record<string, unknown> = { ...message.headers };
    delete headers.traceparent;
    injectTraceContext(headers, trace.setSpan(context.active(), span));
    return { ...message, headers };
  }

  private prepare(message: OutgoingMessage): PreparedMessage {
    const handled = currentMessage();
    const headers: Record<string, unknown> = { ...message.headers };
    if (headers.traceparent === undefined || headers.traceparent === null) {
      delete headers.traceparent;
      injectTraceContext(headers);
    }
    if (headers[HEADERS.causationId] === undefined && handled)
      headers[HEADERS.causationId] = handled.messageId;
    const body = message.body as { type?: unknown } | null;
    const type = message.type ?? (typeof body?.type === 'string' ? body.type : 'unknown');
    return {
      exchange: message.exchange,
      routingKey: message.routingKey,
      content: Buffer.from(JSON.stringify(message.body)),
      type,
      mandatory: message.mandatory ?? message.exchange === EXCHANGES.commands,
      options: {
        persistent: true,
        contentType: 'application/json',
        messageId: message.messageId,
        correlationId: message.correlationId ?? handled?.correlationId ?? message.messageId,
        type,
        appId: this.options.service,
        timestamp: Math.floor(Date.now() / 1000),
        mandatory: message.mandatory ?? message.exchange === EXCHANGES.commands,
        headers,
      },
    };
  }

  private async publishPrepared(messages: PreparedMessage[]): Promise<void> {
    const deadline = Date.now() + (this.options.publishTimeoutMs ?? 15_000);
    let remaining = messages;
    try {
      while (remaining.length > 0) {
        const slot = await this.readySlot(deadline);
        const { lost } = await sendBatch(slot, remaining);
        if (lost.length > 0) {
          this.logger.warn(
            { unconfirmed: lost.length },
            'channel closed before confirms; resending after recovery',
          );
        }
        remaining = lost;
      }
      this.countPublished(messages, 'ok');
    } catch (error) {
      this.countPublished(messages, 'failed');
      throw error;
    }
  }

  private countPublished(messages: PreparedMessage[], outcome: 'ok' | 'failed'): void {
    const byType = new Map<string, number>();
    for (const { type } of messages) byType.set(type, (byType.get(type) ?? 0) + 1);
    for (const [type, count] of byType) this.metrics.published.inc({ type, outcome }, count);
  }

  publishEvents(events: EventEnvelope[]): Promise<void> {
    return this.publish(
      events.map((event) => ({
        exchange: EXCHANGES.events,
        routingKey: routingKeyFor(event.type),
        body: event,
        messageId: event.eventId,
        correlationId: event.correlationId,
        type: event.type,
        headers: {
          ...(event.traceparent ? { traceparent: event.traceparent } : {}),
          ...(event.causationId ? { [HEADERS.causationId]: event.causationId } : {}),
        },
      })),
    );
  }

  sendCommands(commands: CommandEnvelope[]): Promise<void> {
    return this.publish(
      commands.map((command) => ({
        exchange: EXCHANGES.commands,
        routingKey: commandRoutingKeyFor(command.type),
        body: command,
        messageId: command.commandId,
        correlationId: command.correlationId,
        type: command.type,
        mandatory: true,
        headers: {
          ...(command.traceparent ? { traceparent: command.traceparent } : {}),
          ...(command.causationId ? { [HEADERS.causationId]: command.causationId } : {}),
        },
      })),
    );
  }

  publishSagaUpdate(update: { sagaId: string } & Record<string, unknown>): Promise<void> {
    return this.publish([
      {
        exchange: EXCHANGES.sagaUpdates,
        routingKey: '',
        body: update,
        messageId: newEventId(),
        type: 'SagaUpdate',
        mandatory: false,
      },
    ]);
  }

  async subscribeSagaUpdates(onUpdate: (update: unknown) => void): Promise<Subscription> {
    if (this.closing) throw new MessagingError('CLOSED', 'messaging is closed: cannot subscribe');
    const subscription = new FanoutSubscription(onUpdate, {
      logger: this.logger,
      onClosed: (closed) => this.subscriptions.delete(closed),
    });
    this.subscriptions.add(subscription);
    if (this.connection) await subscription.attach(this.connection);
    return subscription;
  }

  async consume<Tx>(options: ConsumeOptions<Tx>): Promise<Consumer> {
    if (this.closing) throw new MessagingError('CLOSED', 'messaging is closed: cannot start a consumer');
    const queue = options.queue ?? this.options.service;
    if ([...this.consumers].some((consumer) => consumer.queue === queue)) {
      throw new MessagingError(
        'INVALID_USAGE',
        `queue '${queue}' is already consumed by this service: pass every handler to one consume() call`,
      );
    }
    const consumer = new ServiceConsumer<Tx>(options, {
      service: this.options.service,
      logger: this.logger,
      metrics: this.metrics,
      onClosed: (closed) => this.consumers.delete(closed as ServiceConsumer<unknown>),
      onChannelLost: (lost) => this.onConsumerChannelLost(lost as ServiceConsumer<unknown>),
    });
    this.consumers.add(consumer as ServiceConsumer<unknown>);
    if (this.connection) {
      try {
        await consumer.attach(this.connection);
      } catch (error) {
        this.consumers.delete(consumer as ServiceConsumer<unknown>);
        throw error;
      }
    }
    return consumer;
  }

  private async dlqDepths(): Promise<Array<{ queue: string; depth: number }>> {
    const connection = this.connection;
    if (!connection || this.consumers.size === 0) return [];
    try {
      if (!this.admin) {
        const admin = await connection.createChannel();
        admin.on('error', () => undefined);
        admin.on('close', () => {
          if (this.admin === admin) this.admin = undefined;
        });
        this.admin = admin;
      }
      const depths: Array<{ queue: string; depth: number }> = [];
      for (const consumer of this.consumers) {
        const dlq = queueNames(consumer.queue).dlq;
        const { messageCount } = await this.admin.checkQueue(dlq);
        depths.push({ queue: dlq, depth: messageCount });
      }
      return depths;
    } catch (error) {
      this.logger.warn({ err: error }, 'could not read DLQ depth');
      return [];
    }
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.wake();
    await Promise.allSettled([...this.consumers].map((consumer) => consumer.close()));
    await Promise.allSettled([...this.subscriptions].map((subscription) => subscription.close()));
    await Promise.allSettled([...this.pending]);
    this.removeProbe();
    const connection = this.connection;
    this.connection = undefined;
    this.slot = undefined;
    if (connection) await connection.close().catch(() => undefined);
  }
}

const redact = (url: string): string => {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
};
