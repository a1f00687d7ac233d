/** What the gateway's tests share: a gateway over the fixture subgraphs, tokens, clients. */
import { createDevToken } from '@magasin/scripts';
import { type Client, createClient, type ExecutionResult } from 'graphql-ws';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import WebSocket from 'ws';
import { loadGatewayConfig } from '../src/config.ts';
import { type RunningGateway, startGateway } from '../src/server.ts';
import { buildFederatedSchema } from '../src/supergraph.ts';
import { FIXTURE_SECRET, type FixtureSubgraphs } from './fixture/subgraphs.ts';

export const logger = pino({ level: process.env.MAGASIN_TEST_LOG_LEVEL ?? 'silent' });

/** Starts a gateway (port 0) over the fixture subgraphs; `env` adds or overrides variables. */
export const startTestGateway = async (
  fixture: FixtureSubgraphs,
  env: NodeJS.ProcessEnv = {},
  registry = new Registry(),
): Promise<RunningGateway> => {
  // Mutation audit records go to RabbitMQ; test/audit.test.ts turns them on with its own vhost.
  const config = loadGatewayConfig({
    INTERNAL_SECRET: FIXTURE_SECRET,
    PLAYGROUND: 'false',
    AUDIT_MUTATIONS: 'false',
    ...env,
  });
  return startGateway({
    config: { ...config, port: 0 },
    logger,
    registry,
    handleSignals: false,
    schema: buildFederatedSchema(fixture.supergraphSdl),
    subgraphUrls: fixture.urls,
  });
};

/** A dev token (as `npm run token` prints), signed with the dev secret unless told otherwise. */
export const token = (
  sub: string,
  roles: string[],
  options: { ttl?: string; secret?: string; now?: number } = {},
) => createDevToken({ sub, roles, env: {}, ...options });

/** A GraphQL answer over HTTP, with its status. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[];
  };
}

/** POSTs an operation to the gateway. */
export const post = async (
  gateway: RunningGateway,
  query: string,
  options: { variables?: Record<string, unknown>; token?: string; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> => {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables: options.variables ?? {} }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as HttpAnswer['body'],
  };
};

/** The `extensions.code` of each error. */
export const codes = (answer: { errors?: { extensions?: Record<string, unknown> }[] | readonly unknown[] }) =>
  ((answer.errors ?? []) as { extensions?: Record<string, unknown> }[]).map(
    (error) => error.extensions?.code,
  );

/** A graphql-ws client of the gateway, with the token in `connection_init`. */
export const wsClient = (gateway: RunningGateway, bearer?: string): Client =>
  createClient({
    url: `${gateway.url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: bearer ? { Authorization: `Bearer ${bearer}` } : {},
  });

/** One subscription: its results as they come, and how it ended. */
export interface Subscription {
  results: ExecutionResult[];
  /** Resolves when the server completes it, with the error it ended with, if any. */
  ended: Promise<unknown>;
  /** Resolves once `count` results have arrived. */
  received(count: number): Promise<ExecutionResult[]>;
  unsubscribe(): void;
}

/** Subscribes with `client`. */
export const subscribe = (
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
): Subscription => {
  const results: ExecutionResult[] = [];
  const waiters: { count: number; resolve: (results: ExecutionResult[]) => void }[] = [];
  let finish: (error: unknown) => void = () => undefined;
  const ended = new Promise<unknown>((resolve) => {
    finish = (error) => {
      // Whoever waits for more results gets what came before the end.
      for (const waiter of waiters.splice(0)) waiter.resolve([...results]);
      resolve(error);
    };
  });
  const unsubscribe = client.subscribe(
    { query, variables },
    {
      next: (result) => {
        results.push(result as ExecutionResult);
        for (const waiter of [...waiters]) {
          if (results.length >= waiter.count) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve([...results]);
          }
        }
      },
      error: (error) => finish(error),
      complete: () => finish(undefined),
    },
  );
  return {
    results,
    ended,
    received: (count) =>
      results.length >= count
        ? Promise.resolve([...results])
        : new Promise((resolve) => waiters.push({ count, resolve })),
    unsubscribe,
  };
};
