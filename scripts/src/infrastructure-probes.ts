/**
 * The real probes behind `ensureInfrastructure`: TCP and protocol checks against the
 * configured URLs, the Debian binaries (`pg_ctlcluster`, `rabbitmq-server`), and docker compose.
 */
import { existsSync, readdirSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import amqp from 'amqplib';
import pg from 'pg';
import { z } from 'zod';
import type { Component, ComponentProbe, InfrastructureProbes, Reachability } from './infrastructure.ts';
import { findExecutable, runCommand } from './local-commands.ts';

/** Default PostgreSQL server (no database in the path): the local trust user. */
export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432';
/** Default RabbitMQ URL. */
export const DEFAULT_RABBITMQ_URL = 'amqp://guest:guest@127.0.0.1:5672';
/** Default RabbitMQ management API. */
export const DEFAULT_RABBITMQ_MANAGEMENT_URL = 'http://guest:guest@127.0.0.1:15672';

const urls = z.object({
  DATABASE_URL: z.url().default(DEFAULT_DATABASE_URL),
  RABBITMQ_URL: z.url().default(DEFAULT_RABBITMQ_URL),
  RABBITMQ_MANAGEMENT_URL: z.url().default(DEFAULT_RABBITMQ_MANAGEMENT_URL),
});

/** Where the infrastructure is expected, from the environment (see README, Configuration). */
export type InfrastructureUrls = z.infer<typeof urls>;

/** Reads DATABASE_URL, RABBITMQ_URL and RABBITMQ_MANAGEMENT_URL; throws naming every malformed one. */
export const infrastructureUrls = (env: NodeJS.ProcessEnv = process.env): InfrastructureUrls => {
  const parsed = urls.safeParse(env);
  if (parsed.success) return parsed.data;
  const bad = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`invalid infrastructure configuration: ${bad.join('; ')}`);
};

/** The URL with its password replaced by `***`, for messages. */
export const maskPassword = (url: string): string => {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString().replace(/\/$/, '');
};

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0']);

/** Whether a URL names this machine. */
export const isOnThisMachine = (url: string): boolean => LOCAL_HOSTS.has(new URL(url).hostname);

