/**
 * Order sagas end to end (issue 6), with every service running as its own process on fresh
 * databases and a fresh vhost (e2e `startStack`): customers place orders through the gateway
 * (`placeOrder`, tok_visa, one line of a product with plenty of stock) and follow each saga with
 * the gateway's `orderSaga` subscription until it is terminal. Latency is from sending
 * placeOrder to receiving the terminal status.
 *
 * Phases, one after another in the same run:
 *  - warm-up (not counted);
 *  - serial: one saga at a time (the baseline);
 *  - full load: MAGASIN_BENCH_CONCURRENCY sagas in flight at all times (closed loop);
 *  - half load: sagas started at a fixed rate of half the full load's throughput (open loop).
 *
 * Where the time goes: the bench listens on the stack's bus (its own queue bound to
 * `magasin.events` and `magasin.saga-updates`) and reads each sampled order's events from the
 * event store, so every step of a saga splits into the relay's publication (commit -> on the
 * bus) and the handler of the next service (on the bus -> its event committed), up to the saga
 * update the client receives. Each service's /metrics (append latency, handler durations,
 * retries) and CPU (from /proc) are read around every phase; CPU per saga is what the stack
 * used beyond its idle cost. Last, a CPU profile of every service at full load (its inspector,
 * opened with SIGUSR1 on `--inspect-port=0`) says where that CPU goes, by package.
 *
 * `npm run bench:saga -w bench` (MAGASIN_BENCH_CONCURRENCY, default 32; MAGASIN_BENCH_DURATION_S,
 * default 20; MAGASIN_BENCH_SERIAL_S, default 10; MAGASIN_BENCH_CUSTOMERS, default 8;
 * MAGASIN_BENCH_PRODUCTS, default 8; MAGASIN_BENCH_SAMPLE, sagas broken down per phase, default 150;
 * MAGASIN_BENCH_PROFILE=0 skips the CPU profiles of the services).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type GatewayClient, gatewayClient, startStack, untilStoreKnowsProduct } from '@magasin/e2e';
import { EXCHANGES } from '@magasin/events';
import { createTestVhost } from '@magasin/test-kit';
import amqp from 'amqplib';
import {
  brokerPid,
  type CpuProbe,
  cores,
  cpuMeter,
  fmt,
  histogramDelta,
  type Inspector,
  increase,
  loadAverage,
  openInspector,
  type Profile,
  pidOfPort,
  portOf,
  postgresBackends,
  type Sample,
  scrape,
  sleep,
  summary,
  table,
  total,
  wallNow,
} from '../src/index.ts';

const concurrency = Number(process.env.MAGASIN_BENCH_CONCURRENCY ?? 32);
const durationS = Number(process.env.MAGASIN_BENCH_DURATION_S ?? 20);
const serialS = Number(process.env.MAGASIN_BENCH_SERIAL_S ?? 10);
const customerCount = Number(process.env.MAGASIN_BENCH_CUSTOMERS ?? 8);
const productCount = Number(process.env.MAGASIN_BENCH_PRODUCTS ?? 8);
const sampleSize = Number(process.env.MAGASIN_BENCH_SAMPLE ?? 150);
const LABEL = 'bench_saga';
const TERMINAL = new Set(['COMPLETED', 'CANCELLED', 'TIMED_OUT']);
/** A saga not terminal after this long counts as failed. */
const SAGA_TIMEOUT_MS = 60_000;

const loadAtStart = loadAverage();
console.log(`# bench:saga — ${new Date().toISOString()}, ${cores()} cores, load average ${loadAtStart}`);

// The stack runs on a vhost of our own, so that the bench can listen on its bus.
const bus = await createTestVhost(`${LABEL}_bus`);
// Every service the repository declares, as `npm start` runs them.
// --inspect-port=0: SIGUSR1 opens a service's inspector on a free port (for the CPU profiles).
const stack = await startStack(LABEL, { env: { RABBITMQ_URL: bus.url, NODE_OPTIONS: '--inspect-port=0' } });
const services = Object.keys(stack.urls).sort();

