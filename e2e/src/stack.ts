/**
 * The whole of Magasin for end-to-end tests and benchmarks: every service the repository
 * declares (`magasin.service` in a workspace package.json) started as its own process by the
 * `npm start` supervisor, each on a free port with its own fresh database, all on a fresh
 * RabbitMQ vhost. Nothing is replaced by a stand-in.
 */
import { createServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { createEventStoreClient, type EventStoreClient } from '@magasin/event-store/client';
import { discoverServices, repositoryRoot, type Supervisor, startSupervisor } from '@magasin/scripts';
import { DEV_INTERNAL_SECRET } from '@magasin/service-kit';
import { createTestDatabase, createTestVhost, type TestDatabase, type TestVhost } from '@magasin/test-kit';

/** A running stack. */
export interface Stack {
  /** Base URL of every service by name (`gateway`, `store`, ...). */
  readonly urls: Readonly<Record<string, string>>;
  /** `http://127.0.0.1:<port>/graphql` of the gateway. */
  readonly gatewayUrl: string;
  /** The event store, as a peer service reads it. */
  readonly eventStore: EventStoreClient;
  readonly supervisor: Supervisor;
  /** Every log line of every service so far (printed when a test fails). */
  logs(): string;
  stop(): Promise<void>;
}

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

const databaseVariable = (service: string) => `${service.replace(/\W/g, '_').toUpperCase()}_DATABASE_URL`;

/**
 * Starts every declared service (or only `only`), waits until each answers /readyz, and
 * returns the stack. `env` adds or overrides variables for every service (short deadlines...).
 */
export const startStack = async (
  label: string,
  options: { env?: NodeJS.ProcessEnv; only?: string[]; readyTimeoutMs?: number } = {},
): Promise<Stack> => {
  const services = discoverServices(repositoryRoot()).filter(
    (service) => !options.only || options.only.includes(service.name),
  );
  const databases: TestDatabase[] = [];
  let vhost: TestVhost | undefined;
  let supervisor: Supervisor | undefined;
  const output = new PassThrough();
  const lines: string[] = [];
  output.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
  try {
    vhost = await createTestVhost(label);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      RABBITMQ_URL: vhost.url,
      INTERNAL_SECRET: DEV_INTERNAL_SECRET,
      LOG_LEVEL: process.env.MAGASIN_TEST_LOG_LEVEL ?? 'warn',
    };
    const urls: Record<string, string> = {};
    for (const service of services) {
      const port = await freePort();
      env[service.portEnv] = String(port);
      urls[service.name] = `http://127.0.0.1:${port}`;
      if (service.database) {
        const database = await createTestDatabase(`${label}_${service.name.replace(/\W/g, '')}`.slice(0, 30));
        databases.push(database);
        env[databaseVariable(service.name)] = database.url;
      }
    }
    if (urls['event-store']) env.EVENT_STORE_URL = urls['event-store'];
    Object.assign(env, options.env);
    supervisor = startSupervisor({
      services,
      env,
      output,
      errorOutput: output,
      color: false,
      stopTimeoutMs: 10_000,
    });
    const ready = supervisor.ready();
    const timeoutMs = options.readyTimeoutMs ?? 90_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      ready,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the stack was not ready after ${timeoutMs} ms:\n${lines.join('')}`)),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    const running = supervisor;
    const amqp = vhost;
    return {
      urls,
      gatewayUrl: `${urls.gateway}/graphql`,
      eventStore: createEventStoreClient({
        url: urls['event-store'] ?? 'http://127.0.0.1:4006',
        secret: DEV_INTERNAL_SECRET,
        caller: 'e2e',
      }),
      supervisor: running,
      logs: () => lines.join(''),
      stop: async () => {
        await running.stop();
        await Promise.all([...databases.map((database) => database.drop()), amqp.drop()]);
      },
    };
  } catch (error) {
    await supervisor?.stop();
    await Promise.all([...databases.map((database) => database.drop()), vhost?.drop()]);
    throw error;
  }
};
