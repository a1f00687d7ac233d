/**
 * The observability of the running system: every service started as `npm start` starts it
 * (fresh databases and vhost, free ports), exporting spans over OTLP/HTTP to a receiver in
 * this test, scraped by Prometheus and Alertmanager started as `npm run observability` starts
 * them. One order placed through the gateway must be one trace across every service.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GatewayClient, gatewayClient, type Stack, startStack } from '@magasin/e2e';
import { routingKeyFor } from '@magasin/events';
import { createDevToken } from '@magasin/scripts';
import { eventually, rabbitmqManagementUrl } from '@magasin/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allExpressions } from '../src/expressions.ts';
import { type LocalObservability, startLocalObservability } from '../src/local-observability.ts';
import { scrapeJobs } from '../src/prometheus-config.ts';
import { metricNames } from '../src/promql.ts';
import { OTLP_SPAN_KIND, type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from './otlp-receiver.ts';

/** Series Prometheus writes itself for every target or rule, not scraped from anyone. */
const PROMETHEUS_OWN = [
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'ALERTS',
  'ALERTS_FOR_STATE',
];

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });

let receiver: OtlpReceiver;
let stack: Stack;
let observability: LocalObservability | undefined;
let admin: GatewayClient;
let dataDirectory: string;
/** `host:port` of every scrape job, the stack's services and the shared RabbitMQ. */
let targets: Record<string, string>;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  stack = await startStack('observability', {
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      // Export spans every 200 ms instead of 5 s, so the test does not wait for them.
      OTEL_BSP_SCHEDULE_DELAY: '200',
      LOG_LEVEL: 'info',
    },
  });
  admin = await gatewayClient(stack.gatewayUrl, { sub: 'ada', roles: ['admin'] });
  const rabbitmq = `${new URL(rabbitmqManagementUrl()).hostname}:15692`;
  const jobs = scrapeJobs();
  targets = Object.fromEntries(
    jobs.flatMap(({ job }) => {
      if (job.startsWith('rabbitmq')) return [[job, rabbitmq]];
      const url = stack.urls[job];
      return url ? [[job, new URL(url).host]] : [];
    }),
  );
  dataDirectory = mkdtempSync(join(tmpdir(), 'magasin-observability-test-'));
  observability = await startLocalObservability({
    targets,
    dataDirectory,
    prometheusPort: await freePort(),
    alertmanagerPort: await freePort(),
    interval: '1s',
  });
}, 150_000);

afterAll(async () => {
  await observability?.stop();
  await admin?.close();
  await stack?.stop();
  await receiver?.close();
  if (dataDirectory) rmSync(dataDirectory, { recursive: true, force: true });
});