// ---- the bus tap: when each event and each saga update was on the bus ----
const published = new Map<string, number>();
const updatePublished = new Map<string, number>();
/** Saga updates received, and distinct (saga, version) among them: more than one per version is the projection's safety net publishing again. */
const updateCount = { messages: 0, distinct: 0 };
const connection = await amqp.connect(bus.url);
const channel = await connection.createChannel();
await channel.assertExchange(EXCHANGES.events, 'topic', { durable: true });
await channel.assertExchange(EXCHANGES.sagaUpdates, 'fanout', { durable: true });
const { queue: tap } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
await channel.bindQueue(tap, EXCHANGES.events, '#');
await channel.bindQueue(tap, EXCHANGES.sagaUpdates, '');
await channel.consume(
  tap,
  (message) => {
    if (!message) return;
    const at = wallNow();
    if (message.fields.exchange === EXCHANGES.sagaUpdates) {
      const update = JSON.parse(message.content.toString('utf8')) as { sagaId: string; version: number };
      // The first arrival: the orchestrator publishes each update, the projection again later.
      const key = `${update.sagaId}/${update.version}`;
      updateCount.messages++;
      if (!updatePublished.has(key)) {
        updatePublished.set(key, at);
        updateCount.distinct++;
      }
    } else if (message.properties.messageId) {
      published.set(String(message.properties.messageId), at);
    }
  },
  { noAck: true },
);

// ---- customers, an admin and the catalog ----
const admin = await gatewayClient(stack.gatewayUrl, { sub: 'bench-admin', roles: ['admin'] });
const customers: GatewayClient[] = [];
for (let index = 0; index < customerCount; index++) {
  customers.push(
    await gatewayClient(stack.gatewayUrl, { sub: `bench-customer-${index}`, roles: ['customer'] }),
  );
}
const firstCustomer = customers[0] as GatewayClient;

const PLACE_ORDER = `mutation PlaceOrder($input: PlaceOrderInput!) {
  placeOrder(input: $input) { order { id status } }
}`;
const ORDER_SAGA = `subscription OrderSaga($orderId: ID!) { orderSaga(orderId: $orderId) { status } }`;

const products: string[] = [];
for (let index = 0; index < productCount; index++) {
  const answer = await admin.query<{ createProduct: { id: string } }>(
    'mutation ($input: CreateProductInput!) { createProduct(input: $input) { id } }',
    {
      input: {
        sku: `BENCH-${Date.now()}-${index}`,
        name: `Bench product ${index}`,
        priceCents: 1_000 + index,
        initialStock: 10_000_000,
      },
    },
  );
  const id = answer.data?.createProduct.id;
  if (!id) throw new Error(`createProduct failed: ${JSON.stringify(answer)}`);
  products.push(id);
}
// The store prices orders from its own catalog, which follows the log: wait until it knows them.
for (const id of products) await untilStoreKnowsProduct(firstCustomer, id);

// ---- one saga ----
interface SagaRun {
  /** Wall-clock ms: placeOrder sent, answered, terminal status received. */
  startedAt: number;
  placedAt?: number;
  endedAt?: number;
  orderId?: string;
  status?: string;
  error?: string;
}

let nextProduct = 0;
const runSaga = async (client: GatewayClient): Promise<SagaRun> => {
  const productId = products[nextProduct++ % products.length] as string;
  const run: SagaRun = { startedAt: wallNow() };
  try {
    const answer = await client.query<{ placeOrder: { order: { id: string } } }>(PLACE_ORDER, {
      input: { lines: [{ productId, quantity: 1 }], paymentToken: 'tok_visa' },
    });
    run.placedAt = wallNow();
    const orderId = answer.data?.placeOrder.order.id;
    if (!orderId) throw new Error(`placeOrder: ${JSON.stringify(answer.errors)}`);
    run.orderId = orderId;
    await client.subscribe<{ orderSaga: { status: string } }>(
      ORDER_SAGA,
      { orderId },
      {
        timeoutMs: SAGA_TIMEOUT_MS,
        onNext: (update) => {
          const status = update.data?.orderSaga.status;
          if (status && TERMINAL.has(status) && run.endedAt === undefined) {
            run.endedAt = wallNow();
            run.status = status;
          }
          if (update.errors) run.error = JSON.stringify(update.errors);
        },
      },
    );
    if (run.endedAt === undefined) run.error ??= 'the subscription completed without a terminal status';
  } catch (error) {
    run.error = error instanceof Error ? error.message : String(error);
  }
  return run;
};

