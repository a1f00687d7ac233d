/**
 * Isolation helpers for tests that talk to the real PostgreSQL and RabbitMQ.
 *
 * Every test run gets its own databases and its own RabbitMQ vhost, named with the
 * prefix `mgt_<pid>_`, so packages can run their suites in parallel and a run that
 * crashed leaves nothing that the next run depends on. Resources left behind by a
 * process that no longer exists are swept on the next call.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** Base PostgreSQL URL (no database), from `DATABASE_URL`; default the local trust user. */
export const baseDatabaseUrl = (): string =>
  process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432';

/** RabbitMQ URL of the default vhost, from `RABBITMQ_URL`. */
export const rabbitmqUrl = (): string => process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** RabbitMQ management API, from `RABBITMQ_MANAGEMENT_URL`. */
export const rabbitmqManagementUrl = (): string =>
  process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672';

const PREFIX = 'mgt_';

/** A URL for `database` on the server named by `base` (whatever path `base` had is replaced). */
export const databaseUrl = (base: string, database: string): string => {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
};

const uniqueName = (label: string): string =>
  `${PREFIX}${process.pid}_${label
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '_')
    .slice(0, 20)}_t${Date.now().toString(36)}r${randomBytes(3).toString('hex')}`;

const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * A resource is swept only when its creating process is gone AND it is older than this: a
 * process of another PID namespace (a container sharing the servers) looks dead from here.
 */
const SWEEP_AFTER_MS = 30 * 60_000;

const leftBehind = (name: string): boolean => {
  const pid = Number(name.slice(PREFIX.length).split('_')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || processAlive(pid)) return false;
  const created = /_t([0-9a-z]+)r[0-9a-f]{6}$/.exec(name)?.[1];
  return created === undefined || Date.now() - Number.parseInt(created, 36) > SWEEP_AFTER_MS;
};

const withAdmin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: databaseUrl(baseDatabaseUrl(), 'postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
};

const dropDatabase = (client: pg.Client, name: string) =>
  client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);

export interface TestDatabase {
  /** Database name, `mgt_<pid>_<label>_<random>`. */
  readonly name: string;
  /** Full connection URL of the database. */
  readonly url: string;
  /** Drops the database, closing any connection still open to it. */
  drop(): Promise<void>;
}

/** Creates an empty database for one test file and sweeps databases of dead test processes. */
export const createTestDatabase = async (label: string): Promise<TestDatabase> => {
  const name = uniqueName(label);
  await withAdmin(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname LIKE $1',
      [`${PREFIX}%`],
    );
    for (const { datname } of rows) if (leftBehind(datname)) await dropDatabase(client, datname);
    await client.query(`CREATE DATABASE "${name}"`);
  });
  return {
    name,
    url: databaseUrl(baseDatabaseUrl(), name),
    // Connections a test just closed may still be on their way out: give them a moment before
    // FORCE terminates them (a terminated connection's pending query is an unhandled error).
    drop: () =>
      withAdmin(async (client) => {
        for (let attempt = 0; attempt < 20; attempt++) {
          try {
            await client.query(`DROP DATABASE IF EXISTS "${name}"`);
            return;
          } catch (error) {
            if ((error as { code?: string }).code !== '55006') throw error; // in use by other sessions
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
        await dropDatabase(client, name);
      }).then(() => undefined),
  };
};

const management = async (method: string, path: string, body?: unknown): Promise<Response> => {
  const base = new URL(rabbitmqManagementUrl());
  const auth = Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`);
  base.username = '';
  base.password = '';
  return fetch(new URL(`/api${path}`, base), {
    method,
    headers: { authorization: `Basic ${auth.toString('base64')}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
};

const managementOk = async (method: string, path: string, body?: unknown): Promise<Response> => {
  const response = await management(method, path, body);
  if (!response.ok && response.status !== 404) {
    throw new Error(`RabbitMQ management ${method} ${path}: ${response.status} ${await response.text()}`);
  }
  return response;
};

const rabbitUser = (): string => decodeURIComponent(new URL(rabbitmqUrl()).username || 'guest');

const createVhost = async (name: string): Promise<void> => {
  try {
    await managementOk('PUT', `/vhosts/${encodeURIComponent(name)}`, {});
    await managementOk(
      'PUT',
      `/permissions/${encodeURIComponent(name)}/${encodeURIComponent(rabbitUser())}`,
      {
        configure: '.*',
        write: '.*',
        read: '.*',
      },
    );
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    // The management plugin is not listening: fall back to rabbitmqctl on this machine.
    await run('rabbitmqctl', ['-q', 'add_vhost', name]);
    await run('rabbitmqctl', ['-q', 'set_permissions', '-p', name, rabbitUser(), '.*', '.*', '.*']);
  }
};

const deleteVhost = async (name: string): Promise<void> => {
  try {
    await managementOk('DELETE', `/vhosts/${encodeURIComponent(name)}`);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    await run('rabbitmqctl', ['-q', 'delete_vhost', name]).catch(() => undefined);
  }
};

const sweepVhosts = async (): Promise<void> => {
  try {
    const response = await managementOk('GET', '/vhosts?columns=name');
    const vhosts = (await response.json()) as { name: string }[];
    for (const { name } of vhosts) if (name.startsWith(PREFIX) && leftBehind(name)) await deleteVhost(name);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
};

export interface TestVhost {
  /** Vhost name, `mgt_<pid>_<label>_<random>`. */
  readonly name: string;
  /** AMQP URL pointing at the vhost. */
  readonly url: string;
  /** Deletes the vhost with its exchanges and queues. */
  drop(): Promise<void>;
}

/** Creates an empty RabbitMQ vhost for one test file and sweeps vhosts of dead test processes. */
export const createTestVhost = async (label: string): Promise<TestVhost> => {
  const name = uniqueName(label);
  await sweepVhosts();
  await createVhost(name);
  const url = new URL(rabbitmqUrl());
  url.pathname = `/${encodeURIComponent(name)}`;
  return { name, url: url.toString(), drop: () => deleteVhost(name) };
};

/** Polls `probe` until it returns a value other than `undefined`, or fails after `timeoutMs`. */
export const eventually = async <T>(
  probe: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 10_000, intervalMs = 50, what = 'condition' } = {},
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
};

/** Runs a `rabbitmqctl` command on this machine (fault tests: `stop_app`, `start_app`). */
export const rabbitmqctl = async (...args: string[]): Promise<string> => {
  const { stdout } = await run('rabbitmqctl', ['-q', ...args], { timeout: 60_000 });
  return stdout;
};

/** Stops the RabbitMQ application (the node stays up) and starts it again after `downMs`. */
export const bounceRabbitmq = async (downMs: number): Promise<void> => {
  await rabbitmqctl('stop_app');
  await new Promise((resolve) => setTimeout(resolve, downMs));
  await rabbitmqctl('start_app');
  await rabbitmqctl('await_startup');
};