describe('metrics', () => {
  it('are scraped by Prometheus from every service and RabbitMQ: up == 1 for each', async () => {
    expect(Object.keys(targets)).toEqual(expect.arrayContaining([...Object.keys(stack.urls), 'rabbitmq']));
    const up = await eventually(
      async () => {
        const answer = (await (
          await fetch(`${observability?.prometheusUrl}/api/v1/query?query=${encodeURIComponent('up')}`)
        ).json()) as { data: { result: Array<{ metric: { job: string }; value: [number, string] }> } };
        const byJob = Object.fromEntries(
          answer.data.result.map((series) => [series.metric.job, series.value[1]]),
        );
        return Object.keys(targets).every((job) => byJob[job] === '1') ? byJob : undefined;
      },
      { what: `up == 1 for ${Object.keys(targets).join(', ')}`, timeoutMs: 20_000 },
    );
    expect(Object.keys(up).sort()).toEqual(Object.keys(targets).sort());
  });

  it('feed the alert rules, which Prometheus evaluates, and an Alertmanager it found', async () => {
    const groups = await eventually(
      async () => {
        const answer = (await (await fetch(`${observability?.prometheusUrl}/api/v1/rules`)).json()) as {
          data: {
            groups: Array<{
              name: string;
              rules: Array<{ name: string; health: string; lastError?: string }>;
            }>;
          };
        };
        const all = answer.data.groups.flatMap((group) => group.rules);
        return all.length > 0 && all.every((rule) => rule.health === 'ok') ? answer.data.groups : undefined;
      },
      { what: 'every rule evaluated without error', timeoutMs: 20_000 },
    );
    expect(groups.map((group) => group.name)).toEqual(
      expect.arrayContaining(['magasin-services', 'magasin-event-flow', 'magasin-sagas']),
    );
    const alertmanagers = (await (
      await fetch(`${observability?.prometheusUrl}/api/v1/alertmanagers`)
    ).json()) as {
      data: { activeAlertmanagers: Array<{ url: string }> };
    };
    expect(alertmanagers.data.activeAlertmanagers.map(({ url }) => url)).toEqual([
      `${observability?.alertmanagerUrl}/api/v2/alerts`,
    ]);
  });

  it('read by the rules and the dashboards are all exposed by the running services or RabbitMQ', async () => {
    const exposed = new Set(PROMETHEUS_OWN);
    for (const { job, path } of scrapeJobs().filter(({ job }) => targets[job])) {
      const text = await (await fetch(`http://${targets[job]}${path}`)).text();
      for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
        exposed.add(name as string);
        if (type === 'histogram')
          for (const suffix of ['_bucket', '_sum', '_count']) exposed.add(`${name}${suffix}`);
        if (type === 'summary') for (const suffix of ['_sum', '_count']) exposed.add(`${name}${suffix}`);
      }
    }
    const expressions = allExpressions();
    const unknown = expressions.flatMap(({ source, expr }) =>
      metricNames(expr)
        .filter((name) => !exposed.has(name))
        .map((name) => `${source}: ${name}`),
    );
    expect(unknown).toEqual([]);
    // The check reads what it should: names from every dashboard and the rules.
    const read = new Set(expressions.flatMap(({ expr }) => metricNames(expr)));
    for (const name of [
      'magasin_eventstore_head_position',
      'magasin_sagas_timed_out_total',
      'rabbitmq_detailed_queue_messages_ready',
    ]) {
      expect(read).toContain(name);
    }
  });
});

