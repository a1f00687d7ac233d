/**
 * The audit of mutations as the audit service receives it: one `audit.RecordMutation` command
 * on RabbitMQ (a real vhost) per mutation the gateway accepted or refused, with who, what,
 * when, the outcome and the correlation id, card data masked; and a user's request that
 * succeeds whatever happens to its audit record.
 */
import { composeServices } from '@apollo/composition';
import { type CommandOf, EXCHANGES, parseCommand } from '@magasin/events';
import { type Identity, startService } from '@magasin/service-kit';
import { DomainError, mountSubgraph, requireRole } from '@magasin/subgraph-kit';
import { createTestVhost, eventually, type TestVhost } from '@magasin/test-kit';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { parse } from 'graphql';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/config.ts';
import { type RunningGateway, startGateway } from '../src/server.ts';
import { buildFederatedSchema } from '../src/supergraph.ts';
import { FIXTURE_SECRET } from './fixture/subgraphs.ts';
import { logger, post, token } from './helpers.ts';

const ordersSdl = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { order(id: ID!): Order }
type Mutation {
  placeOrder(input: PlaceOrderInput!): PlaceOrderPayload!
  cancelOrder(orderId: ID!): Order!
}
input PlaceOrderInput { quantity: Int!, paymentToken: String!, customerId: ID }
type PlaceOrderPayload { order: Order! }
type Order @key(fields: "id") { id: ID! status: String! lines: [OrderLine!]! }
type OrderLine { productId: ID! quantity: Int! }
`;

type Context = { identity: Identity | undefined; correlationId: string };
let placed = 0;

const resolvers = {
  Query: { order: (_: unknown, { id }: { id: string }) => ({ id, status: 'PENDING', lines: [] }) },
  Mutation: {
    placeOrder: (_: unknown, { input }: { input: { quantity: number } }, context: Context) => {
      requireRole(context.identity, 'customer');
      if (input.quantity <= 0) throw new DomainError('BAD_USER_INPUT', 'quantity must be positive');
      placed += 1;
      return {
        order: {
          id: `order-${placed}`,
          status: 'PENDING',
          lines: [{ productId: 'product-1', quantity: input.quantity }],
        },
      };
    },
    cancelOrder: (_: unknown, { orderId }: { orderId: string }) => {
      throw new DomainError('CONFLICT', `order ${orderId} is confirmed: it cannot be cancelled`);
    },
  },
};

let vhost: TestVhost;
let connection: ChannelModel;
let channel: Channel;
let subgraph: Awaited<ReturnType<typeof startService>>;
let gateway: RunningGateway;
let registry: Registry;
const received: CommandOf<'RecordMutation'>[] = [];

const startOrders = () =>
  startService({
    name: 'orders',
    port: 0,
    host: '127.0.0.1',
    logger,
    registry: new Registry(),
    readiness: [],
    internalSecret: FIXTURE_SECRET,
    handleSignals: false,
    shutdownTimeoutMs: 3_000,
    routes: async (app) => {
      await mountSubgraph<Context>(app, {
        typeDefs: ordersSdl,
        resolvers,
        context: (request) => request,
        logger,
      });
    },
  });

const supergraphOf = (url: string) => {
  const composed = composeServices([{ name: 'orders', url: `${url}/graphql`, typeDefs: parse(ordersSdl) }]);
  if (composed.errors) throw new Error(composed.errors.map((error) => error.message).join('\n'));
  return buildFederatedSchema(composed.supergraphSdl);
};

const startAuditedGateway = (env: NodeJS.ProcessEnv, metrics = new Registry()) =>
  startGateway({
    config: {
      ...loadGatewayConfig({ INTERNAL_SECRET: FIXTURE_SECRET, PLAYGROUND: 'false', ...env }),
      port: 0,
    },
    logger,
    registry: metrics,
    handleSignals: false,
    schema: supergraphOf(subgraph.url),
  });

beforeAll(async () => {
  vhost = await createTestVhost('gw_audit');
  connection = await amqp.connect(vhost.url);
  channel = await connection.createChannel();
  // What the audit service's queue receives: the commands routed to audit.RecordMutation.
  await channel.assertExchange(EXCHANGES.commands, 'topic', { durable: true });
  await channel.assertQueue('audit-probe', { durable: false, exclusive: true });
  await channel.bindQueue('audit-probe', EXCHANGES.commands, 'audit.RecordMutation');
  await channel.consume(
    'audit-probe',
    (message) => {
      if (!message) return;
      const parsed = parseCommand(JSON.parse(message.content.toString('utf8')));
      if (!parsed.ok) throw new Error(`malformed audit record: ${parsed.reason}`);
      received.push(parsed.command as CommandOf<'RecordMutation'>);
    },
    { noAck: true },
  );
  subgraph = await startOrders();
  registry = new Registry();
  gateway = await startAuditedGateway({ RABBITMQ_URL: vhost.url }, registry);
});

afterAll(async () => {
  await gateway?.stop();
  await subgraph?.stop();
  await connection?.close();
  await vhost?.drop();
});

/** The record of the request whose response carried `correlationId`. */
const recordOf = (correlationId: string | null) =>
  eventually(() => received.find((command) => command.correlationId === correlationId), {
    what: `the audit record of request ${correlationId}`,
  });

const auditedCount = async (metrics: Registry, outcome: string) => {
  const metric = await metrics.getSingleMetric('magasin_gateway_audit_records_total')?.get();
  return metric?.values.find((value) => value.labels.outcome === outcome)?.value ?? 0;
};

const PLACE_ORDER = `mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) { order { id status lines { productId } } }
}`;

describe('the audit of an accepted mutation', () => {
  it('says who, what, when, the outcome and the correlation id, with the card token masked', async () => {
    const before = new Date();
    const answer = await post(gateway, PLACE_ORDER, {
      token: await token('alice', ['customer']),
      variables: { input: { quantity: 2, paymentToken: 'tok_visa' } },
    });
    expect(answer.body.errors).toBeUndefined();
    const record = await recordOf(answer.headers.get('x-correlation-id'));
    expect(record).toMatchObject({
      type: 'RecordMutation',
      actor: 'alice',
      causationId: null,
      payload: {
        operationName: 'Place',
        fields: [{ name: 'placeOrder', arguments: { input: { quantity: 2, paymentToken: '[MASKED]' } } }],
        outcome: 'ACCEPTED',
        errorCodes: [],
        // The order it placed, not the products of its lines.
        subjectIds: ['order-1'],
        roles: ['customer'],
      },
    });
    expect(new Date(record.payload.receivedAt) >= new Date(before.getTime() - 1_000)).toBe(true);
    expect(JSON.stringify(record)).not.toContain('tok_visa');
  });

  it('masks a card token written in the query text too, and never sends the query text', async () => {
    const answer = await post(
      gateway,
      'mutation { placeOrder(input: { quantity: 1, paymentToken: "tok_4242424242424242" }) { order { id } } }',
      { token: await token('alice', ['customer']) },
    );
    expect(answer.body.errors).toBeUndefined();
    const record = await recordOf(answer.headers.get('x-correlation-id'));
    expect(record.payload.fields).toEqual([
      { name: 'placeOrder', arguments: { input: { quantity: 1, paymentToken: '[MASKED]' } } },
    ]);
    expect(JSON.stringify(record)).not.toContain('4242');
  });
});

describe('the audit of a refused mutation', () => {
  it('records a business refusal with its code and the ids it named', async () => {
    const answer = await post(gateway, 'mutation { cancelOrder(orderId: "order-9") { id } }', {
      token: await token('ada', ['admin']),
    });
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const record = await recordOf(answer.headers.get('x-correlation-id'));
    expect(record).toMatchObject({
      actor: 'ada',
      payload: {
        fields: [{ name: 'cancelOrder', arguments: { orderId: 'order-9' } }],
        outcome: 'REFUSED',
        errorCodes: ['CONFLICT'],
        subjectIds: ['order-9'],
        roles: ['admin'],
      },
    });
  });

  it('records a caller without the role, and one without a token, as refused', async () => {
    const forbidden = await post(gateway, PLACE_ORDER, {
      token: await token('bob', ['auditor']),
      variables: { input: { quantity: 1, paymentToken: 'tok_visa' } },
    });
    expect(forbidden.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await recordOf(forbidden.headers.get('x-correlation-id'))).toMatchObject({
      actor: 'bob',
      payload: { outcome: 'REFUSED', errorCodes: ['FORBIDDEN'], subjectIds: [] },
    });

    const anonymous = await post(gateway, PLACE_ORDER, {
      variables: { input: { quantity: 1, paymentToken: 'tok_visa' } },
    });
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await recordOf(anonymous.headers.get('x-correlation-id'))).toMatchObject({
      actor: 'anonymous',
      payload: { outcome: 'REFUSED', errorCodes: ['UNAUTHENTICATED'], roles: [] },
    });
  });

  it('records a mutation refused for a token that does not verify, before it ran', async () => {
    const correlationId = `forged-${Date.now()}`;
    const answer = await post(gateway, PLACE_ORDER, {
      token: await token('mallory', ['admin'], { secret: 'not-the-secret-at-all-0123456789' }),
      variables: { input: { quantity: 1, paymentToken: 'tok_visa' } },
      headers: { 'x-correlation-id': correlationId },
    });
    expect(answer.status).toBe(401);
    expect(await recordOf(correlationId)).toMatchObject({
      actor: 'anonymous',
      payload: {
        fields: [{ name: 'placeOrder', arguments: { input: { paymentToken: '[MASKED]' } } }],
        outcome: 'REFUSED',
        errorCodes: ['UNAUTHENTICATED'],
      },
    });
  });

  it('records a mutation refused by validation, without arguments that did not coerce', async () => {
    const answer = await post(
      gateway,
      'mutation { placeOrder(input: { quantity: "two" }) { order { id } } }',
      {
        token: await token('alice', ['customer']),
      },
    );
    expect(answer.status).toBe(400);
    const record = await recordOf(answer.headers.get('x-correlation-id'));
    expect(record.payload).toMatchObject({
      fields: [{ name: 'placeOrder', arguments: {} }],
      outcome: 'REFUSED',
      errorCodes: ['GRAPHQL_VALIDATION_FAILED'],
    });
  });

  it('sends nothing for a query', async () => {
    const before = received.length;
    const answer = await post(gateway, '{ order(id: "order-1") { id } }');
    expect(answer.body.errors).toBeUndefined();
    await post(gateway, 'mutation { cancelOrder(orderId: "order-2") { id } }', {
      token: await token('ada', ['admin']),
    });
    await eventually(() => (received.length > before ? true : undefined), { what: 'the next record' });
    expect(received.slice(before).map((record) => record.payload.fields[0]?.name)).toEqual(['cancelOrder']);
  });
});

describe('when the audit record cannot be sent', () => {
  const backlogOf = async (metrics: Registry) =>
    (await metrics.getSingleMetric('magasin_gateway_audit_backlog')?.get())?.values[0]?.value ?? 0;
  const placeOrder = async (target: RunningGateway) =>
    post(target, PLACE_ORDER, {
      token: await token('alice', ['customer']),
      variables: { input: { quantity: 1, paymentToken: 'tok_visa' } },
    });

  it('answers the user all the same and keeps the record; a record still waiting at stop is counted lost', async () => {
    // Nothing listens on port 1: RabbitMQ is unreachable for this gateway.
    const metrics = new Registry();
    const cut = await startAuditedGateway({ RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:1' }, metrics);
    let stopped = false;
    try {
      const answer = await placeOrder(cut);
      expect(answer.status).toBe(200);
      expect(answer.body.errors).toBeUndefined();
      expect(await backlogOf(metrics)).toBe(1);
      expect(await auditedCount(metrics, 'failed')).toBe(0);
      await cut.stop();
      stopped = true;
      expect(await auditedCount(metrics, 'failed')).toBe(1);
      expect(await backlogOf(metrics)).toBe(0);
    } finally {
      if (!stopped) await cut.stop();
    }
  });

  it('refuses to keep more than AUDIT_BACKLOG records, counting each one it drops', async () => {
    const metrics = new Registry();
    const cut = await startAuditedGateway(
      { RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:1', AUDIT_BACKLOG: '2' },
      metrics,
    );
    try {
      for (let i = 0; i < 3; i++) expect((await placeOrder(cut)).body.errors).toBeUndefined();
      expect(await backlogOf(metrics)).toBe(2);
      expect(await auditedCount(metrics, 'failed')).toBe(1);
    } finally {
      await cut.stop();
    }
  });

  it('keeps a record no audit queue takes yet, and delivers it once the audit service binds its queue', async () => {
    const bare = await createTestVhost('gw_audit_bare');
    const metrics = new Registry();
    const early = await startAuditedGateway({ RABBITMQ_URL: bare.url }, metrics);
    const late = await amqp.connect(bare.url);
    try {
      const answer = await placeOrder(early);
      expect(answer.body.errors).toBeUndefined();
      const correlationId = answer.headers.get('x-correlation-id');
      // RabbitMQ returns it (no queue bound): it stays in the backlog, sent again and again.
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(await backlogOf(metrics)).toBe(1);
      expect(await auditedCount(metrics, 'ok')).toBe(0);

      // The audit service starts: its queue is bound, and the record arrives, once.
      const channel = await late.createChannel();
      await channel.assertQueue('audit-late', { durable: false, exclusive: true });
      await channel.bindQueue('audit-late', EXCHANGES.commands, 'audit.RecordMutation');
      const arrived: CommandOf<'RecordMutation'>[] = [];
      await channel.consume(
        'audit-late',
        (message) => {
          if (!message) return;
          const parsed = parseCommand(JSON.parse(message.content.toString('utf8')));
          if (parsed.ok) arrived.push(parsed.command as CommandOf<'RecordMutation'>);
        },
        { noAck: true },
      );
      const record = await eventually(
        () => arrived.find((command) => command.correlationId === correlationId),
        {
          what: 'the kept record delivered',
          timeoutMs: 20_000,
        },
      );
      expect(record.payload.fields.map((field) => field.name)).toEqual(['placeOrder']);
      expect(await auditedCount(metrics, 'ok')).toBe(1);
      expect(await backlogOf(metrics)).toBe(0);
      expect(await auditedCount(metrics, 'failed')).toBe(0);
    } finally {
      await early.stop();
      await late.close();
      await bare.drop();
    }
  });

  it('counts what was sent', async () => {
    expect(await auditedCount(registry, 'ok')).toBeGreaterThan(0);
    expect(await auditedCount(registry, 'failed')).toBe(0);
  });
});
