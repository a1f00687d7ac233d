import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  currentTraceId,
  currentTraceparent,
  extractTraceContext,
  injectTraceContext,
  startTelemetry,
  withSpan,
} from '../src/index.ts';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

describe('trace context in message headers', () => {
  it('writes nothing when no span is active', () => {
    expect(injectTraceContext({})).toEqual({});
    expect(currentTraceparent()).toBeUndefined();
    expect(currentTraceId()).toBeUndefined();
  });

  it('carries the producer span into the consumer span across a header hop', async () => {
    const headers = await withSpan('test', 'publish', {}, async () =>
      injectTraceContext<Record<string, unknown>>({}),
    );
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    // Headers arrive as Buffers from some AMQP paths: both forms must be read.
    const received = { traceparent: Buffer.from(String(headers.traceparent)) };
    await withSpan('test', 'consume', { parent: extractTraceContext(received) }, async () => {
      expect(currentTraceparent()?.split('-')[1]).toBe(String(headers.traceparent).split('-')[1]);
    });

    const [publish, consume] = exporter.getFinishedSpans();
    expect(consume?.spanContext().traceId).toBe(publish?.spanContext().traceId);
    expect(consume?.parentSpanContext?.spanId).toBe(publish?.spanContext().spanId);
  });

  it('records a failed span with the error and rethrows', async () => {
    exporter.reset();
    await expect(
      withSpan('test', 'failing', {}, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const [span] = exporter.getFinishedSpans();
    expect(span?.status.message).toBe('boom');
    expect(span?.events.map((event) => event.name)).toContain('exception');
  });
});

describe('startTelemetry', () => {
  it('starts nothing without an endpoint or processors', async () => {
    const telemetry = startTelemetry({ serviceName: 'quiet', otlpEndpoint: '' });
    expect(telemetry.enabled).toBe(false);
    await telemetry.shutdown();
  });
});
