/**
 * The saga orchestrator for one test file, on real infrastructure: its own event store, database
 * and RabbitMQ vhost (kit backbone), one or more replicas of the service, and what the domain
 * services would do around it: append their events to their streams (the event store publishes
 * them on the bus), and a queue bound to every command on `magasin.commands` to see (and answer)
 * what the orchestrator asks of them.
 */
import type { RecordedEvent } from '@magasin/event-store/client';
import {
  type CommandEnvelope,
  type EventDataOf,
  type EventType,
  EXCHANGES,
  newEventId,
} from '@magasin/events';
import type { Identity } from '@magasin/service-kit';
import { diffProjection, rebuildProjection } from '@magasin/subgraph-kit';
import { graphqlClient, startTestBackbone, type TestBackbone } from '@magasin/subgraph-kit/testing';
import { eventually } from '@magasin/test-kit';
import amqp, { type ChannelModel } from 'amqplib';
import pg from 'pg';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { v7 as uuidv7 } from 'uuid';
import { loadSagaConfig, type SagaConfig } from '../src/config.ts';
import type { SagaView } from '../src/domain/timeline.ts';
import { projection } from '../src/projections/index.ts';
import { type RunningSaga, runSaga } from '../src/service.ts';

export const ADMIN: Identity = { sub: 'root', roles: ['admin'] };
export const ALICE: Identity = { sub: 'alice', roles: ['customer'] };
export const BOB: Identity = { sub: 'bob', roles: ['customer'] };

/** Every field of a saga. */
export const SAGA_FIELDS = /* GraphQL */ `
  id
  kind
  status
  startedAt
  endedAt
  order { id }
  steps { name status at detail }
`;

/** A saga as GraphQL answers it. */
export interface SagaAnswer {
  id: string;
  kind: 'ORDER' | 'RETURN';
  status: SagaView['status'];
  startedAt: string;
  endedAt: string | null;
  order: { id: string } | null;
  steps: { name: string; status: string; at: string; detail: string | null }[];
}

/** The commands the orchestrator sent, as the services receive them. */
export interface CommandLog {
  readonly received: CommandEnvelope[];
  /** The commands of an order, once `count` matching `type` (any type if omitted) were received. */
  waitFor(orderId: string, type?: string, count?: number): Promise<CommandEnvelope[]>;
  /** Calls `answer` with every command received from now on (and those already received, first). */
  onCommand(answer: (command: CommandEnvelope) => void): void;
}

export interface SagaFixture {
  backbone: TestBackbone;
  config: SagaConfig;
  /** The replicas (the first one unless the test asked for more). */
  replicas: RunningSaga[];
  commands: CommandLog;
  graphql(identity?: Identity): ReturnType<typeof graphqlClient>;
  /** Appends OrderPlaced to a new `order-<id>` for `customerId`, as the store does; returns the order id. */
  placeOrder(customerId?: string): Promise<string>;
  /** Appends a domain event of `orderId` to the stream its service writes, as that service would. */
  emit<T extends EventType>(orderId: string, type: T, data: EventDataOf<T>): Promise<RecordedEvent>;
  /** The saga as an admin reads it (null when unknown). */
  saga(id: string): Promise<SagaAnswer | null>;
  /** Waits until the saga satisfies `ready`. */
  waitForSaga(id: string, ready: (saga: SagaAnswer) => boolean, what: string): Promise<SagaAnswer>;
  /** The events of the saga stream. */
  sagaEvents(id: string): Promise<RecordedEvent[]>;
  /** Waits until the saga stream (the orchestrator's decisions, not the read model) satisfies `ready`. */
  waitForSagaEvents(
    id: string,
    ready: (events: RecordedEvent[]) => boolean,
    what: string,
  ): Promise<RecordedEvent[]>;
  /** Runs `work` with every deadline held (see {@link withDeadlinesHeld}). */
  withDeadlinesHeld<T>(work: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

export const LINES = [
  { productId: 'kettle', quantity: 2, unitPriceCents: 1500 },
  { productId: 'teapot', quantity: 1, unitPriceCents: 2000 },
];
export const TOTAL_CENTS = 5000;

/** The stream each service writes an event of an order to (conventions of the domain services). */
const streamOf = (orderId: string, type: EventType): string => {
  if (type.startsWith('Order') || type === 'ReturnRequested') return `order-${orderId}`;
  if (type.startsWith('Stock') || type.startsWith('Product')) return 'inventory';
  if (type.startsWith('Payment')) return `payment-${orderId}`;
  if (type === 'SaleRecorded' || type === 'RefundRecorded') return `ledger-${orderId}`;
  throw new Error(`no service writes ${type} in these tests`);
};

const ACTORS: Record<string, string> = {
  order: 'service:store',
  inventory: 'service:inventory',
  payment: 'service:payment',
  ledger: 'service:transaction',
};

/** A queue bound to every command on magasin.commands of the vhost at `url`. */
export const recordCommands = async (url: string): Promise<{ log: CommandLog; connection: ChannelModel }> => {
  const connection = await amqp.connect(url);
  const channel = await connection.createChannel();
  await channel.assertExchange(EXCHANGES.commands, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, EXCHANGES.commands, '#');
  const received: CommandEnvelope[] = [];
  const answers: ((command: CommandEnvelope) => void)[] = [];
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      const command = JSON.parse(message.content.toString('utf8')) as CommandEnvelope;
      received.push(command);
      for (const answer of answers) answer(command);
    },
    { noAck: true },
  );
  const ofOrder = (orderId: string, type?: string) =>
    received.filter(
      (command) =>
        (command.payload as { orderId?: string }).orderId === orderId &&
        (type === undefined || command.type === type),
    );
  return {
    connection,
    log: {
      received,
      waitFor: (orderId, type, count = 1) =>
        eventually(() => (ofOrder(orderId, type).length >= count ? ofOrder(orderId, type) : undefined), {
          what: `${count} ${type ?? 'command'}(s) for order ${orderId}`,
          timeoutMs: 20_000,
        }),
      onCommand: (answer) => {
        for (const command of [...received]) answer(command);
        answers.push(answer);
      },
    },
  };
};