/** Opens and closes a TCP connection; resolves undefined when it worked, else the reason. */
export const tcpProbe = (host: string, port: number, timeoutMs = 1_500): Promise<string | undefined> =>
  new Promise((resolve) => {
    const socket = tcpConnect({ host: host.replace(/^\[|\]$/g, ''), port });
    const done = (reason: string | undefined) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer on ${host}:${port} within ${timeoutMs} ms`));
    socket.once('connect', () => done(undefined));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done(`${error.code ?? error.message} on ${host}:${port}`),
    );
  });

/** URL of the `postgres` maintenance database on the server named by `base`. */
export const maintenanceDatabaseUrl = (base: string): string => {
  const url = new URL(base);
  url.pathname = '/postgres';
  return url.toString();
};

const portOf = (url: URL, fallback: number): number => (url.port ? Number(url.port) : fallback);

/** PostgreSQL answers when a TCP connection opens and `SELECT 1` returns. Never throws. */
export const reachPostgres = async (base: string): Promise<Reachability> => {
  const url = new URL(base);
  const closed = await tcpProbe(url.hostname, portOf(url, 5432));
  if (closed) return { state: 'closed', reason: closed };
  const client = new pg.Client({
    connectionString: maintenanceDatabaseUrl(base),
    connectionTimeoutMillis: 3_000,
  });
  client.on('error', () => undefined); // a failing connect also rejects connect(): reported below
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { state: 'answering' };
  } catch (error) {
    return { state: 'refusing', reason: (error as Error).message };
  } finally {
    await client.end().catch(() => undefined);
  }
};

/** RabbitMQ answers when a TCP connection opens and an AMQP connection is accepted. Never throws. */
export const reachRabbitmq = async (amqpUrl: string): Promise<Reachability> => {
  const url = new URL(amqpUrl);
  const closed = await tcpProbe(url.hostname, portOf(url, url.protocol === 'amqps:' ? 5671 : 5672));
  if (closed) return { state: 'closed', reason: closed };
  try {
    const connection = await amqp.connect(amqpUrl, { timeout: 3_000 });
    connection.on('error', () => undefined); // closing below; nothing to report
    await connection.close();
    return { state: 'answering' };
  } catch (error) {
    return { state: 'refusing', reason: (error as Error).message };
  }
};

/** PostgreSQL versions with a `main` cluster in /etc/postgresql (Debian layout). */
export const postgresClusterVersions = (configRoot = '/etc/postgresql'): string[] =>
  existsSync(configRoot)
    ? readdirSync(configRoot)
        .filter((version) => existsSync(join(configRoot, version, 'main')))
        .sort()
    : [];

const failure = (what: string, result: { exitCode: number; stdout: string; stderr: string }) =>
  new Error(`${what} exited with ${result.exitCode}: ${(result.stderr || result.stdout).trim()}`);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts every Debian PostgreSQL `main` cluster; one already running is fine. */
const startLocalPostgres = async (): Promise<void> => {
  for (const version of postgresClusterVersions()) {
    const result = await runCommand('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']);
    if (result.exitCode !== 0 && !/already running/i.test(result.stderr + result.stdout)) {
      throw failure(`pg_ctlcluster ${version} main start`, result);
    }
  }
};

/** `rabbitmq-server -detached`, then polls `rabbitmqctl await_startup` (it fails until the node is up). */
const startLocalRabbitmq = async (timeoutMs = 60_000): Promise<void> => {
  const started = await runCommand('rabbitmq-server', ['-detached']);
  if (started.exitCode !== 0) throw failure('rabbitmq-server -detached', started);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const awaited = await runCommand('rabbitmqctl', ['-q', 'await_startup'], { timeoutMs: 30_000 });
    if (awaited.exitCode === 0) return;
    if (Date.now() > deadline)
      throw failure(`rabbitmqctl await_startup (after ${timeoutMs / 1000} s)`, awaited);
    await sleep(500);
  }
};

/** Whether `docker compose version` works and `docker info` reaches an engine. */
export const dockerEngine = async (): Promise<{ available: true } | { available: false; reason: string }> => {
  if (!findExecutable('docker')) return { available: false, reason: 'docker is not installed' };
  const compose = await runCommand('docker', ['compose', 'version'], { timeoutMs: 15_000 }).catch(
    (error: Error) => ({ exitCode: -1, stdout: '', stderr: error.message }),
  );
  if (compose.exitCode !== 0)
    return { available: false, reason: 'the docker compose plugin is not installed' };
  const info = await runCommand('docker', ['info', '--format', '{{.ServerVersion}}'], {
    timeoutMs: 15_000,
  }).catch((error: Error) => ({ exitCode: -1, stdout: '', stderr: error.message }));
  if (info.exitCode !== 0)
    return { available: false, reason: 'no Docker engine answers (docker info failed)' };
  return { available: true };
};

/** The probes of this machine, for the URLs of `env` and the docker-compose.yml of `rootDir`. */
export const localProbes = (rootDir: string, env: NodeJS.ProcessEnv = process.env): InfrastructureProbes => {
  const { DATABASE_URL, RABBITMQ_URL } = infrastructureUrls(env);
  const probe = (
    url: string,
    reach: () => Promise<Reachability>,
    binaries: () => boolean,
    startLocal: () => Promise<void>,
  ): ComponentProbe => ({
    displayUrl: maskPassword(url),
    onThisMachine: isOnThisMachine(url),
    reach,
    hasLocalBinaries: async () => binaries(),
    startLocal,
  });
  return {
    postgres: probe(
      DATABASE_URL,
      () => reachPostgres(DATABASE_URL),
      () => findExecutable('pg_ctlcluster') !== undefined && postgresClusterVersions().length > 0,
      startLocalPostgres,
    ),
    rabbitmq: probe(
      RABBITMQ_URL,
      () => reachRabbitmq(RABBITMQ_URL),
      () => findExecutable('rabbitmq-server') !== undefined && findExecutable('rabbitmqctl') !== undefined,
      startLocalRabbitmq,
    ),
    dockerEngine,
    composeUp: async (components: readonly Component[]) => {
      const result = await runCommand(
        'docker',
        ['compose', '-f', join(rootDir, 'docker-compose.yml'), 'up', '-d', ...components],
        { timeoutMs: 600_000 },
      );
      if (result.exitCode !== 0) throw failure('docker compose up', result);
    },
    sleep,
  };
};
