import type { CommandOf } from '@magasin/events';
import { context, SpanKind, trace, withSpan } from '@magasin/telemetry';
import { eventually } from '@magasin/test-kit';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import amqp from 'amqplib';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Messaging, MessagingError, newCommand, pgInbox } from '../src/index.ts';
import {
  applyStockReserved,
  type StockService,
  startStockService,
  stockReserved,
} from './stock-projection.ts';

describe('a publish/consume hop', () => {
  const exporter = new InMemorySpanExporter();
  const contextManager = new AsyncLocalStorageContextManager().enable();
  let service: StockService;
  let messaging: Messaging;
  const releases: Array<{ command: CommandOf<'ReleaseStock'>; headers: Record<string, unknown> }> = [];

  beforeAll(async () => {
    context.setGlobalContextManager(contextManager);
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
    service = await startStockService('trace');
    messaging = await service.connect();
    await messaging.consume<pg.PoolClient>({
      inbox: pgInbox(service.pool),
      events: {
        StockReserved: async (event, tx) => {
          await applyStockReserved(event, tx);
          await messaging.sendCommands([
            newCommand('ReleaseStock', { orderId: event.data.orderId, reason: 'test' }, { actor: 'saga' }),
          ]);
        },
      },
      commands: {
        ReleaseStock: async (command) => {
          releases.push({ command, headers: {} });
        },
      },
    });
  });
  afterAll(async () => {
    await service?.teardown();
    trace.disable();
    context.disable();
  });

  it('continues the producer trace in the consumer and carries correlation and causation ids', async () => {
    const event = stockReserved('p-trace', 1);
    const traceId = await withSpan('test', 'checkout', { kind: SpanKind.SERVER }, async (span) => {
      await messaging.publishEvents([event]);
      return span.spanContext().traceId;
    });
    const [release] = await eventually(() => (releases.length > 0 ? releases : undefined), {
      what: 'command handled',
    });
    expect(release?.command).toMatchObject({
      type: 'ReleaseStock',
      correlationId: event.correlationId,
      causationId: event.eventId,
      actor: 'saga',
    });

    const spans = await eventually(
      () => {
        const finished = exporter.getFinishedSpans().filter((span) => span.name === 'inventory process');
        return finished.length === 2 ? exporter.getFinishedSpans() : undefined;
      },
      { what: 'consumer spans' },
    );
    const byName = (name: string) => spans.filter((span) => span.name === name);
    const [publishEvent, sendCommand] = byName('publish');
    const consumers = byName('inventory process');
    expect(new Set(spans.map((span) => span.spanContext().traceId))).toEqual(new Set([traceId]));
    expect(consumers.map((span) => span.kind)).toEqual([SpanKind.CONSUMER, SpanKind.CONSUMER]);
    // Event consumer span is a child of the publish span; the command was created (and sent) in the
    // event consumer's span and carries it as traceparent: it is published through a producer span
    // in that trace, and its consumer is a child of that producer span.
    const eventConsumer = consumers.find(
      (span) => span.attributes['magasin.message.type'] === 'StockReserved',
    );
    const commandConsumer = consumers.find(
      (span) => span.attributes['magasin.message.type'] === 'ReleaseStock',
    );
    expect(eventConsumer?.parentSpanContext?.spanId).toBe(publishEvent?.spanContext().spanId);
    expect(sendCommand?.parentSpanContext?.spanId).toBe(eventConsumer?.spanContext().spanId);
    const commandProducer = byName('magasin.commands publish')[0];
    expect(commandProducer?.kind).toBe(SpanKind.PRODUCER);
    expect(commandProducer?.parentSpanContext?.spanId).toBe(eventConsumer?.spanContext().spanId);
    expect(commandConsumer?.parentSpanContext?.spanId).toBe(commandProducer?.spanContext().spanId);
  });

  it('publishes an event in the trace it was committed in, through a producer span its consumer continues', async () => {
    // The relay publishes outside any request: the trace comes from the envelope alone.
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const committedIn = '00f067aa0ba902b7';
    const event = { ...stockReserved('p-relay', 1), traceparent: `00-${traceId}-${committedIn}-01` };
    await messaging.publishEvents([event]);
    const spans = await eventually(
      () => {
        const inTrace = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
        return inTrace.some((span) => span.name === 'inventory process') ? inTrace : undefined;
      },
      { what: 'consumer span in the committed trace' },
    );
    const producer = spans.find((span) => span.name === 'magasin.events publish');
    const consumer = spans.find(
      (span) =>
        span.name === 'inventory process' && span.attributes['magasin.message.type'] === 'StockReserved',
    );
    expect(producer?.kind).toBe(SpanKind.PRODUCER);
    expect(producer?.parentSpanContext?.spanId).toBe(committedIn);
    expect(producer?.attributes['messaging.rabbitmq.destination.routing_key']).toBe(
      'inventory.StockReserved',
    );
    expect(consumer?.parentSpanContext?.spanId).toBe(producer?.spanContext().spanId);
  });

  it('rejects a command nobody consumes instead of dropping it', async () => {
    const refund = newCommand(
      'RecordRefund',
      { orderId: 'o', returnId: 'r', amountCents: 100 },
      { actor: 'saga' },
    );
    const error = await messaging.sendCommands([refund]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MessagingError);
    expect(error).toMatchObject({
      code: 'PUBLISH_UNROUTABLE',
      message: expect.stringContaining('transaction.RecordRefund'),
    });
  });

  it('writes the AMQP properties peers rely on', async () => {
    const connection = await amqp.connect(service.vhost.url);
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, 'magasin.events', 'inventory.#');
    const event = {
      ...stockReserved('p-props', 1),
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      causationId: 'cause-1',
    };
    await messaging.publishEvents([event]);
    const message = await eventually(async () => (await channel.get(queue, { noAck: true })) || undefined, {
      what: 'raw message',
    });
    expect(message.properties).toMatchObject({
      messageId: event.eventId,
      correlationId: event.correlationId,
      type: 'StockReserved',
      deliveryMode: 2,
      contentType: 'application/json',
      appId: 'inventory',
      // The envelope's trace, through the producer span of this publication.
      headers: {
        traceparent: expect.stringMatching(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/),
        'x-causation-id': 'cause-1',
      },
    });
    expect(message.fields.routingKey).toBe('inventory.StockReserved');
    await connection.close();
  });
});