// ---- what is measured around each phase ----
const portPids = new Map(services.map((name) => [name, pidOfPort(portOf(stack.urls[name] as string))]));
const broker = brokerPid();
const probes: CpuProbe[] = [
  ...services.map((name) => ({
    name,
    pids: () => {
      const pid = portPids.get(name);
      return pid ? [pid] : [];
    },
  })),
  { name: 'postgres (this stack)', pids: () => postgresBackends(LABEL) },
  { name: 'rabbitmq (whole node)', pids: () => (broker ? [broker] : []) },
  { name: 'bench (clients)', pids: () => [process.pid] },
];

interface Phase {
  name: string;
  /** What was asked: concurrency or rate. */
  load: string;
  runs: SagaRun[];
  seconds: number;
  start: number;
  end: number;
  /** When the last saga of the phase ended. */
  drained: number;
  /**
   * When the work the phase caused was done: every service queue empty and every projection at
   * the head (CPU is measured until then, so a backlog counts in the phase that made it).
   */
  settled: number;
  cpu: Map<string, number>;
  metrics: { before: Map<string, Sample[]>; after: Map<string, Sample[]> };
  relayLag: number[];
  /** Head position minus each projector's position, sampled, by service. */
  projectionLag: Map<string, number[]>;
  loopDelayP99Ms: number;
  load1: string;
  /** Saga updates this bench received in the phase, and distinct (saga, version) among them. */
  updates: { messages: number; distinct: number };
}

/** Services with a read model following the log. */
const projectorServices = services.filter((name) => !['gateway', 'event-store'].includes(name));

// ---- waiting for the work a phase caused (audit trail, projections) to be done ----
const queueProbe = await connection.createChannel();
/** Messages ready in the services' queues (each consuming service's queue is named after it). */
const backlog = async (): Promise<number> => {
  let ready = 0;
  for (const queue of projectorServices) ready += (await queueProbe.checkQueue(queue)).messageCount;
  return ready;
};
const projectionsBehind = async (): Promise<number> => {
  const [eventStore, ...projectors] = await Promise.all(
    ['event-store', ...projectorServices].map((service) => scrape(stack.urls[service] as string)),
  );
  const head = total(eventStore ?? [], 'magasin_eventstore_head_position');
  return projectors.reduce(
    (behind, samples) => behind + Math.max(0, head - total(samples ?? [], 'magasin_projection_position')),
    0,
  );
};
/** Resolves when the queues are empty and the projections at the head twice in a row (at most 5 min). */
const settle = async (): Promise<void> => {
  const until = wallNow() + 300_000;
  let quiet = 0;
  while (quiet < 2 && wallNow() < until) {
    quiet = (await backlog()) === 0 && (await projectionsBehind()) === 0 ? quiet + 1 : 0;
    if (quiet < 2) await sleep(200);
  }
};

const scrapeAll = async () =>
  new Map(
    await Promise.all(
      services.map(async (name) => [name, await scrape(stack.urls[name] as string)] as const),
    ),
  );

const measured = async (
  name: string,
  load: string,
  seconds: number,
  drive: (end: number) => Promise<SagaRun[]>,
): Promise<Phase> => {
  const before = await scrapeAll();
  const updatesBefore = { ...updateCount };
  const meter = cpuMeter(probes);
  const relayLag: number[] = [];
  const projectionLag = new Map<string, number[]>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const [eventStore, ...projectors] = await Promise.all(
        ['event-store', ...projectorServices].map((service) => scrape(stack.urls[service] as string)),
      );
      relayLag.push(total(eventStore ?? [], 'magasin_eventstore_relay_lag'));
      const head = total(eventStore ?? [], 'magasin_eventstore_head_position');
      projectorServices.forEach((service, index) => {
        const position = total(projectors[index] ?? [], 'magasin_projection_position');
        projectionLag.set(service, [...(projectionLag.get(service) ?? []), Math.max(0, head - position)]);
      });
      await sleep(500);
    }
  })();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  meter.start();
  const start = wallNow();
  const end = start + seconds * 1000;
  const runs = await drive(end);
  const drained = wallNow();
  await settle();
  const cpu = meter.stop();
  const settled = wallNow();
  loop.disable();
  sampling = false;
  await sampler;
  const after = await scrapeAll();
  return {
    name,
    load,
    runs,
    seconds,
    start,
    end,
    drained,
    settled,
    cpu,
    metrics: { before, after },
    relayLag,
    projectionLag,
    loopDelayP99Ms: loop.percentile(99) / 1e6,
    load1: loadAverage(),
    updates: {
      messages: updateCount.messages - updatesBefore.messages,
      distinct: updateCount.distinct - updatesBefore.distinct,
    },
  };
};

