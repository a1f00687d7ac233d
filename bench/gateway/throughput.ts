/**
 * The gateway (issue 7), with every service running as its own process on fresh databases and
 * a fresh vhost (e2e `startStack`), in two parts.
 *
 * 1. Subscription fan-out on Magasin's gateway, first, while it is fresh from start-up: for each
 *    N of MAGASIN_BENCH_SUBSCRIBERS, N clients (one graphql-ws connection each, as the orders'
 *    customer) subscribe to `orderSaga` of a few orders waiting on a payment that never answers
 *    (tok_timeout, long step deadline); cancelling the orders then moves every saga through its
 *    compensation to CANCELLED. Each update's lag is measured from the saga step's commit
 *    (`steps.at`) to each client, and from the first client that got it (the spread of the
 *    gateway's fan-out, clients' own processing included: they share the machine). Memory per
 *    connection is the gateway process's growth of RSS and of heap in use after a full GC (its
 *    inspector, opened with SIGUSR1 on `--inspect-port=0`) divided by N.
 * 2. Queries: the same nested federated query (products with stock from inventory; the
 *    customer's orders from store with lines { product { name } } from inventory and payment
 *    from payment) at fixed concurrency (autocannon) through
 *      (a) Magasin's gateway, the stack's own process;
 *      (b) a stock `ApolloGateway` with default options (signing data source only);
 *      (c) the Hive Gateway runtime, in-flight deduplication on (its default) and off;
 *      Magasin's gateway runs a second time with its own deduplication off;
 *    and, as a reference, no gateway: the four subgraph requests of the plan sent by the bench.
 *    (b), (c) and the second Magasin gateway run as processes of their own (alt-gateway.ts) over the same subgraphs and the
 *    same supergraph. Targets take turns, MAGASIN_BENCH_ROUNDS times, each after a warm-up;
 *    every answer is checked against the first one (autocannon's body mismatches). Printed:
 *    requests/s, p50/p95/p99 latency, CPU per request of the gateway and of the subgraphs,
 *    ratios to the stock gateway.
 *
 * `npm run bench:gateway -w bench`. MAGASIN_BENCH_SUBSCRIBERS, default "1,1000,5000,15000" (each
 * client is a socket of this process and of the gateway: mind `ulimit -n`); MAGASIN_BENCH_ORDERS,
 * orders followed in the fan-out, default 5; MAGASIN_BENCH_CONNECTIONS, default 50;
 * MAGASIN_BENCH_DURATION_S, default 10; MAGASIN_BENCH_ROUNDS, default 2; MAGASIN_BENCH_SKIP, parts
 * to leave out: "fanout", "queries", "magasin-nodedup", "apollo", "hive", "hive-nodedup".
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type GatewayClient, gatewayClient, startStack, untilStoreKnowsProduct } from '@magasin/e2e';
import { DEV_INTERNAL_SECRET, signInternalRequest } from '@magasin/service-kit';
import autocannon from 'autocannon';
import {
  cores,
  cpuMeter,
  fmt,
  type Inspector,
  loadAverage,
  median,
  openInspector,
  pidOfPort,
  portOf,
  postgresBackends,
  ratio,
  rssBytes,
  scrape,
  sleep,
  summary,
  table,
  total,
  wallNow,
} from '../src/index.ts';

const connections = Number(process.env.MAGASIN_BENCH_CONNECTIONS ?? 50);
const durationS = Number(process.env.MAGASIN_BENCH_DURATION_S ?? 10);
const rounds = Number(process.env.MAGASIN_BENCH_ROUNDS ?? 2);
const subscriberLevels = (process.env.MAGASIN_BENCH_SUBSCRIBERS ?? '1,1000,5000,15000')
  .split(',')
  .map((level) => Number(level.trim()))
  .filter((level) => level > 0);
const fanoutOrders = Number(process.env.MAGASIN_BENCH_ORDERS ?? 5);
const skip = new Set((process.env.MAGASIN_BENCH_SKIP ?? '').split(',').map((name) => name.trim()));
const LABEL = 'bench_gateway';
const here = dirname(fileURLToPath(import.meta.url));
const repository = resolve(here, '..', '..');

const loadAtStart = loadAverage();
console.log(`# bench:gateway — ${new Date().toISOString()}, ${cores()} cores, load average ${loadAtStart}`);

const stack = await startStack(LABEL, {
  // A payment that never answers leaves its saga waiting for this long (the fan-out cancels it first).
  // --inspect-port=0: SIGUSR1 opens the inspector on a free port (a full GC before memory readings).
  env: {
    SAGA_STEP_TIMEOUT_MS: '600000',
    PAYMENT_PROCESSOR_TIMEOUT_MS: '2000',
    NODE_OPTIONS: '--inspect-port=0',
  },
});
const children: ChildProcess[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'bench-gateway-'));
const cleanUp = async () => {
  for (const child of children) child.kill('SIGKILL'); // Hive's runtime ignores SIGTERM
  rmSync(scratch, { recursive: true, force: true });
  await stack.stop();
};

try {
  // ---- data: a catalog and a customer with settled orders ----
  const admin = await gatewayClient(stack.gatewayUrl, { sub: 'bench-admin', roles: ['admin'] });
  const shopper = { sub: 'bench-shopper', roles: ['customer'] };
  const customer = await gatewayClient(stack.gatewayUrl, shopper);
  const productCount = Number(process.env.MAGASIN_BENCH_PRODUCTS ?? 10);
  const orderCount = Number(process.env.MAGASIN_BENCH_QUERY_ORDERS ?? 10);
  const products: string[] = [];
  for (let index = 0; index < productCount; index++) {
    const answer = await admin.query<{ createProduct: { id: string } }>(
      'mutation ($input: CreateProductInput!) { createProduct(input: $input) { id } }',
      {
        input: {
          sku: `GW-${Date.now()}-${index}`,
          name: `Gateway bench product ${index}`,
          priceCents: 500 + index,
          initialStock: 1_000_000,
        },
      },
    );
    const id = answer.data?.createProduct.id;
    if (!id) throw new Error(`createProduct failed: ${JSON.stringify(answer)}`);
    products.push(id);
  }
  for (const id of products) await untilStoreKnowsProduct(customer, id);
  const placeOrder = async (
    client: GatewayClient,
    lines: { productId: string; quantity: number }[],
    token: string,
  ) => {
    const answer = await client.query<{ placeOrder: { order: { id: string } } }>(
      'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } } }',
      { input: { lines, paymentToken: token } },
    );
    const id = answer.data?.placeOrder.order.id;
    if (!id) throw new Error(`placeOrder failed: ${JSON.stringify(answer.errors)}`);
    return id;
  };
  const sagaOf = async (client: GatewayClient, orderId: string) =>
    (
      await client.query<{ order: { saga: { status: string; steps: { name: string }[] } | null } }>(
        'query ($id: ID!) { order(id: $id) { saga { status steps { name } } } }',
        { id: orderId },
      )
    ).data?.order.saga;
  const waitFor = async (what: string, probe: () => Promise<boolean>, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(200);
    }
  };
  const settledOrders: string[] = [];
  for (let index = 0; index < orderCount; index++) {
    settledOrders.push(
      await placeOrder(
        customer,
        [
          { productId: products[index % products.length] as string, quantity: 1 },
          { productId: products[(index + 1) % products.length] as string, quantity: 2 },
        ],
        'tok_visa',
      ),
    );
  }
  for (const orderId of settledOrders) {
    await waitFor(
      `saga of ${orderId} completed`,
      async () => (await sagaOf(customer, orderId))?.status === 'COMPLETED',
    );
  }
  // The payment read model follows the log: wait until every order shows its payment.
  const QUERY = `query Storefront {
  products { id name priceCents stock { available reserved } }
  orders { id status totalCents lines { quantity unitPriceCents product { name } } payment { status amountCents } }
}`;
  await waitFor('payments visible', async () => {
    const answer = await customer.query<{ orders: { payment: unknown }[] }>(QUERY);
    return (
      answer.data?.orders.length === orderCount && answer.data.orders.every((order) => order.payment !== null)
    );
  });

  // ---- subscription fan-out (first: on a gateway fresh from start-up) ----
  const gatewayPid = pidOfPort(portOf(stack.gatewayUrl));
  // Another customer's orders: the query above keeps seeing the same ones.
  const follower = { sub: 'bench-follower', roles: ['customer'] };
  const following = await gatewayClient(stack.gatewayUrl, follower);
  if (!skip.has('fanout')) {
    const SUBSCRIPTION = `subscription Progress($orderId: ID!) {
  orderSaga(orderId: $orderId) { status steps { name at } order { status } }
}`;
    interface Update {
      orderSaga: { status: string; steps: { name: string; at: string }[]; order: { status: string } | null };
    }
    const metricsOfGateway = async () => {
      const samples = await scrape(stack.urls.gateway as string);
      return {
        heap: total(samples, 'nodejs_heap_size_used_bytes'),
        sockets: total(samples, 'magasin_gateway_websocket_connections'),
      };
    };
    // Memory after a full GC of the gateway (through its inspector), else as it is.
    let inspector: Inspector | undefined;
    try {
      if (gatewayPid) inspector = await openInspector(gatewayPid, [portOf(stack.gatewayUrl)]);
    } catch (error) {
      console.log(`memory without a GC first: ${(error as Error).message}`);
    }
    const heapNow = async () => (inspector ? inspector.heapAfterGc() : (await metricsOfGateway()).heap);
    const fanoutRows: string[][] = [];
    for (const subscribers of subscriberLevels) {
      // Orders waiting on a payment that never answers: their sagas stay RUNNING until cancelled.
      const orders: string[] = [];
      for (let index = 0; index < fanoutOrders; index++) {
        orders.push(
          await placeOrder(
            following,
            [{ productId: products[index % products.length] as string, quantity: 1 }],
            'tok_timeout',
          ),
        );
      }
      for (const orderId of orders) {
        await waitFor(`saga of ${orderId} waiting for its payment`, async () =>
          Boolean((await sagaOf(following, orderId))?.steps.some((step) => step.name === 'StockReserved')),
        );
      }
      await sleep(2_500); // the payment handler gives up on the processor (PAYMENT_PROCESSOR_TIMEOUT_MS)
      const heapBefore = await heapNow();
      const rssBefore = gatewayPid ? rssBytes(gatewayPid) : undefined;
      const clients: GatewayClient[] = [];
      const received: { order: number; steps: number; at: number; stepAt: number }[][] = [];
      const firstPayload: Promise<void>[] = [];
      const done: Promise<unknown>[] = [];
      const failures: string[] = [];
      const connectStarted = wallNow();
      const BATCH = 250;
      for (let start = 0; start < subscribers; start += BATCH) {
        const batch: Promise<void>[] = [];
        for (let index = start; index < Math.min(subscribers, start + BATCH); index++) {
          const client = await gatewayClient(stack.gatewayUrl, follower);
          clients.push(client);
          const mine: { order: number; steps: number; at: number; stepAt: number }[] = [];
          received.push(mine);
          const order = index % orders.length;
          let first: () => void = () => undefined;
          const gotFirst = new Promise<void>((resolveFirst) => {
            first = resolveFirst;
          });
          batch.push(gotFirst);
          done.push(
            client
              .subscribe<Update>(
                SUBSCRIPTION,
                { orderId: orders[order] },
                {
                  timeoutMs: 600_000,
                  onNext: (update) => {
                    const at = wallNow();
                    const saga = update.data?.orderSaga;
                    if (update.errors) failures.push(JSON.stringify(update.errors).slice(0, 200));
                    if (saga) {
                      const last = saga.steps.at(-1);
                      mine.push({
                        order,
                        steps: saga.steps.length,
                        at,
                        stepAt: last ? Date.parse(last.at) : Number.NaN,
                      });
                    }
                    first();
                  },
                },
              )
              .catch((error: unknown) => {
                failures.push(String(error).slice(0, 200));
                first();
              }),
          );
        }
        await Promise.all(batch);
        firstPayload.push(...batch);
      }
      const connectSeconds = (wallNow() - connectStarted) / 1000;
      await sleep(1_000);
      const heapConnected = await heapNow();
      const rssConnected = gatewayPid ? rssBytes(gatewayPid) : undefined;
      const connected = await metricsOfGateway();
      // Every client holds the current state; now move every saga on.
      const delivering = cpuMeter([
        { name: 'gateway', pids: () => (gatewayPid ? [gatewayPid] : []) },
        { name: 'bench', pids: () => [process.pid] },
      ]);
      delivering.start();
      const triggered = wallNow();
      await Promise.all(
        orders.map((orderId) =>
          following.query('mutation ($id: ID!) { cancelOrder(orderId: $id) { id status } }', { id: orderId }),
        ),
      );
      const finished = await Promise.race([
        Promise.all(done).then(() => true),
        sleep(120_000).then(() => false),
      ]);
      const deliveryCpu = delivering.stop();
      const lastDelivery = Math.max(...received.flatMap((updates) => updates.map((update) => update.at)));
      // Lags of the updates after the trigger (the first payload is the state at subscription).
      const commitLag: number[] = [];
      const spread: number[] = [];
      const firstSeen = new Map<string, number>();
      for (const updates of received) {
        for (const update of updates) {
          if (update.at < triggered) continue;
          const key = `${update.order}/${update.steps}`;
          firstSeen.set(key, Math.min(firstSeen.get(key) ?? Number.POSITIVE_INFINITY, update.at));
        }
      }
      let deliveries = 0;
      for (const updates of received) {
        for (const update of updates) {
          if (update.at < triggered) continue;
          deliveries++;
          commitLag.push(update.at - update.stepAt);
          spread.push(update.at - (firstSeen.get(`${update.order}/${update.steps}`) as number));
        }
      }
      // What each order's subscribers should all have got: the updates its first subscriber got.
      const perOrder = orders.map(
        (_, order) => received[order]?.filter((update) => update.at >= triggered).length ?? 0,
      );
      const expectedDeliveries = received.reduce(
        (sum, _, index) => sum + (perOrder[index % orders.length] ?? 0),
        0,
      );
      const lag = summary(commitLag);
      const fan = summary(spread);
      await Promise.all(clients.map((client) => client.close()));
      const rssGrowth =
        rssConnected !== undefined && rssBefore !== undefined ? rssConnected - rssBefore : Number.NaN;
      fanoutRows.push([
        fmt(subscribers),
        fmt(connected.sockets),
        fmt(connectSeconds, 1),
        `${fmt(deliveries)} / ${fmt(expectedDeliveries)}`,
        `${fmt(lag.p50)} / ${fmt(lag.p95)} / ${fmt(lag.max)}`,
        `${fmt(fan.p50)} / ${fmt(fan.p95)} / ${fmt(fan.max)}`,
        fmt(lastDelivery - triggered),
        `${fmt(deliveryCpu.get('gateway'))} / ${fmt(deliveryCpu.get('bench'))}`,
        fmt((rssConnected ?? Number.NaN) / 2 ** 20),
        // Below a few hundred connections the growth is lost in the process's own noise.
        subscribers >= 200 ? fmt(rssGrowth / subscribers / 1024, 1) : '-',
        subscribers >= 200 ? fmt((heapConnected - heapBefore) / subscribers / 1024, 1) : '-',
        finished && failures.length === 0
          ? 'ok'
          : `${failures.length} failed${finished ? '' : ', not all done'}: ${failures[0] ?? ''}`,
      ]);
      console.log(`fan-out ${subscribers}: ${fanoutRows.at(-1)?.join(' | ')}; load ${loadAverage()}`);
      await sleep(2_000);
    }
    inspector?.close();
    console.log(
      `\n## Subscription fan-out on Magasin's gateway (${fanoutOrders} orders, orderSaga { status steps { name at } order { status } }, one connection per subscriber)\n`,
    );
    console.log(
      table(
        [
          'subscribers',
          'sockets open',
          'connect + first payload s',
          'updates delivered / expected',
          'lag from step commit p50 / p95 / max ms',
          'spread from first client p50 / p95 / max ms',
          'last delivery after trigger ms',
          'CPU % gateway / clients until done',
          'gateway RSS MiB',
          'RSS KiB per connection',
          `heap KiB per connection${inspector ? ' (after full GC)' : ''}`,
          'outcome',
        ],
        fanoutRows,
      ),
    );
  }
  if (!skip.has('queries')) {
    // ---- the gateways ----
    let supergraph = readFileSync(join(repository, 'schema', 'supergraph.graphql'), 'utf8');
    supergraph = supergraph.replace(
      /@join__graph\(name: "([^"]+)", url: "([^"]+)"\)/g,
      (whole, name: string) =>
        stack.urls[name] ? `@join__graph(name: "${name}", url: "${stack.urls[name]}/graphql")` : whole,
    );
    const supergraphFile = join(scratch, 'supergraph.graphql');
    writeFileSync(supergraphFile, supergraph);

    const startAlternative = (kind: string): Promise<{ url: string; pid: number }> =>
      new Promise((resolveStart, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'alt-gateway.ts'), kind], {
          cwd: here,
          env: { ...process.env, SUPERGRAPH_FILE: supergraphFile, INTERNAL_SECRET: DEV_INTERNAL_SECRET },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        children.push(child);
        let output = '';
        const timer = setTimeout(() => reject(new Error(`${kind} did not start: ${output}`)), 60_000);
        child.stdout?.on('data', (chunk: Buffer) => {
          output += chunk.toString('utf8');
          const port = /listening (\d+)/.exec(output)?.[1];
          if (port) {
            clearTimeout(timer);
            resolveStart({ url: `http://127.0.0.1:${port}/graphql`, pid: child.pid as number });
          }
        });
        child.stderr?.on('data', (chunk: Buffer) => {
          output += chunk.toString('utf8');
        });
        child.on('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`${kind} exited with ${code}: ${output.slice(-2000)}`));
        });
      });

    interface Target {
      name: string;
      url: string;
      pid: number | undefined;
    }
    const targets: Target[] = [{ name: "Magasin's gateway", url: stack.gatewayUrl, pid: gatewayPid }];
    const unavailable: string[] = [];
    for (const [kind, name] of [
      ['magasin-nodedup', "Magasin's gateway (dedup off)"],
      ['apollo', 'stock ApolloGateway'],
      ['hive', 'Hive Gateway runtime (dedup on)'],
      ['hive-nodedup', 'Hive Gateway runtime (dedup off)'],
    ] as const) {
      if (skip.has(kind)) continue;
      try {
        const started = await startAlternative(kind);
        targets.push({ name, ...started });
      } catch (error) {
        unavailable.push(`${name}: ${(error as Error).message.slice(0, 300)}`);
      }
    }

    const headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${customer.token}`,
    };
    const body = JSON.stringify({ query: QUERY, operationName: 'Storefront' });
    const reference = await (await fetch(stack.gatewayUrl, { method: 'POST', headers, body })).json();
    const referenceData = JSON.stringify((reference as { data?: unknown }).data);
    /** Each target's own answer (byte for byte what autocannon then expects), once its data matches Magasin's. */
    const expected = new Map<string, string>();
    for (const target of [...targets]) {
      const response = await fetch(target.url, { method: 'POST', headers, body });
      const text = await response.text();
      let data: string | undefined;
      try {
        data = JSON.stringify((JSON.parse(text) as { data?: unknown }).data);
      } catch {
        data = undefined;
      }
      if (response.status !== 200 || data !== referenceData) {
        unavailable.push(`${target.name}: wrong answer (HTTP ${response.status}): ${text.slice(0, 300)}`);
        targets.splice(targets.indexOf(target), 1);
        continue;
      }
      expected.set(target.name, text);
    }
    const answer = reference as { data: { products: unknown[]; orders: { lines: unknown[] }[] } };
    console.log(
      `query: ${answer.data.products.length} products, ${answer.data.orders.length} orders of ${
        answer.data.orders[0]?.lines.length
      } lines (${Buffer.byteLength(expected.get("Magasin's gateway") ?? '')} bytes); subgraph fetches per query: ` +
        'inventory (products), store (orders), inventory (product entities), payment (order entities)',
    );

    // ---- load ----
    const subgraphNames = ['inventory', 'store', 'payment'];
    const subgraphPids = subgraphNames.map((name) => pidOfPort(portOf(stack.urls[name] as string)));
    interface Run {
      rps: number;
      latencies: number[];
      errors: number;
      non2xx: number;
      mismatches: number;
      gatewayCpu: number;
      subgraphCpu: number;
      postgresCpu: number;
      benchCpu: number;
      load: string;
    }
    const runs = new Map<string, Run[]>();
    const hit = async (target: Target, seconds: number): Promise<Run> => {
      const meter = cpuMeter([
        { name: 'gateway', pids: () => (target.pid ? [target.pid] : []) },
        { name: 'subgraphs', pids: () => subgraphPids.filter((pid): pid is number => pid !== undefined) },
        { name: 'postgres', pids: () => postgresBackends(LABEL) },
        { name: 'bench', pids: () => [process.pid] },
      ]);
      const latencies: number[] = [];
      meter.start();
      const instance = autocannon({
        url: target.url,
        method: 'POST',
        headers,
        body,
        connections,
        duration: seconds,
        expectBody: expected.get(target.name) as string,
      });
      (instance as unknown as NodeJS.EventEmitter).on(
        'response',
        (_client: unknown, _status: number, _bytes: number, responseTime: number) =>
          latencies.push(responseTime),
      );
      const result = await instance;
      const cpu = meter.stop();
      return {
        rps: result.requests.total / result.duration,
        latencies,
        errors: result.errors + result.timeouts,
        non2xx: result.non2xx,
        mismatches: result.mismatches,
        gatewayCpu: cpu.get('gateway') ?? Number.NaN,
        subgraphCpu: cpu.get('subgraphs') ?? Number.NaN,
        postgresCpu: cpu.get('postgres') ?? Number.NaN,
        benchCpu: cpu.get('bench') ?? Number.NaN,
        load: loadAverage(),
      };
    };
    /**
     * The ceiling: no gateway at all. The subgraph requests a gateway sends for the query, in the
     * plan's order (products and orders at once, then the product and order entities at once),
     * signed and sent straight from this process by `connections` workers.
     */
    const identity = { sub: shopper.sub, roles: ['customer'] as const };
    const subgraphCall = async (service: string, query: string, variables: Record<string, unknown> = {}) => {
      const url = `${stack.urls[service]}/graphql`;
      const payload = JSON.stringify({ query, variables });
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signInternalRequest({
            secret: DEV_INTERNAL_SECRET,
            caller: 'gateway',
            method: 'POST',
            path: '/graphql',
            body: payload,
            identity: { sub: identity.sub, roles: [...identity.roles] },
          }),
        },
        body: payload,
      });
      const result = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
      if (result.errors || !result.data) throw new Error(`${service}: ${JSON.stringify(result.errors)}`);
      return result.data;
    };
    const direct = async (): Promise<number> => {
      const [catalog, mine] = await Promise.all([
        subgraphCall('inventory', '{ products { id name priceCents stock { available reserved } } }'),
        subgraphCall(
          'store',
          '{ orders { id status totalCents lines { quantity unitPriceCents product { id } } } }',
        ),
      ]);
      const orders = mine.orders as { id: string; lines: { product: { id: string } }[] }[];
      const productIds = [...new Set(orders.flatMap((order) => order.lines.map((line) => line.product.id)))];
      await Promise.all([
        subgraphCall(
          'inventory',
          'query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { name } } }',
          { representations: productIds.map((id) => ({ __typename: 'Product', id })) },
        ),
        subgraphCall(
          'payment',
          'query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Order { payment { status amountCents } } } }',
          { representations: orders.map((order) => ({ __typename: 'Order', id: order.id })) },
        ),
      ]);
      return (catalog.products as unknown[]).length + orders.length;
    };
    const directName = 'no gateway (its 4 subgraph requests sent directly)';
    const hitDirect = async (seconds: number): Promise<Run> => {
      const meter = cpuMeter([
        { name: 'gateway', pids: () => [process.pid] },
        { name: 'subgraphs', pids: () => subgraphPids.filter((pid): pid is number => pid !== undefined) },
        { name: 'postgres', pids: () => postgresBackends(LABEL) },
        { name: 'bench', pids: () => [process.pid] },
      ]);
      const latencies: number[] = [];
      let errors = 0;
      meter.start();
      const end = wallNow() + seconds * 1000;
      await Promise.all(
        Array.from({ length: connections }, async () => {
          while (wallNow() < end) {
            const started = wallNow();
            try {
              await direct();
              latencies.push(wallNow() - started);
            } catch {
              errors++;
            }
          }
        }),
      );
      const cpu = meter.stop();
      return {
        rps: latencies.length / seconds,
        latencies,
        errors,
        non2xx: 0,
        mismatches: 0,
        gatewayCpu: cpu.get('gateway') ?? Number.NaN,
        subgraphCpu: cpu.get('subgraphs') ?? Number.NaN,
        postgresCpu: cpu.get('postgres') ?? Number.NaN,
        benchCpu: cpu.get('bench') ?? Number.NaN,
        load: loadAverage(),
      };
    };
    const expectedItems = answer.data.products.length + answer.data.orders.length;
    if ((await direct()) !== expectedItems)
      throw new Error('the direct subgraph requests do not see the same data');
    const measuredTargets = [...targets.map((target) => target.name), directName];
    for (let round = 0; round < rounds; round++) {
      {
        await hitDirect(3);
        const run = await hitDirect(durationS);
        runs.set(directName, [...(runs.get(directName) ?? []), run]);
        console.log(`round ${round + 1} ${directName}: ${fmt(run.rps)} req/s, load ${run.load}`);
      }
      for (const target of targets) {
        await hit(target, 3); // warm-up: JIT, plan caches, connection pools
        const run = await hit(target, durationS);
        runs.set(target.name, [...(runs.get(target.name) ?? []), run]);
        console.log(
          `round ${round + 1} ${target.name}: ${fmt(run.rps)} req/s, p95 ${fmt(summary(run.latencies).p95)} ms, ` +
            `load ${run.load}`,
        );
      }
    }

    console.log(
      `\n## Nested federated query at ${connections} connections (${rounds} rounds of ${durationS} s, medians; load average ${loadAtStart} at start)\n`,
    );
    const medianOf = (name: string, pick: (run: Run) => number) => median((runs.get(name) ?? []).map(pick));
    const stock = medianOf('stock ApolloGateway', (run) => run.rps);
    const stockCpuPerRequest = medianOf('stock ApolloGateway', (run) => (run.gatewayCpu * 10) / run.rps);
    console.log(
      table(
        [
          'gateway',
          'requests/s',
          'vs stock',
          'p50 ms',
          'p95 ms',
          'p99 ms',
          'errors / non-2xx / wrong body',
          'gateway CPU %',
          'gateway CPU ms/request',
          'subgraphs CPU %',
          'subgraphs CPU ms/request',
          'postgres CPU %',
          'load generator CPU %',
        ],
        measuredTargets.map((name) => {
          const all = runs.get(name) ?? [];
          const latencies = summary(all.flatMap((run) => run.latencies));
          const rps = medianOf(name, (run) => run.rps);
          const cpuPerRequest = medianOf(name, (run) => (run.gatewayCpu * 10) / run.rps);
          return [
            name,
            fmt(rps),
            ratio(rps, stock),
            fmt(latencies.p50, 1),
            fmt(latencies.p95, 1),
            fmt(latencies.p99, 1),
            `${all.reduce((sum, run) => sum + run.errors, 0)} / ${all.reduce((sum, run) => sum + run.non2xx, 0)} / ${all.reduce((sum, run) => sum + run.mismatches, 0)}`,
            fmt(medianOf(name, (run) => run.gatewayCpu)),
            `${fmt(cpuPerRequest, 2)} (${ratio(cpuPerRequest, stockCpuPerRequest)})`,
            fmt(medianOf(name, (run) => run.subgraphCpu)),
            fmt(
              medianOf(name, (run) => (run.subgraphCpu * 10) / run.rps),
              2,
            ),
            fmt(medianOf(name, (run) => run.postgresCpu)),
            fmt(medianOf(name, (run) => run.benchCpu)),
          ];
        }),
      ),
    );
    console.log(
      `\nCPU in % of one core over the measured seconds (the machine has ${cores()}); the no-gateway row's ` +
        "gateway CPU is the bench process's own (load generator included). Every target's answers were " +
        'checked byte for byte against its first answer, whose data equals what Magasin answers.',
    );
    const magasin = medianOf("Magasin's gateway", (run) => run.rps);
    console.log(
      `\nAim: >= 2x the stock gateway: ${ratio(magasin, stock)} (${Number.isFinite(stock) && magasin >= 2 * stock ? 'met' : 'NOT met'}).`,
    );
    for (const reason of unavailable) console.log(`Not measured: ${reason}`);
    for (const child of children) child.kill('SIGKILL');
  }
  console.log(`\nload average at the end: ${loadAverage()}`);
  await Promise.all([admin.close(), customer.close(), following.close()]);
} finally {
  await cleanUp();
}
