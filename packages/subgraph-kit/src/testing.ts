/**
 * Test helpers for services built on the kit (`@magasin/subgraph-kit/testing`): a real event
 * store on its own database and RabbitMQ vhost, and a signed GraphQL client. Never a stand-in.
 */

import { loadEventStoreConfig, type RunningEventStore, runEventStore } from '@magasin/event-store';
import { createEventStoreClient, type EventStoreClient } from '@magasin/event-store/client';
import { CORRELATION_HEADER, type Identity, signedFetch } from '@magasin/service-kit';
import { createTestDatabase, createTestVhost, type TestDatabase, type TestVhost } from '@magasin/test-kit';
import { type Client, createClient } from 'graphql-ws';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import WebSocket from 'ws';
import { signedConnectionParams } from './subscriptions.ts';

/** Secret every test service shares. */
export const TEST_INTERNAL_SECRET = 'test-internal-secret-0123456789';

/** A running event store and a RabbitMQ vhost for one test file. */
export interface TestBackbone {
  eventStoreUrl: string;
  /** AMQP URL of the test's own vhost. */
  rabbitmqUrl: string;
  internalSecret: string;
  /** Client of the event store, caller 'test'. */
  eventStore: EventStoreClient;
  running: RunningEventStore;
  /** A database for the service under test (created empty; dropped by stop()). */
  serviceDatabase: TestDatabase;
  /** Environment for `loadSubgraphConfig(service, ...)` pointing at all of the above (port 0 after load). */
  env(service: string, portEnv: string): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Starts an event store (own database, own vhost) and creates a service database. */
export const startTestBackbone = async (label: string): Promise<TestBackbone> => {
  let eventStoreDatabase: TestDatabase | undefined;
  let serviceDatabase: TestDatabase | undefined;
  let vhost: TestVhost | undefined;
  try {
    [eventStoreDatabase, serviceDatabase, vhost] = await Promise.all([
      createTestDatabase(`${label}_es`),
      createTestDatabase(label),
      createTestVhost(label),
    ]);
    const config = loadEventStoreConfig({
      EVENT_STORE_DATABASE_URL: eventStoreDatabase.url,
      RABBITMQ_URL: vhost.url,
      INTERNAL_SECRET: TEST_INTERNAL_SECRET,
    });
    const running = await runEventStore({
      config: { ...config, EVENT_STORE_PORT: 0, EVENT_STORE_RELAY_POLL_MS: 200 },
      logger: pino({ level: process.env.MAGASIN_TEST_LOG_LEVEL ?? 'silent' }),
      registry: new Registry(),
      handleSignals: false,
    });
    const eventStoreUrl = running.service.url;
    const service = serviceDatabase;
    const amqp = vhost;
    const esDatabase = eventStoreDatabase;
    return {
      eventStoreUrl,
      rabbitmqUrl: amqp.url,
      internalSecret: TEST_INTERNAL_SECRET,
      eventStore: createEventStoreClient({
        url: eventStoreUrl,
        secret: TEST_INTERNAL_SECRET,
        caller: 'test',
      }),
      running,
      serviceDatabase: service,
      env: (name, portEnv) => ({
        [portEnv]: '1',
        [`${name.replace(/\W/g, '_').toUpperCase()}_DATABASE_URL`]: service.url,
        RABBITMQ_URL: amqp.url,
        EVENT_STORE_URL: eventStoreUrl,
        INTERNAL_SECRET: TEST_INTERNAL_SECRET,
        LOG_LEVEL: process.env.MAGASIN_TEST_LOG_LEVEL ?? 'silent',
      }),
      stop: async () => {
        await running.service.stop();
        await Promise.all([esDatabase.drop(), service.drop(), amqp.drop()]);
      },
    };
  } catch (error) {
    await Promise.all([eventStoreDatabase?.drop(), serviceDatabase?.drop(), vhost?.drop()]);
    throw error;
  }
};

/** A GraphQL answer as a client sees it. */
export interface GraphQLAnswer<D = Record<string, unknown>> {
  data?: D | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

/**
 * Posts GraphQL to `url` (a service's base URL or its /graphql) signed as the gateway would,
 * for `identity` when given. Returns the JSON answer, whatever the status.
 */
export const graphqlClient =
  (url: string, options: { secret?: string; identity?: Identity; correlationId?: string } = {}) =>
  async <D = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<GraphQLAnswer<D>> => {
    const endpoint = url.endsWith('/graphql') ? url : `${url.replace(/\/$/, '')}/graphql`;
    const fetchSigned = signedFetch({
      secret: options.secret ?? TEST_INTERNAL_SECRET,
      caller: 'gateway',
      ...(options.identity ? { identity: options.identity } : {}),
    });
    const response = await fetchSigned(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(options.correlationId ? { [CORRELATION_HEADER]: options.correlationId } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLAnswer<D>;
  };

/** What {@link subscriptionClient} gives a test. */
export interface TestSubscriptionClient {
  /**
   * Subscribes and collects every `next` payload until the server completes the operation, an
   * error message ends it, or `timeoutMs` (default 15 000) passes (then it rejects, naming what
   * was received). `onNext` sees each payload as it arrives.
   */
  collect<D = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    options?: { timeoutMs?: number; onNext?: (answer: GraphQLAnswer<D>) => void },
  ): Promise<GraphQLAnswer<D>[]>;
  /** Closes the connection (its subscriptions end). */
  close(): Promise<void>;
}

/**
 * A graphql-ws client of `url` (a service's base URL or its /graphql, http or ws) whose
 * connection is signed as the gateway would sign it (in the `connection_init` payload, or on
 * the upgrade request with `signUpgrade`), for `identity` when given.
 */
export const subscriptionClient = (
  url: string,
  options: { secret?: string; identity?: Identity; signUpgrade?: boolean; unsigned?: boolean } = {},
): TestSubscriptionClient => {
  const endpoint = new URL(url.endsWith('/graphql') ? url : `${url.replace(/\/$/, '')}/graphql`);
  endpoint.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';
  const sign = () =>
    signedConnectionParams({
      secret: options.secret ?? TEST_INTERNAL_SECRET,
      caller: 'gateway',
      path: `${endpoint.pathname}${endpoint.search}`,
      ...(options.identity ? { identity: options.identity } : {}),
    });
  const signUpgrade = options.signUpgrade === true && options.unsigned !== true;
  class SignedWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, signUpgrade ? { headers: sign().headers } : {});
    }
  }
  const client: Client = createClient({
    url: endpoint.toString(),
    webSocketImpl: SignedWebSocket,
    lazy: true,
    retryAttempts: 0,
    ...(options.unsigned || signUpgrade ? {} : { connectionParams: sign }),
  });
  return {
    collect: <D = Record<string, unknown>>(
      query: string,
      variables: Record<string, unknown> = {},
      collectOptions: { timeoutMs?: number; onNext?: (answer: GraphQLAnswer<D>) => void } = {},
    ) =>
      new Promise<GraphQLAnswer<D>[]>((resolve, reject) => {
        const received: GraphQLAnswer<D>[] = [];
        const timeoutMs = collectOptions.timeoutMs ?? 15_000;
        const timer = setTimeout(() => {
          unsubscribe();
          reject(
            new Error(
              `subscription not complete after ${timeoutMs} ms; received ${JSON.stringify(received)}`,
            ),
          );
        }, timeoutMs);
        const unsubscribe = client.subscribe<D>(
          { query, variables },
          {
            next: (value) => {
              const answer = value as GraphQLAnswer<D>;
              received.push(answer);
              collectOptions.onNext?.(answer);
            },
            error: (error) => {
              clearTimeout(timer);
              reject(
                Object.assign(new Error(`subscription failed: ${describeSubscriptionError(error)}`), {
                  cause: error,
                  received,
                }),
              );
            },
            complete: () => {
              clearTimeout(timer);
              resolve(received);
            },
          },
        );
      }),
    close: () => client.dispose() as Promise<void>,
  };
};

const describeSubscriptionError = (error: unknown): string => {
  if (error instanceof Error) return error.message;
  const close = error as { code?: unknown; reason?: unknown } | null;
  if (close && typeof close.code === 'number')
    return `connection closed ${close.code} ${String(close.reason ?? '')}`;
  return JSON.stringify(error);
};