/** Whether a saga stream has recorded the domain event `step` (a SagaStepCompleted of it). */
export const recorded = (events: readonly RecordedEvent[], step: string): boolean =>
  events.some(
    (event) => event.type === 'SagaStepCompleted' && (event.data as { step?: string }).step === step,
  );

/**
 * Runs `work` while no saga deadline of the database at `databaseUrl` can fire, then lets them.
 *
 * A step deadline runs from the moment the orchestrator records the previous step, and under
 * load the next event can take longer than a short SAGA_STEP_TIMEOUT_MS to come through the
 * event store's relay and RabbitMQ: a test that sets a saga up (reserves its stock, confirms it)
 * would race the deadline it did not mean to test. So it holds `saga_deadlines` in EXCLUSIVE
 * mode: the timers' `SELECT ... FOR UPDATE SKIP LOCKED` waits for the table (SKIP LOCKED skips
 * rows, not a table lock), and so does the projection's write of a deadline, so the read model
 * stands still too: `work` waits on the saga streams (the orchestrator's decisions do not need
 * the database), never on the read model. Once released, the projection catches up and the
 * timers fire what is due then; a deadline the saga has moved past meanwhile decides nothing.
 */
export const withDeadlinesHeld = async <T>(databaseUrl: string, work: () => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('LOCK TABLE saga_deadlines IN EXCLUSIVE MODE');
    const result = await work();
    await client.query('COMMIT');
    return result;
  } finally {
    // A failed `work` ends the transaction with the connection (rolled back: nothing was written).
    await client.end();
  }
};

/** Options of {@link startSagaFixture}. */
export interface FixtureOptions {
  /** SAGA_STEP_TIMEOUT_MS; default 60 000 (nothing times out unless the test wants it). */
  stepTimeoutMs?: number;
  returnStepAttempts?: number;
  /** Replicas of the service sharing the database and queue; default 1. */
  replicas?: number;
}