/** `workers` sagas in flight until `end` (each worker starts its next saga when one ends). */
const closedLoop =
  (workers: number) =>
  async (end: number): Promise<SagaRun[]> => {
    const runs: SagaRun[] = [];
    await Promise.all(
      Array.from({ length: workers }, async (_, worker) => {
        const client = customers[worker % customers.length] as GatewayClient;
        while (wallNow() < end) runs.push(await runSaga(client));
      }),
    );
    return runs;
  };

/** A saga started every 1/rate s until `end`, whatever is still in flight. */
const openLoop =
  (rate: number) =>
  async (end: number): Promise<SagaRun[]> => {
    const interval = 1000 / rate;
    const inFlight: Promise<SagaRun>[] = [];
    let next = wallNow();
    let index = 0;
    while (next < end) {
      while (next <= wallNow() && next < end) {
        inFlight.push(runSaga(customers[index++ % customers.length] as GatewayClient));
        next += interval;
      }
      await sleep(Math.max(0, next - wallNow()));
    }
    return Promise.all(inFlight);
  };

const completed = (phase: Phase) =>
  phase.runs.filter((run) => run.status === 'COMPLETED' && run.endedAt !== undefined);
/**
 * Completed sagas per second in the phase's window, its first seconds left out (a closed loop
 * only reaches its steady state once the first sagas have ended).
 */
const throughputOf = (phase: Phase) => {
  const ramp = phase.seconds >= 8 ? Math.min(5, phase.seconds / 4) : 0;
  const from = phase.start + ramp * 1000;
  return (
    completed(phase).filter((run) => (run.endedAt as number) > from && (run.endedAt as number) <= phase.end)
      .length /
    (phase.seconds - ramp)
  );
};

console.log(
  `stack ready: ${services.join(', ')}; ${productCount} products, ${customerCount} customers; warming up`,
);
// What the stack costs doing nothing (projectors, timers, metrics): subtracted from the CPU per saga.
const idle = await measured('idle', 'none', 5, async () => {
  await sleep(5_000);
  return [];
});
await measured('warm-up', `${concurrency} in flight`, 5, closedLoop(concurrency));
const phases: Phase[] = [];
phases.push(await measured('serial (baseline)', '1 in flight', serialS, closedLoop(1)));
console.log(`serial: ${fmt(throughputOf(phases[0] as Phase), 1)} sagas/s`);
const full = await measured('full load', `${concurrency} in flight`, durationS, closedLoop(concurrency));
phases.push(full);
const fullRate = throughputOf(full);
console.log(`full load: ${fmt(fullRate, 1)} sagas/s`);
const halfRate = Math.max(0.5, fullRate / 2);
phases.push(await measured('half load', `${fmt(halfRate, 1)} started/s`, durationS, openLoop(halfRate)));

// ---- a CPU profile of every service at full load (a phase of its own: profiling costs a little) ----
const profiles = new Map<string, Profile>();
if (process.env.MAGASIN_BENCH_PROFILE !== '0') {
  const inspectors = new Map<string, Inspector>();
  for (const name of services) {
    const pid = portPids.get(name);
    if (!pid) continue;
    try {
      inspectors.set(name, await openInspector(pid, [portOf(stack.urls[name] as string)]));
    } catch (error) {
      console.log(`no profile of ${name}: ${(error as Error).message}`);
    }
  }
  const profiling = closedLoop(concurrency)(wallNow() + 10_000);
  await sleep(1_000);
  await Promise.all(
    [...inspectors].map(async ([name, inspector]) => profiles.set(name, await inspector.profile(8_000))),
  );
  await profiling;
  for (const inspector of inspectors.values()) inspector.close();
}

