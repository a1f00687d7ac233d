import { PassThrough } from 'node:stream';
import { startTelemetry, withSpan } from '@magasin/telemetry';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  createMetricsRegistry,
  currentCorrelationId,
  signedFetch,
  withCorrelation,
} from '../src/index.ts';
import { startTestService } from './service-fixture.ts';

const telemetry = startTelemetry({
  serviceName: 'service-kit-test',
  spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())],
});
afterAll(() => telemetry.shutdown());

const captured = () => {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
  });
  return { stream, lines };
};

describe('logs', () => {
  it('writes JSON lines with service, level, time, and correlationId / traceId when known', async () => {
    const { stream, lines } = captured();
    const logger = createLogger('inventory', { destination: stream });
    logger.info('outside');
    let traceId = '';
    await withSpan('test', 'work', {}, async (span) => {
      traceId = span.spanContext().traceId;
      withCorrelation('order-42', () => logger.info({ sku: 'A-1' }, 'inside'));
    });
    logger.debug('below the level');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ service: 'inventory', level: 'info', msg: 'outside' });
    expect(lines[0]).not.toHaveProperty('correlationId');
    expect(lines[0]).not.toHaveProperty('traceId');
    expect(lines[1]).toMatchObject({
      service: 'inventory',
      msg: 'inside',
      sku: 'A-1',
      correlationId: 'order-42',
      traceId,
    });
    expect(new Date(String(lines[1]?.time)).toISOString()).toBe(lines[1]?.time);
  });

  it('carries the correlation id and trace across a signed call into the callee logs', async () => {
    const secret = 'observability-secret-0123456789';
    const { stream, lines } = captured();
    const logger = createLogger('callee', { destination: stream });
    const service = await startTestService({
      logger,
      internalSecret: secret,
      routes: (app) => {
        app.get('/work', (_req, res) => {
          logger.info('working');
          res.json({ correlationId: currentCorrelationId() });
        });
      },
    });
    try {
      const call = signedFetch({ secret, caller: 'store' });
      const { traceId, answer } = await withSpan('test', 'caller', {}, async (span) => {
        const response = await withCorrelation('order-7', () => call(`${service.url}/work`));
        return { traceId: span.spanContext().traceId, answer: await response.json() };
      });
      expect(answer).toEqual({ correlationId: 'order-7' });
      expect(lines.find((line) => line.msg === 'working')).toMatchObject({
        service: 'callee',
        correlationId: 'order-7',
        traceId,
      });
    } finally {
      await service.stop();
    }
  });
});

describe('metrics', () => {
  it('serves default Node metrics and request durations, all labelled with the service', async () => {
    const registry = createMetricsRegistry('payment');
    const service = await startTestService({
      name: 'payment',
      registry,
      routes: (app) => {
        app.get('/payments/:id', (_req, res) => {
          res.json({});
        });
      },
    });
    try {
      await fetch(`${service.url}/payments/p-1`);
      await fetch(`${service.url}/payments/p-2`);
      await fetch(`${service.url}/nowhere`);
      const response = await fetch(`${service.url}/metrics`);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await response.text();
      expect(text).toMatch(/^process_cpu_user_seconds_total\{service="payment"\} /m);
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="payment"\} /m);
      expect(text).toContain(
        'magasin_http_request_duration_seconds_count{service="payment",method="GET",route="/payments/:id",status="200"} 2',
      );
      expect(text).toContain(
        'magasin_http_request_duration_seconds_count{service="payment",method="GET",route="unmatched",status="404"} 1',
      );
    } finally {
      await service.stop();
    }
  });

  it('labels requests answered by mounted middleware with the mount path', async () => {
    const service = await startTestService({
      routes: (app) => {
        app.use('/graphql', (_req, res) => {
          res.json({ data: null });
        });
      },
    });
    try {
      await fetch(`${service.url}/graphql`, { method: 'POST' });
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toContain(
        'magasin_http_request_duration_seconds_count{service="test-service",method="POST",route="/graphql",status="200"} 1',
      );
    } finally {
      await service.stop();
    }
  });
});