describe('one order', () => {
  /** The client's span: the test sends it as traceparent, so the whole order is this trace. */
  const TRACE_ID = '5b8efff798038103d269b633813fc60c';
  const CLIENT_SPAN = 'eee19b7ec3c1b174';
  let orderId: string;
  let trace: ReceivedSpan[];

  beforeAll(async () => {
    const created = await admin.query<{ createProduct: { id: string } }>(
      'mutation ($input: CreateProductInput!) { createProduct(input: $input) { id } }',
      { input: { sku: `OBS-${Date.now()}`, name: 'Traced lamp', priceCents: 2_500, initialStock: 3 } },
    );
    expect(created.errors).toBeUndefined();
    const productId = created.data?.createProduct.id as string;
    const token = await createDevToken({ sub: 'olga', roles: ['customer'], ttl: '1h' });
    const placeOrder = (quantity: number, traceparent?: string) =>
      fetch(stack.gatewayUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          ...(traceparent ? { traceparent } : {}),
        },
        body: JSON.stringify({
          query: 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id status } } }',
          variables: { input: { lines: [{ productId, quantity }], paymentToken: 'tok_visa' } },
        }),
      }).then(
        (response) =>
          response.json() as Promise<{
            data?: { placeOrder: { order: { id: string } } };
            errors?: Array<{ extensions?: { code?: string } }>;
          }>,
      );
    // The store prices orders from its catalog, which follows the log: wait until it knows the product.
    await eventually(
      async () =>
        (await placeOrder(0)).errors?.[0]?.extensions?.code === 'BAD_USER_INPUT' ? true : undefined,
      {
        what: 'the product known to the store',
        timeoutMs: 15_000,
      },
    );
    const placed = await placeOrder(1, `00-${TRACE_ID}-${CLIENT_SPAN}-01`);
    expect(placed.errors).toBeUndefined();
    orderId = placed.data?.placeOrder.order.id as string;
    const consumers = Object.keys(stack.urls).filter((name) => !['gateway', 'event-store'].includes(name));
    trace = await eventually(
      () => {
        const spans = receiver.spans().filter((span) => span.traceId === TRACE_ID);
        const consumerSpans = spans.filter((span) => span.kind === OTLP_SPAN_KIND.consumer);
        const consuming = new Set(consumerSpans.map((span) => span.service));
        // Each process exports its spans in its own batches: wait for the parents of the
        // consumer spans (the producers, in other processes) too.
        const ids = new Set(spans.map((span) => span.spanId));
        const complete =
          consumers.every((name) => consuming.has(name)) &&
          consumerSpans.every((span) => ids.has(span.parentSpanId ?? ''));
        return complete ? spans : undefined;
      },
      {
        what: `consumer spans of ${consumers.join(', ')} and their producers in the order's trace`,
        timeoutMs: 30_000,
      },
    );
  }, 60_000);

  const one = (description: string, predicate: (span: ReceivedSpan) => boolean): ReceivedSpan => {
    const found = trace.find(predicate);
    if (!found) {
      const seen = trace.map((span) => `${span.service} ${span.kind} ${span.name}`).join('\n');
      throw new Error(`no span for ${description} in the trace; spans:\n${seen}`);
    }
    return found;
  };

  it('is one trace from the gateway through the subgraph and the event store to RabbitMQ and its consumers', () => {
    const gatewayServer = one(
      'the gateway serving the request',
      (span) => span.service === 'gateway' && span.kind === OTLP_SPAN_KIND.server,
    );
    expect(gatewayServer.parentSpanId).toBe(CLIENT_SPAN);
    expect(gatewayServer.name).toBe('POST /graphql');

    const storeServer = one(
      'the store subgraph serving the gateway',
      (span) => span.service === 'store' && span.kind === OTLP_SPAN_KIND.server,
    );
    const fetchFromGateway = one('its parent', (span) => span.spanId === storeServer.parentSpanId);
    expect(fetchFromGateway.service).toBe('gateway');

    const append = one(
      'the event store appending the order',
      (span) =>
        span.service === 'event-store' &&
        span.kind === OTLP_SPAN_KIND.server &&
        span.name === 'POST /streams/:streamId/events' &&
        span.parentSpanId === storeServer.spanId,
    );
    expect(Number(append.attributes['http.response.status_code'])).toBeLessThan(300);

    const publish = one(
      'the relay publishing OrderPlaced',
      (span) =>
        span.kind === OTLP_SPAN_KIND.producer &&
        span.attributes['messaging.rabbitmq.destination.routing_key'] === routingKeyFor('OrderPlaced'),
    );
    expect(publish.service).toBe('event-store');
    expect(publish.parentSpanId).toBe(storeServer.spanId);

    // Every service that reacts to OrderPlaced continues the trace from that publication.
    const reservation = one(
      'inventory consuming OrderPlaced',
      (span) =>
        span.service === 'inventory' &&
        span.kind === OTLP_SPAN_KIND.consumer &&
        span.parentSpanId === publish.spanId,
    );
    expect(reservation.attributes['magasin.message.type']).toBe('OrderPlaced');
  });

  it('reaches every consumer of the saga, each from a publication of the event store', () => {
    const byId = new Map(trace.map((span) => [span.spanId, span]));
    const consumers = trace.filter((span) => span.kind === OTLP_SPAN_KIND.consumer);
    expect(new Set(consumers.map((span) => span.service))).toEqual(
      new Set(Object.keys(stack.urls).filter((name) => !['gateway', 'event-store'].includes(name))),
    );
    for (const consumer of consumers) {
      const producer = byId.get(consumer.parentSpanId ?? '');
      expect(producer?.kind, `${consumer.service} ${consumer.name}`).toBe(OTLP_SPAN_KIND.producer);
    }
  });

  it('is logged in JSON lines that carry the trace id and the correlation id (the order id)', () => {
    const lines = stack
      .logs()
      .split('\n')
      .map((line) => line.slice(line.indexOf('|') + 1).trim())
      .filter((line) => line.startsWith('{'))
      .map(
        (line) =>
          JSON.parse(line) as { service?: string; traceId?: string; correlationId?: string; msg?: string },
      );
    const traced = lines.filter((line) => line.traceId === TRACE_ID);
    expect(traced.length, 'no log line of the order carries its trace id').toBeGreaterThan(0);
    expect(traced.some((line) => line.correlationId === orderId)).toBe(true);
  });
});