// ---- where the time goes, from the sampled sagas' events ----
const at = (iso: string) => Date.parse(iso);
type Stages = Map<string, number[]>;
/** The stages of one saga (see the table below), and the relay's delay for each of its events. */
const stagesOf = async (run: SagaRun): Promise<{ stages: [string, number][]; relay: number[] }> => {
  const stages: [string, number][] = [];
  const add = (stage: string, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value)) stages.push([stage, value]);
  };
  const relay: number[] = [];
  const events = await stack.eventStore.readByCorrelation(run.orderId as string);
  const committed = new Map<string, number>();
  const eventIds = new Map<string, string>();
  for (const event of events) {
    // The first of each type (the saga's SagaStepCompleted repeat: keep the domain events' own).
    if (!committed.has(event.type)) {
      committed.set(event.type, at(event.occurredAt));
      eventIds.set(event.type, event.eventId);
    }
    const onBus = published.get(event.eventId);
    if (onBus !== undefined) relay.push(onBus - at(event.occurredAt));
  }
  const commit = (type: string) => committed.get(type);
  const bus = (type: string) => {
    const id = eventIds.get(type);
    return id === undefined ? undefined : published.get(id);
  };
  const relayed = new Set<string>();
  const hop = (from: string, to: string, who: string) => {
    const fromCommit = commit(from);
    const fromBus = bus(from);
    const toCommit = commit(to);
    if (fromCommit === undefined || fromBus === undefined || toCommit === undefined) return;
    if (!relayed.has(from)) add(`relay: ${from} on the bus`, fromBus - fromCommit);
    relayed.add(from);
    add(`${who}: ${from} -> ${to} committed`, toCommit - fromBus);
  };
  add(
    'gateway+store: placeOrder -> OrderPlaced committed',
    (commit('OrderPlaced') ?? Number.NaN) - run.startedAt,
  );
  hop('OrderPlaced', 'StockReserved', 'inventory');
  hop('StockReserved', 'PaymentCaptured', 'payment');
  hop('PaymentCaptured', 'OrderConfirmed', 'store');
  hop('OrderConfirmed', 'StockCommitted', 'inventory');
  hop('OrderConfirmed', 'SaleRecorded', 'transaction');
  const lastDomain = Math.max(commit('StockCommitted') ?? Number.NaN, commit('SaleRecorded') ?? Number.NaN);
  const sagaCompleted = events.find((event) => event.type === 'SagaCompleted');
  if (sagaCompleted) {
    const completedAt = at(sagaCompleted.occurredAt);
    add('saga: last domain event -> SagaCompleted committed', completedAt - lastDomain);
    const update = updatePublished.get(`${run.orderId}/${sagaCompleted.version}`);
    add('saga: SagaCompleted -> its update on the bus', (update ?? Number.NaN) - completedAt);
    add('saga subgraph+gateway: update -> client', (run.endedAt as number) - (update ?? Number.NaN));
  }
  add('total: placeOrder -> terminal status', (run.endedAt as number) - run.startedAt);
  return { stages, relay };
};

const breakdown = async (phase: Phase): Promise<{ stages: Stages; relay: number[]; sampled: number }> => {
  const done = completed(phase);
  const step = Math.max(1, Math.floor(done.length / sampleSize));
  const sample = done.filter((_, index) => index % step === 0).slice(0, sampleSize);
  const stages: Stages = new Map();
  const relay: number[] = [];
  for (const run of sample) {
    const one = await stagesOf(run);
    for (const [stage, value] of one.stages) stages.set(stage, [...(stages.get(stage) ?? []), value]);
    relay.push(...one.relay);
  }
  return { stages, relay, sampled: sample.length };
};

