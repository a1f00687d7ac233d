/**
 * A service's consumer: validates each message against its contract, runs the handler inside
 * an inbox transaction, acks after commit; failures go to a delay queue and come back, and after
 * the last attempt the message is parked in `<queue>.dlq`. Malformed messages are parked at once.
 */
import {
  type CommandOf,
  type CommandType,
  commandRoutingKeyFor,
  type DomainEvent,
  type EventOf,
  type EventType,
  EXCHANGES,
  parseCommand,
  parseEnvelope,
  routingKeyFor,
} from '@magasin/events';
import { extractTraceContext, SpanKind, withSpan } from '@magasin/telemetry';
import type { ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import type { Logger } from 'pino';
import type { Inbox } from './inbox.ts';
import { withMessageContext } from './message-context.ts';
import type { ConsumeOutcome, MessagingMetrics } from './metrics.ts';
import {
  type Binding,
  DEFAULT_RETRY_POLICY,
  declareServiceQueue,
  type QueueType,
  queueNames,
  type RetryPolicy,
  retryDelayMs,
} from './topology.ts';

/** Headers written on retried and parked messages. */
export const HEADERS = {
  /** Failed attempts so far. */
  attempts: 'x-attempts',
  /** Last error (retried) or the reason for parking. */
  error: 'x-error',
  originalExchange: 'x-original-exchange',
  originalRoutingKey: 'x-original-routing-key',
  /** ISO time the message was parked. */
  parkedAt: 'x-parked-at',
  /** Queue whose consumer parked it. */
  parkedBy: 'x-parked-by',
  /** Id of the message that caused this one. */
  causationId: 'x-causation-id',
} as const;

/** What a handler knows about the delivery besides the message. */
export interface HandlerContext {
  /** 1 for the first attempt. */
  attempt: number;
  queue: string;
  routingKey: string;
  /** Logger with messageId, type and correlationId bound. */
  logger: Logger;
}

/** Handles one event inside the inbox transaction `tx`; throwing rolls back and retries. */
export type EventHandler<T extends EventType, Tx> = (
  event: EventOf<T>,
  tx: Tx,
  context: HandlerContext,
) => Promise<void>;
/** Handles one command inside the inbox transaction `tx`; throwing rolls back and retries. */
export type CommandHandler<C extends CommandType, Tx> = (
  command: CommandOf<C>,
  tx: Tx,
  context: HandlerContext,
) => Promise<void>;

/** What to consume and how. The queue is bound to the routing key of every handled type. */
export interface ConsumeOptions<Tx> {
  /** Records handled message ids in the same transaction as the handler's effect. */
  inbox: Inbox<Tx>;
  /** Event handlers by type; the queue is bound to `<context>.<Type>` on magasin.events for each. */
  events?: { [T in EventType]?: EventHandler<T, Tx> };
  /**
   * Handles every event that has no handler in `events`, whatever its type: the queue is bound
   * to `#` on magasin.events (every routing key), for services that record everything (the
   * audit trail). Events still pass their contract first (a malformed one is parked). Default:
   * none, and the queue is bound to the routing keys of `events` only.
   */
  anyEvent?: (event: DomainEvent, tx: Tx, context: HandlerContext) => Promise<void>;
  /** Command handlers by name; bound to `<service>.<Command>` on magasin.commands for each. */
  commands?: { [C in CommandType]?: CommandHandler<C, Tx> };
  /** Work queue name; default the service name. Also the inbox consumer name. */
  queue?: string;
  /** Unacked messages in flight (handlers running concurrently). Default 32. */
  prefetch?: number;
  /** Retry policy; default DEFAULT_RETRY_POLICY (5 attempts, 0.5 s doubling). */
  retry?: Partial<RetryPolicy>;
  /** Default 'classic' (v2 storage); 'quorum' on a cluster. Must not change once the queue exists. */
  queueType?: QueueType;
}

/** A running consumer. */
export interface Consumer {
  readonly queue: string;
  /** Stops consuming, waits for in-flight handlers, closes its channel. */
  close(): Promise<void>;
}

type AnyHandler<Tx> = (message: never, tx: Tx, context: HandlerContext) => Promise<void>;

const headerString = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : undefined;

/**
 * Whether retrying cannot help: the error says so with `retryable: false` (a business rule the
 * message breaks for good). Such a message is parked at its first failure.
 */
export const isPermanentFailure = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === false;

const errorText = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : `non-error thrown: ${String(error)}`;

/** @internal The consumer of one queue; attached to each new connection by Messaging. */
export class ServiceConsumer<Tx> implements Consumer {
  readonly queue: string;
  private readonly retry: RetryPolicy;
  private readonly bindings: Binding[];
  private readonly eventHandlers: Map<string, AnyHandler<Tx>>;
  private readonly anyEventHandler: AnyHandler<Tx> | undefined;
  private readonly commandHandlers: Map<string, AnyHandler<Tx>>;
  private channel: ConfirmChannel | undefined;
  private consumerTag: string | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly options: ConsumeOptions<Tx>,
    private readonly deps: {
      service: string;
      logger: Logger;
      metrics: MessagingMetrics;
      onClosed: (consumer: ServiceConsumer<Tx>) => void;
      onChannelLost: (consumer: ServiceConsumer<Tx>) => void;
    },
  ) {
    this.queue = options.queue ?? deps.service;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.eventHandlers = new Map(Object.entries(options.events ?? {}) as [string, AnyHandler<Tx>][]);
    this.commandHandlers = new Map(Object.entries(options.commands ?? {}) as [string, AnyHandler<Tx>][]);
    this.anyEventHandler = options.anyEvent as AnyHandler<Tx> | undefined;
    this.bindings = [
      // `#` already matches every event; a queue gets one copy of a message however many of its bindings match.
      ...(this.anyEventHandler
        ? [{ exchange: EXCHANGES.events, routingKey: '#' }]
        : [...this.eventHandlers.keys()].map((type) => ({
            exchange: EXCHANGES.events,
            routingKey: routingKeyFor(type),
          }))),
      ...[...this.commandHandlers.keys()].map((type) => ({
        exchange: EXCHANGES.commands,
        routingKey: commandRoutingKeyFor(type),
      })),
    ];
  }

  /** Declares the queue's topology on a new channel of `connection` and starts consuming. */
  async attach(connection: ChannelModel): Promise<void> {
    if (this.stopped) return;
    const channel = await connection.createConfirmChannel();
    channel.on('error', (error: Error) =>
      this.deps.logger.warn({ err: error, queue: this.queue }, 'consumer channel error'),
    );
    channel.on('close', () => {
      if (this.channel !== channel) return;
      this.channel = undefined;
      this.consumerTag = undefined;
      if (!this.stopped) this.deps.onChannelLost(this);
    });
    await channel.prefetch(this.options.prefetch ?? 32);
    await declareServiceQueue(channel, {
      queue: this.queue,
      bindings: this.bindings,
      retry: this.retry,
      queueType: this.options.queueType ?? 'classic',
    });
    this.channel = channel;
    const { consumerTag } = await channel.consume(this.queue, (message) => {
      if (message === null) {
        this.deps.logger.warn(
          { queue: this.queue },
          'consumer cancelled by the broker (queue deleted?); re-attaching',
        );
        void channel.close().catch(() => undefined);
        return;
      }
      const handling = this.handle(channel, message);
      this.inFlight.add(handling);
      void handling.finally(() => this.inFlight.delete(handling));
    });
    this.consumerTag = consumerTag;
  }

  /** Forgets the channel of a lost connection (its deliveries will be redelivered). */
  detach(): void {
    this.channel = undefined;
    this.consumerTag = undefined;
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const channel = this.channel;
    if (channel && this.consumerTag) {
      await channel.cancel(this.consumerTag).catch((error: unknown) => {
        this.deps.logger.warn(
          { err: error, queue: this.queue },
          'cancel failed; closing the channel instead',
        );
      });
    }
    await Promise.allSettled([...this.inFlight]);
    this.channel = undefined;
    if (channel) await channel.close().catch(() => undefined);
    this.deps.onClosed(this);
  }

  private async handle(channel: ConfirmChannel, message: ConsumeMessage): Promise<void> {
    const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
    const failedAttempts = Number(headers[HEADERS.attempts] ?? 0) || 0;
    const exchange = headerString(headers[HEADERS.originalExchange]) ?? message.fields.exchange;
    const routingKey = headerString(headers[HEADERS.originalRoutingKey]) ?? message.fields.routingKey;
    const parent = extractTraceContext(headers);
    await withSpan(
      'messaging',
      `${this.queue} process`,
      {
        kind: SpanKind.CONSUMER,
        parent,
        attributes: {
          'messaging.system': 'rabbitmq',
          'messaging.destination.name': exchange,
          'messaging.rabbitmq.destination.routing_key': routingKey,
          'messaging.message.id': String(message.properties.messageId ?? ''),
          'messaging.consumer.group.name': this.queue,
        },
      },
      async (span) => {
        const parsed = this.parse(message, exchange);
        if (!parsed.ok) {
          span.setAttribute('magasin.outcome', 'parked');
          await this.park(channel, message, {
            exchange,
            routingKey,
            attempts: failedAttempts,
            error: parsed.reason,
          });
          this.count(parsed.type, 'parked');
          return;
        }
        const { type, messageId, correlationId, body, handler } = parsed;
        span.setAttribute('magasin.message.type', type);
        const logger = this.deps.logger.child({ messageId, type, correlationId, queue: this.queue });
        const context: HandlerContext = {
          attempt: failedAttempts + 1,
          queue: this.queue,
          routingKey,
          logger,
        };
        const stopTimer = this.deps.metrics.handlerDuration.startTimer({ type });
        try {
          const outcome = await withMessageContext(
            { messageId, correlationId, type, queue: this.queue },
            () =>
              this.options.inbox.runOnce(this.queue, messageId, (tx) => handler(body as never, tx, context)),
          );
          stopTimer();
          this.ack(channel, message, logger);
          this.count(type, outcome === 'applied' ? 'ok' : 'duplicate');
          span.setAttribute('magasin.outcome', outcome === 'applied' ? 'ok' : 'duplicate');
        } catch (error) {
          stopTimer();
          const attempts = failedAttempts + 1;
          const reason = errorText(error);
          const permanent = isPermanentFailure(error);
          if (permanent || attempts >= this.retry.maxAttempts) {
            logger.error(
              { err: error, attempts },
              permanent
                ? `handler failed for a reason no retry can change; parking in ${this.queue}.dlq`
                : `handler failed ${attempts} times; parking in ${this.queue}.dlq`,
            );
            await this.park(channel, message, { exchange, routingKey, attempts, error: reason });
            this.count(type, 'parked');
            span.setAttribute('magasin.outcome', 'parked');
          } else {
            const delay = retryDelayMs(this.retry, attempts);
            logger.warn({ err: error, attempts, retryInMs: delay }, 'handler failed; retrying after a delay');
            await this.sendRetry(channel, message, { exchange, routingKey, attempts, error: reason, delay });
            this.count(type, 'retried');
            span.setAttribute('magasin.outcome', 'retried');
          }
          // Rethrown so the span records the failure; already routed, so not logged again below.
          const routed = error instanceof Error ? error : new Error(reason);
          this.handledErrors.add(routed);
          throw routed;
        }
      },
    ).catch((error: unknown) => {
      // Handler errors were routed to retry/park above; what reaches here is a broker failure
      // while doing so: the message stays unacked and is redelivered on the next channel.
      if (!(error instanceof Error) || !this.isHandled(error)) {
        this.deps.logger.warn(
          { err: error, queue: this.queue, messageId: message.properties.messageId },
          'could not settle message; it will be redelivered',
        );
      }
    });
  }

  private readonly handledErrors = new WeakSet<Error>();
  private isHandled(error: Error): boolean {
    return this.handledErrors.has(error);
  }

  private parse(
    message: ConsumeMessage,
    exchange: string,
  ):
    | {
        ok: true;
        type: string;
        messageId: string;
        correlationId: string;
        body: unknown;
        handler: AnyHandler<Tx>;
      }
    | { ok: false; type: string; reason: string } {
    let raw: unknown;
    try {
      raw = JSON.parse(message.content.toString('utf8'));
    } catch (error) {
      return { ok: false, type: 'unknown', reason: `malformed: body is not JSON (${errorText(error)})` };
    }
    const rawType =
      typeof raw === 'object' && raw !== null && typeof (raw as { type?: unknown }).type === 'string'
        ? (raw as { type: string }).type
        : 'unknown';
    if (exchange === EXCHANGES.commands) {
      const result = parseCommand(raw);
      if (!result.ok) return { ok: false, type: rawType, reason: `malformed: ${result.reason}` };
      const handler = this.commandHandlers.get(result.command.type);
      if (!handler)
        return { ok: false, type: rawType, reason: `no handler for command ${rawType} in ${this.queue}` };
      const { command } = result;
      return {
        ok: true,
        type: command.type,
        messageId: command.commandId,
        correlationId: command.correlationId,
        body: command,
        handler,
      };
    }
    const result = parseEnvelope(raw);
    if (!result.ok) return { ok: false, type: rawType, reason: `malformed: ${result.reason}` };
    const handler = this.eventHandlers.get(result.event.type) ?? this.anyEventHandler;
    if (!handler)
      return { ok: false, type: rawType, reason: `no handler for event ${rawType} in ${this.queue}` };
    const { event } = result;
    return {
      ok: true,
      type: event.type,
      messageId: event.eventId,
      correlationId: event.correlationId,
      body: event,
      handler,
    };
  }

  private count(type: string, outcome: ConsumeOutcome): void {
    this.deps.metrics.consumed.inc({ type, outcome });
  }

  private ack(channel: ConfirmChannel, message: ConsumeMessage, logger: Logger): void {
    try {
      channel.ack(message);
    } catch (error) {
      logger.debug(
        { err: error },
        'ack failed (channel closed); the message will be redelivered and deduplicated by the inbox',
      );
    }
  }

  private copyProperties(message: ConsumeMessage, headers: Record<string, unknown>): Options.Publish {
    const { properties } = message;
    return {
      persistent: true,
      contentType: properties.contentType ?? 'application/json',
      messageId: properties.messageId,
      correlationId: properties.correlationId,
      type: properties.type,
      appId: properties.appId,
      timestamp: properties.timestamp,
      headers: { ...(properties.headers ?? {}), ...headers },
    };
  }

  private async sendRetry(
    channel: ConfirmChannel,
    message: ConsumeMessage,
    how: { exchange: string; routingKey: string; attempts: number; error: string; delay: number },
  ): Promise<void> {
    const options = this.copyProperties(message, {
      [HEADERS.attempts]: how.attempts,
      [HEADERS.error]: how.error.slice(0, 2000),
      [HEADERS.originalExchange]: how.exchange,
      [HEADERS.originalRoutingKey]: how.routingKey,
    });
    delete options.headers?.['x-death'];
    await confirmSend(channel, queueNames(this.queue).retry(how.delay), message.content, {
      ...options,
      expiration: String(how.delay),
    });
    channel.ack(message);
  }

  private async park(
    channel: ConfirmChannel,
    message: ConsumeMessage,
    how: { exchange: string; routingKey: string; attempts: number; error: string },
  ): Promise<void> {
    const options = this.copyProperties(message, {
      [HEADERS.attempts]: how.attempts,
      [HEADERS.error]: how.error.slice(0, 4000),
      [HEADERS.originalExchange]: how.exchange,
      [HEADERS.originalRoutingKey]: how.routingKey,
      [HEADERS.parkedAt]: new Date().toISOString(),
      [HEADERS.parkedBy]: this.queue,
    });
    delete options.headers?.['x-death'];
    await confirmSend(channel, queueNames(this.queue).dlq, message.content, options);
    channel.ack(message);
    this.deps.logger.warn(
      {
        queue: this.queue,
        messageId: message.properties.messageId,
        routingKey: how.routingKey,
        error: how.error,
      },
      `message parked in ${queueNames(this.queue).dlq}`,
    );
  }
}

/** Sends to a queue through the default exchange and waits for the broker's confirm. */
export const confirmSend = (
  channel: ConfirmChannel,
  queue: string,
  content: Buffer,
  options: Options.Publish,
): Promise<void> =>
  new Promise((resolve, reject) => {
    try {
      channel.sendToQueue(queue, content, options, (error: unknown) => (error ? reject(error) : resolve()));
    } catch (error) {
      reject(error);
    }
  });