export const startSagaFixture = async (label: string, options: FixtureOptions = {}): Promise<SagaFixture> => {
  const backbone = await startTestBackbone(label);
  const config = {
    ...loadSagaConfig({
      ...backbone.env('saga', 'SAGA_PORT'),
      SAGA_STEP_TIMEOUT_MS: String(options.stepTimeoutMs ?? 60_000),
      SAGA_RETURN_STEP_ATTEMPTS: String(options.returnStepAttempts ?? 3),
      SAGA_DEADLINE_POLL_MS: '100',
      SAGA_SUBSCRIPTION_RESYNC_MS: '2000',
    }),
    port: 0,
  };
  const replicas: RunningSaga[] = [];
  let recorder: Awaited<ReturnType<typeof recordCommands>> | undefined;
  try {
    // Bound before any saga runs: commands are published mandatory and need a queue to land in.
    recorder = await recordCommands(backbone.rabbitmqUrl);
    for (let i = 0; i < (options.replicas ?? 1); i++) {
      replicas.push(
        await runSaga({
          config,
          logger: pino({ level: process.env.MAGASIN_TEST_LOG_LEVEL ?? 'silent' }),
          registry: new Registry(),
          handleSignals: false,
        }),
      );
    }
  } catch (error) {
    await Promise.allSettled(replicas.map((replica) => replica.stop()));
    await recorder?.connection.close();
    await backbone.stop();
    throw error;
  }
  const [first] = replicas;
  if (!first || !recorder) throw new Error('no replica started');
  const { eventStore } = backbone;
  const admin = graphqlClient(first.url, { identity: ADMIN });

  const saga = async (id: string): Promise<SagaAnswer | null> => {
    const answer = await admin<{ saga: SagaAnswer | null }>(
      `query ($id: ID!) { saga(id: $id) { ${SAGA_FIELDS} } }`,
      {
        id,
      },
    );
    if (answer.errors) throw new Error(JSON.stringify(answer.errors));
    return answer.data?.saga ?? null;
  };

  const emit = async <T extends EventType>(orderId: string, type: T, data: EventDataOf<T>) => {
    const streamId = streamOf(orderId, type);
    const result = await eventStore.append(streamId, 'any', [
      {
        eventId: newEventId(),
        type,
        data,
        correlationId: orderId,
        actor: ACTORS[streamId.split('-')[0] ?? ''] ?? 'service:test',
      },
    ]);
    const [event] = result.events;
    if (!event) throw new Error(`the event store recorded no ${type}`);
    return event;
  };

  const connection = recorder.connection;
  return {
    backbone,
    config,
    replicas,
    commands: recorder.log,
    graphql: (identity) => graphqlClient(first.url, identity ? { identity } : {}),
    placeOrder: async (customerId = ALICE.sub) => {
      const orderId = uuidv7();
      await emit(orderId, 'OrderPlaced', {
        orderId,
        customerId,
        lines: LINES,
        totalCents: TOTAL_CENTS,
        currency: 'EUR',
        paymentToken: 'tok_visa',
        placedAt: new Date().toISOString(),
      });
      return orderId;
    },
    emit,
    saga,
    waitForSaga: (id, ready, what) =>
      eventually(
        async () => {
          const found = await saga(id);
          return found && ready(found) ? found : undefined;
        },
        { what: `saga ${id}: ${what}`, timeoutMs: 20_000 },
      ),
    sagaEvents: async (id) => (await eventStore.readStream(`saga-${id}`)).events,
    waitForSagaEvents: (id, ready, what) =>
      eventually(
        async () => {
          const { events } = await eventStore.readStream(`saga-${id}`);
          return ready(events) ? events : undefined;
        },
        { what: `saga-${id}: ${what}`, timeoutMs: 20_000 },
      ),
    withDeadlinesHeld: (work) => withDeadlinesHeld(config.databaseUrl, work),
    stop: async () => {
      await connection.close().catch(() => undefined);
      await Promise.allSettled(replicas.map((replica) => replica.stop()));
      await backbone.stop();
    },
  };
};

/** Step names of a saga, in order. */
export const stepNames = (saga: SagaAnswer | null): string[] => saga?.steps.map((step) => step.name) ?? [];

/** Items of the order lines, as inventory events carry them. */
export const ITEMS = LINES.map(({ productId, quantity }) => ({ productId, quantity }));

/**
 * The differences between the live read model of `fixture` and rebuilds of it from the log: whole
 * pages at once (`applyEvents`, as live) and the reference handlers one event at a time. Both
 * empty when the read model is right. Compared while the log stands still (a saga of an earlier
 * test may still be running): measured again when something was appended meanwhile.
 */
export const rebuildDifferences = async (
  fixture: SagaFixture,
): Promise<{ pages: string[]; byEvent: string[] }> => {
  const { applyEvents, ...oneByOne } = projection;
  if (!applyEvents) throw new Error('the saga projection applies whole pages');
  const headOf = async () =>
    (await fixture.backbone.eventStore.readAll(0, { limit: 5_000 })).events.at(-1)?.position ?? 0;
  const differences = async (definition: typeof oneByOne) => {
    const rebuilt = await rebuildProjection({
      projection: definition,
      databaseUrl: fixture.config.databaseUrl,
      eventStore: fixture.backbone.eventStore,
    });
    return diffProjection({ databaseUrl: fixture.config.databaseUrl, schema: rebuilt.schema });
  };
  for (let attempt = 1; attempt <= 20; attempt++) {
    const head = await headOf();
    await Promise.all(fixture.replicas.map((replica) => replica.deps.projector.waitForPosition(head)));
    const found = { pages: await differences(projection), byEvent: await differences(oneByOne) };
    if ((await headOf()) === head) return found;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('the log never stood still long enough to compare the read model with a rebuild');
};

/** The domain events of an order's happy path after OrderPlaced, each with its step name. */
export const happyPath = (on: SagaFixture, orderId: string): [string, () => Promise<unknown>][] => {
  const paymentId = `pay-${orderId}`;
  return [
    ['StockReserved', () => on.emit(orderId, 'StockReserved', { orderId, items: ITEMS })],
    [
      'PaymentCaptured',
      () => on.emit(orderId, 'PaymentCaptured', { paymentId, orderId, amountCents: TOTAL_CENTS }),
    ],
    [
      'OrderConfirmed',
      () => on.emit(orderId, 'OrderConfirmed', { orderId, paymentId, totalCents: TOTAL_CENTS }),
    ],
    ['StockCommitted', () => on.emit(orderId, 'StockCommitted', { orderId, items: ITEMS })],
    [
      'SaleRecorded',
      () =>
        on.emit(orderId, 'SaleRecorded', {
          saleId: `sale-${orderId}`,
          orderId,
          customerId: ALICE.sub,
          amountCents: TOTAL_CENTS,
        }),
    ],
  ];
};