// ---- output ----
const ms = (value: number) => fmt(value, 0);
console.log(`\n## Order sagas through the gateway (load average ${loadAtStart} at start)\n`);
console.log(
  table(
    [
      'phase',
      'load',
      'completed sagas/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'not completed',
      'backlog done after s',
      'load avg after',
    ],
    phases.map((phase) => {
      const latencies = summary(completed(phase).map((run) => (run.endedAt as number) - run.startedAt));
      const failed = phase.runs.length - completed(phase).length;
      const reasons = [
        ...new Set(
          phase.runs.filter((run) => run.status !== 'COMPLETED').map((run) => run.status ?? run.error),
        ),
      ];
      return [
        phase.name,
        phase.load,
        fmt(throughputOf(phase), 1),
        ms(latencies.p50),
        ms(latencies.p95),
        ms(latencies.p99),
        ms(latencies.max),
        failed === 0 ? '0' : `${failed} (${reasons.slice(0, 2).join('; ').slice(0, 120)})`,
        fmt((phase.settled - phase.drained) / 1000, 1),
        phase.load1,
      ];
    }),
  ),
);
const halfPhase = phases[2] as Phase;
const halfP95 = summary(completed(halfPhase).map((run) => (run.endedAt as number) - run.startedAt)).p95;
console.log(
  `\nAim: >= 300 completed sagas/s (measured ${fmt(fullRate, 1)}: ${fullRate >= 300 ? 'met' : 'NOT met'}); ` +
    `p95 <= 250 ms at half load (measured ${ms(halfP95)} ms: ${halfP95 <= 250 ? 'met' : 'NOT met'}). ` +
    `Full load vs serial: x${(fullRate / throughputOf(phases[0] as Phase)).toFixed(2)} throughput.`,
);

console.log('\n### Where the time goes (sampled sagas, ms: p50 / p95)\n');
const breakdowns: ({ phase: Phase } & Awaited<ReturnType<typeof breakdown>>)[] = [];
for (const phase of phases) breakdowns.push({ phase, ...(await breakdown(phase)) });
const stageNames = [...new Set(breakdowns.flatMap((entry) => [...entry.stages.keys()]))];
console.log(
  table(
    ['stage', ...breakdowns.map((entry) => `${entry.phase.name} (${entry.sampled} sagas)`)],
    [
      ...stageNames.map((stage) => [
        stage,
        ...breakdowns.map((entry) => {
          const values = summary(entry.stages.get(stage) ?? []);
          return `${ms(values.p50)} / ${ms(values.p95)}`;
        }),
      ]),
      [
        'relay: any event committed -> on the bus',
        ...breakdowns.map((entry) => {
          const values = summary(entry.relay);
          return `${ms(values.p50)} / ${ms(values.p95)}`;
        }),
      ],
    ],
  ),
);
// The slowest saga of each phase, stage by stage: where an outlier lost its time.
console.log('\nThe slowest saga of each phase, stage by stage (ms):\n');
for (const phase of phases) {
  const slowest = completed(phase).sort(
    (a, b) => (b.endedAt as number) - b.startedAt - ((a.endedAt as number) - a.startedAt),
  )[0];
  if (!slowest) continue;
  const { stages } = await stagesOf(slowest);
  console.log(
    `- ${phase.name}, order ${slowest.orderId}: ${stages.map(([stage, value]) => `${stage} ${ms(value)}`).join('; ')}`,
  );
}
console.log(
  "\nHops are sequential; `relay` is from an event's commit (its occurredAt, the database clock) to the " +
    "bench's own queue receiving it, a handler from there to the next event's commit (consume, inbox, " +
    'decide, append over HTTP). StockCommitted and SaleRecorded run in parallel.',
);

