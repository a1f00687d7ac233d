/**
 * Prometheus and Alertmanager from the machine's binaries (Debian: `prometheus`,
 * `prometheus-alertmanager`), configured from observability/ for services on this machine.
 * Used by `npm run observability` and by the test that checks every service is scraped.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { ALERTMANAGER_CONFIG, localPrometheusConfig } from './prometheus-config.ts';

/** Raised when a binary is missing or does not become ready; the message says what to do. */
export class LocalObservabilityError extends Error {
  readonly code: 'BINARY_MISSING' | 'NOT_READY';
  constructor(code: LocalObservabilityError['code'], message: string) {
    super(message);
    this.name = 'LocalObservabilityError';
    this.code = code;
  }
}

/** Options of {@link startLocalObservability}. */
export interface LocalObservabilityOptions {
  /** `host:port` of each job of prometheus.yml to scrape (see `localTargets`). */
  targets: Readonly<Record<string, string>>;
  /** Holds the generated configuration and both data folders (kept between runs). */
  dataDirectory: string;
  /** Default 9090; 0 is not supported (Prometheus cannot report the port it picked). */
  prometheusPort?: number;
  /** Default 9093. */
  alertmanagerPort?: number;
  /** Scrape and evaluation interval; default prometheus.yml's. */
  interval?: string;
  /** Where the binaries' log lines go, prefixed with their name; default: discarded. */
  output?: NodeJS.WritableStream;
  /** How long each may take to answer /-/ready; default 30 000 ms. */
  readyTimeoutMs?: number;
}

/** Running Prometheus and Alertmanager. */
export interface LocalObservability {
  readonly prometheusUrl: string;
  readonly alertmanagerUrl: string;
  /** Where the generated prometheus.yml was written. */
  readonly prometheusConfig: string;
  /** SIGTERM to both, SIGKILL after 10 s; resolves when both exited. */
  stop(): Promise<void>;
}

/** The first of `names` found on PATH, or undefined. */
export const findBinary = (names: readonly string[], path = process.env.PATH ?? ''): string | undefined => {
  for (const name of names) {
    for (const directory of path.split(delimiter).filter(Boolean)) {
      const candidate = join(directory, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // Not in this directory: try the next one.
      }
    }
  }
  return undefined;
};

const requireBinary = (names: readonly string[], debianPackage: string): string => {
  const found = findBinary(names);
  if (!found) {
    throw new LocalObservabilityError(
      'BINARY_MISSING',
      `${names.join(' or ')} not found on PATH: install it (Debian: sudo apt-get install ${debianPackage})`,
    );
  }
  return found;
};

const pipeLines = (child: ChildProcess, name: string, output: NodeJS.WritableStream | undefined) => {
  const tail: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      output?.write(`${name.padEnd(12)}| ${line}\n`);
    });
  }
  return tail;
};

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));

const stopChild = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited(child);
  clearTimeout(killer);
};

const waitReady = async (
  name: string,
  url: string,
  child: ChildProcess,
  tail: string[],
  timeoutMs: number,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new LocalObservabilityError(
        'NOT_READY',
        `${name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail.join('\n')}`,
      );
    }
    try {
      if ((await fetch(`${url}/-/ready`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(200);
  }
  throw new LocalObservabilityError(
    'NOT_READY',
    `${name} did not answer ${url}/-/ready within ${timeoutMs} ms:\n${tail.join('\n')}`,
  );
};

/** Writes the configuration, starts both binaries and resolves once both are ready. */
export const startLocalObservability = async (
  options: LocalObservabilityOptions,
): Promise<LocalObservability> => {
  const prometheusBinary = requireBinary(['prometheus'], 'prometheus');
  const alertmanagerBinary = requireBinary(
    ['alertmanager', 'prometheus-alertmanager'],
    'prometheus-alertmanager',
  );
  const prometheusPort = options.prometheusPort ?? 9090;
  const alertmanagerPort = options.alertmanagerPort ?? 9093;
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  mkdirSync(join(options.dataDirectory, 'prometheus'), { recursive: true });
  mkdirSync(join(options.dataDirectory, 'alertmanager'), { recursive: true });
  const prometheusConfig = join(options.dataDirectory, 'prometheus.yml');
  writeFileSync(
    prometheusConfig,
    localPrometheusConfig({
      targets: options.targets,
      alertmanager: `127.0.0.1:${alertmanagerPort}`,
      ...(options.interval ? { interval: options.interval } : {}),
    }),
  );

  const alertmanager = spawn(
    alertmanagerBinary,
    [
      `--config.file=${ALERTMANAGER_CONFIG}`,
      `--storage.path=${join(options.dataDirectory, 'alertmanager')}`,
      `--web.listen-address=127.0.0.1:${alertmanagerPort}`,
      // One instance: no gossip port (9094) to collide with another run.
      '--cluster.listen-address=',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const prometheus = spawn(
    prometheusBinary,
    [
      `--config.file=${prometheusConfig}`,
      `--storage.tsdb.path=${join(options.dataDirectory, 'prometheus')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
      '--web.enable-lifecycle',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const alertmanagerTail = pipeLines(alertmanager, 'alertmanager', options.output);
  const prometheusTail = pipeLines(prometheus, 'prometheus', options.output);
  const stop = async () => {
    await Promise.all([stopChild(prometheus), stopChild(alertmanager)]);
  };
  const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
  const alertmanagerUrl = `http://127.0.0.1:${alertmanagerPort}`;
  try {
    await Promise.all([
      waitReady('alertmanager', alertmanagerUrl, alertmanager, alertmanagerTail, timeoutMs),
      waitReady('prometheus', prometheusUrl, prometheus, prometheusTail, timeoutMs),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { prometheusUrl, alertmanagerUrl, prometheusConfig, stop };
};