console.log('\n### Event store, projections and handlers per phase\n');
/** The phase until its last saga ended: the span of its /metrics readings. */
const seconds = (phase: Phase) => (phase.drained - phase.start) / 1000;
const metricsOf = (phase: Phase, service: string) => ({
  before: phase.metrics.before.get(service) ?? [],
  after: phase.metrics.after.get(service) ?? [],
});
console.log(
  table(
    [
      'phase',
      'events/s',
      'events per completed saga',
      'append p50 / p95 ms',
      'version conflicts',
      'relay lag max (events)',
      'saga updates per step on the bus',
    ],
    phases.map((phase) => {
      const { before, after } = metricsOf(phase, 'event-store');
      const appends = histogramDelta(before, after, 'magasin_eventstore_append_duration_seconds');
      const events = increase(before, after, 'magasin_eventstore_events_appended_total');
      return [
        phase.name,
        fmt(events / seconds(phase), 0),
        fmt(events / Math.max(1, completed(phase).length), 1),
        `${fmt(appends.quantile(0.5) * 1000, 1)} / ${fmt(appends.quantile(0.95) * 1000, 1)}`,
        fmt(increase(before, after, 'magasin_eventstore_concurrency_conflicts_total'), 0),
        fmt(Math.max(0, ...phase.relayLag), 0),
        fmt(phase.updates.messages / Math.max(1, phase.updates.distinct), 2),
      ];
    }),
  ),
);
console.log();
const HTTP = 'magasin_http_request_duration_seconds';
const eventStoreRoutes = ['POST /streams/:streamId/events', 'GET /streams/:streamId'];
console.log(
  table(
    ['served over HTTP (requests/s, p50 / p95 ms)', ...phases.map((phase) => phase.name)],
    [
      ...eventStoreRoutes.map((route) => {
        const [method, path] = route.split(' ') as [string, string];
        return [
          `event-store ${route}`,
          ...phases.map((phase) => {
            const { before, after } = metricsOf(phase, 'event-store');
            const served = histogramDelta(before, after, HTTP, { method, route: path });
            return `${fmt(served.count / seconds(phase), 0)}, ${fmt(served.quantile(0.5) * 1000, 1)} / ${fmt(served.quantile(0.95) * 1000, 1)}`;
          }),
        ];
      }),
      ...['gateway', 'store'].map((service) => [
        `${service} POST /graphql`,
        ...phases.map((phase) => {
          const { before, after } = metricsOf(phase, service);
          const served = histogramDelta(before, after, HTTP, { method: 'POST', route: '/graphql' });
          return `${fmt(served.count / seconds(phase), 0)}, ${fmt(served.quantile(0.5) * 1000, 1)} / ${fmt(served.quantile(0.95) * 1000, 1)}`;
        }),
      ]),
    ],
  ),
);
console.log();
console.log(
  table(
    [
      'per service: handlers p50 / p95 ms, retried; projected events/s, projection lag max (events); event-loop lag p99 ms',
      ...phases.map((phase) => phase.name),
    ],
    projectorServices.map((name) => [
      name,
      ...phases.map((phase) => {
        const { before, after } = metricsOf(phase, name);
        const handled = histogramDelta(before, after, 'magasin_handler_duration_seconds');
        const retried = increase(before, after, 'magasin_messages_consumed_total', { outcome: 'retried' });
        const lag = Math.max(0, ...(phase.projectionLag.get(name) ?? []));
        const projected = increase(before, after, 'magasin_projection_events_total') / seconds(phase);
        const loop = total(after, 'nodejs_eventloop_lag_p99_seconds') * 1000;
        return `${fmt(handled.quantile(0.5) * 1000, 1)} / ${fmt(handled.quantile(0.95) * 1000, 1)}, ${fmt(retried)}; ${fmt(projected)}, ${fmt(lag)}; ${fmt(loop, 1)}`;
      }),
    ]),
  ),
);
// The inventory decides one command at a time (one stream): its decisions per second bound the sagas.
const inventoryDecisions = (phase: Phase) => {
  const { before, after } = metricsOf(phase, 'inventory');
  return increase(before, after, 'magasin_handler_duration_seconds_count') / seconds(phase);
};
console.log(
  `\nInventory decisions (one at a time, on one stream; 2 per saga): ${phases
    .map(
      (phase) =>
        `${phase.name} ${fmt(inventoryDecisions(phase), 1)}/s (${fmt(1000 / inventoryDecisions(phase), 0)} ms each if back to back)`,
    )
    .join('; ')}.`,
);
{
  const { before, after } = metricsOf(full, 'event-store');
  const types = [
    ...new Set(
      after
        .filter((sample) => sample.name === 'magasin_eventstore_events_appended_total')
        .map((sample) => sample.labels.type as string),
    ),
  ]
    .map(
      (type) =>
        [type, increase(before, after, 'magasin_eventstore_events_appended_total', { type })] as const,
    )
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1]);
  console.log(
    `Events appended at full load per completed saga: ${types
      .map(([type, count]) => `${type} ${fmt(count / Math.max(1, completed(full).length), 2)}`)
      .join(', ')}.`,
  );
}

console.log('\n### CPU per process (% of one core; the machine has', cores(), 'cores)\n');
console.log(
  table(
    ['process', ...phases.map((phase) => phase.name)],
    [
      ...probes.map((probe) => [probe.name, ...phases.map((phase) => fmt(phase.cpu.get(probe.name)))]),
      ['bench event-loop delay p99 (ms)', ...phases.map((phase) => fmt(phase.loopDelayP99Ms, 1))],
    ],
  ),
);
// CPU per saga: what each process used beyond its idle cost, per completed saga.
const stackProbes = probes.filter(
  (probe) => !probe.name.startsWith('bench') && !probe.name.startsWith('rabbitmq'),
);
const perSaga = (phase: Phase, name: string) =>
  (((phase.cpu.get(name) ?? 0) - (idle.cpu.get(name) ?? 0)) * 10 * ((phase.settled - phase.start) / 1000)) /
  Math.max(completed(phase).length, 1);
console.log(
  `\nCPU per completed saga beyond idle (ms of CPU; idle stack: ${[...stackProbes]
    .map((probe) => `${probe.name} ${fmt(idle.cpu.get(probe.name))}%`)
    .join(', ')}):\n`,
);
console.log(
  table(
    ['process', ...phases.map((phase) => phase.name)],
    [
      ...stackProbes.map((probe) => [probe.name, ...phases.map((phase) => fmt(perSaga(phase, probe.name)))]),
      [
        'whole stack (RabbitMQ aside)',
        ...phases.map((phase) =>
          fmt(stackProbes.reduce((sum, probe) => sum + perSaga(phase, probe.name), 0)),
        ),
      ],
    ],
  ),
);
const fullCpuPerSaga = stackProbes.reduce((sum, probe) => sum + perSaga(full, probe.name), 0);
console.log(
  `\nAt ${fmt(fullCpuPerSaga)} ms of CPU per saga, ${cores()} cores can complete at most ~${fmt(
    (cores() * 1000) / fullCpuPerSaga,
  )} sagas/s; 300 sagas/s needs <= ${fmt((cores() * 1000) / 300, 1)} ms per saga.`,
);
// What PostgreSQL and RabbitMQ alone use per saga: a bound that no change to the services' own
// code lifts, short of sending them less work.
const backing = ['postgres (this stack)', 'rabbitmq (whole node)'].map((name) => perSaga(full, name));
const backingPerSaga = backing.reduce((sum, ms) => sum + ms, 0);
console.log(
  `\nPostgreSQL (${fmt(backing[0] ?? 0)} ms) and RabbitMQ (${fmt(backing[1] ?? 0)} ms, with the deliveries to this bench's own queue) alone use ${fmt(
    backingPerSaga,
  )} ms per saga at full load: on ${cores()} cores with nothing else running, at most ~${fmt(
    (cores() * 1000) / backingPerSaga,
  )} sagas/s.`,
);
if (profiles.size > 0) {
  console.log(
    `\n### Where each service's CPU goes at full load (${concurrency} in flight; sampled 8 s; share of busy samples)\n`,
  );
  console.log(
    table(
      ['service', 'top places (package or workspace: share)', 'top functions (self time)'],
      [...profiles].map(([name, profile]) => [
        name,
        profile.shares
          .slice(0, 6)
          .map((entry) => `${entry.where} ${fmt(entry.share * 100)}%`)
          .join(', '),
        profile.functions
          .slice(0, 3)
          .map((entry) => `${entry.name} ${fmt(entry.share * 100)}%`)
          .join(', '),
      ]),
    ),
  );
}
console.log(`\nload average at the end: ${loadAverage()}`);
if (phases.some((phase) => completed(phase).length < phase.runs.length)) {
  // Sagas that did not complete: what the services warned about.
  const warnings = stack
    .logs()
    .split('\n')
    .filter((line) => /"level":(40|50|60)/.test(line));
  console.log(`\nSome sagas did not complete; the services' last warnings and errors:\n`);
  for (const line of warnings.slice(-30)) console.log(line.slice(0, 600));
}

await Promise.all([admin.close(), ...customers.map((customer) => customer.close())]);
await channel.close().catch(() => undefined);
await connection.close().catch(() => undefined);
await stack.stop();
await bus.drop();
