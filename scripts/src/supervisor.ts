/**
 * The supervisor of `npm start`: runs each service as `node --import tsx <main>` in its folder,
 * prefixes its log lines, polls `/readyz`, restarts a crashed service with exponential backoff
 * (and says so), and stops everything with SIGTERM, then SIGKILL past a bound.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createPrefixer, type Prefixer } from './log-prefix.ts';
import type { ServiceDeclaration } from './workspaces.ts';

/** Restart policy after a crash. */
export interface RestartPolicy {
  /** Delay before the first restart. Default 500 ms; doubled for each crash in a row. */
  readonly initialDelayMs: number;
  /** Longest delay. Default 30 000 ms. */
  readonly maxDelayMs: number;
  /** A service that ran this long before crashing starts again from initialDelayMs. Default 30 000 ms. */
  readonly stableAfterMs: number;
}

/** Options of startSupervisor. */
export interface SupervisorOptions {
  /** Services to run (from discoverServices). */
  readonly services: readonly ServiceDeclaration[];
  /** Environment passed to every service (plus its port variable). Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Where prefixed lines go. Default process.stdout; a service's stderr goes to `errorOutput`. */
  readonly output?: NodeJS.WritableStream;
  /** Default process.stderr. */
  readonly errorOutput?: NodeJS.WritableStream;
  /** Colour the prefixes. Default: whether `output` is a terminal. */
  readonly color?: boolean;
  readonly restart?: Partial<RestartPolicy>;
  /** How long services get to exit after SIGTERM before SIGKILL. Default SHUTDOWN_TIMEOUT_MS (10 000) + 5 000 ms. */
  readonly stopTimeoutMs?: number;
  /** `/readyz` polling interval. Default 250 ms. */
  readonly readinessIntervalMs?: number;
  /** Say so when a service is not ready after this long (it keeps being polled). Default 60 000 ms. */
  readonly readinessWarnAfterMs?: number;
}

/** A service as the supervisor runs it. */
export interface SupervisedService {
  readonly name: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
}

/** A running supervisor. */
export interface Supervisor {
  readonly services: readonly SupervisedService[];
  /** Resolves once every service has answered `/readyz` with 200 at least once. */
  ready(): Promise<void>;
  /** Prints a line with the `supervisor` prefix. */
  log(line: string): void;
  /** SIGTERM to every service, SIGKILL to those still running after stopTimeoutMs; resolves when all exited. */
  stop(): Promise<void>;
}

/** Raised when a service's port variable holds something that is not a port. */
export class SupervisorConfigError extends Error {
  readonly code = 'SUPERVISOR_CONFIG_INVALID';
}

/** The port a service listens on: its `portEnv` when set, else its design port. */
export const servicePort = (service: ServiceDeclaration, env: NodeJS.ProcessEnv): number => {
  const value = env[service.portEnv];
  if (value === undefined || value === '') return service.port;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new SupervisorConfigError(`${service.portEnv} must be a port number 1-65535 (got "${value}")`);
  }
  return port;
};

/** Delay before restart number `crashesInARow` (1-based). */
export const restartDelay = (policy: RestartPolicy, crashesInARow: number): number =>
  Math.min(policy.initialDelayMs * 2 ** Math.max(0, crashesInARow - 1), policy.maxDelayMs);

const TSX_LOADER = import.meta.resolve('tsx');

interface Running {
  readonly declaration: ServiceDeclaration;
  readonly supervised: SupervisedService;
  child: ChildProcess | undefined;
  /** Incremented at each spawn: timers of an older generation do nothing. */
  generation: number;
  startedAt: number;
  crashesInARow: number;
  everReady: boolean;
  restartTimer: NodeJS.Timeout | undefined;
  exited: Promise<void>;
}

const isRunning = (child: ChildProcess | undefined): child is ChildProcess =>
  child !== undefined && child.exitCode === null && child.signalCode === null;

const describeExit = (code: number | null, signal: NodeJS.Signals | null): string =>
  signal ? `signal ${signal}` : `code ${code}`;

/** Starts every service and supervises it until stop(). Throws SupervisorConfigError for a bad port variable. */
export const startSupervisor = (options: SupervisorOptions): Supervisor => {
  const env = options.env ?? process.env;
  const output = options.output ?? process.stdout;
  const errorOutput = options.errorOutput ?? process.stderr;
  const color = options.color ?? Boolean((output as NodeJS.WriteStream).isTTY);
  const policy: RestartPolicy = {
    initialDelayMs: options.restart?.initialDelayMs ?? 500,
    maxDelayMs: options.restart?.maxDelayMs ?? 30_000,
    stableAfterMs: options.restart?.stableAfterMs ?? 30_000,
  };
  const stopTimeoutMs = options.stopTimeoutMs ?? (Number(env.SHUTDOWN_TIMEOUT_MS) || 10_000) + 5_000;
  const readinessIntervalMs = options.readinessIntervalMs ?? 250;
  const readinessWarnAfterMs = options.readinessWarnAfterMs ?? 60_000;

  const prefix: Prefixer = createPrefixer(['supervisor', ...options.services.map(({ name }) => name)], {
    color,
  });
  const log = (line: string) => output.write(`${prefix('supervisor', line)}\n`);
  let stopping = false;

  const services: Running[] = options.services.map((declaration) => {
    const port = servicePort(declaration, env);
    return {
      declaration,
      supervised: { name: declaration.name, port, url: `http://127.0.0.1:${port}` },
      child: undefined,
      generation: 0,
      startedAt: 0,
      crashesInARow: 0,
      everReady: false,
      restartTimer: undefined,
      exited: Promise.resolve(),
    };
  });

  let markAllReady: () => void = () => undefined;
  const allReady = new Promise<void>((resolve) => {
    markAllReady = resolve;
  });
  const checkAllReady = () => {
    if (services.every((service) => service.everReady)) markAllReady();
  };
  checkAllReady();

  const pollReadiness = (service: Running, generation: number) => {
    const since = Date.now();
    let warned = false;
    const poll = async () => {
      if (stopping || service.generation !== generation || !isRunning(service.child)) return;
      let ok = false;
      try {
        const response = await fetch(`${service.supervised.url}/readyz`, {
          signal: AbortSignal.timeout(2_000),
        });
        await response.arrayBuffer();
        ok = response.ok;
      } catch {
        ok = false; // not listening yet: keep polling
      }
      if (stopping || service.generation !== generation) return;
      if (ok) {
        const seconds = ((Date.now() - since) / 1000).toFixed(1);
        log(`${service.supervised.name} ready at ${service.supervised.url} (${seconds} s)`);
        service.everReady = true;
        checkAllReady();
        return;
      }
      if (!warned && Date.now() - since > readinessWarnAfterMs) {
        warned = true;
        log(`${service.supervised.name} is not ready after ${readinessWarnAfterMs / 1000} s; still waiting`);
      }
      setTimeout(poll, readinessIntervalMs).unref();
    };
    setTimeout(poll, readinessIntervalMs).unref();
  };

  const pipeLines = (stream: NodeJS.ReadableStream | null, name: string, to: NodeJS.WritableStream) => {
    if (!stream) return;
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
      to.write(`${prefix(name, line)}\n`);
    });
  };

  const launch = (service: Running) => {
    const { declaration, supervised } = service;
    service.generation += 1;
    const generation = service.generation;
    service.startedAt = Date.now();
    const child = spawn(process.execPath, ['--import', TSX_LOADER, declaration.main], {
      cwd: declaration.directory,
      env: { ...env, [declaration.portEnv]: String(supervised.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: a Ctrl-C in the terminal reaches the supervisor only, which then
      // stops the services in order instead of every process reacting on its own.
      detached: true,
    });
    service.child = child;
    pipeLines(child.stdout, supervised.name, output);
    pipeLines(child.stderr, supervised.name, errorOutput);
    service.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        log(`${supervised.name} could not be started: ${error.message}`);
      });
      child.once('close', (code, signal) => {
        resolve();
        if (stopping) {
          log(`${supervised.name} stopped (${describeExit(code, signal)})`);
          return;
        }
        const ranMs = Date.now() - service.startedAt;
        service.crashesInARow = ranMs >= policy.stableAfterMs ? 1 : service.crashesInARow + 1;
        const delay = restartDelay(policy, service.crashesInARow);
        log(
          `${supervised.name} exited with ${describeExit(code, signal)} after ${(ranMs / 1000).toFixed(1)} s; ` +
            `restarting in ${delay} ms (crash ${service.crashesInARow} in a row)`,
        );
        service.restartTimer = setTimeout(() => {
          service.restartTimer = undefined;
          if (!stopping) launch(service);
        }, delay);
      });
    });
    log(`${supervised.name} starting (pid ${child.pid ?? '?'}, port ${supervised.port})`);
    pollReadiness(service, generation);
  };

  const signalGroup = (child: ChildProcess, signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      child.kill(signal); // the group is gone already: signal the process itself
    }
  };

  // If the supervisor itself dies, its services must not outlive it.
  const killAllOnExit = () => {
    for (const { child } of services) if (isRunning(child)) signalGroup(child, 'SIGKILL');
  };
  process.on('exit', killAllOnExit);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      stopping = true;
      for (const service of services) clearTimeout(service.restartTimer);
      const live = services.filter((service) => isRunning(service.child));
      for (const service of live) signalGroup(service.child as ChildProcess, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), stopTimeoutMs);
      });
      const outcome = await Promise.race([Promise.all(live.map((service) => service.exited)), bound]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        for (const service of live.filter(({ child }) => isRunning(child))) {
          log(`${service.supervised.name} did not stop within ${stopTimeoutMs} ms; killing it (SIGKILL)`);
          signalGroup(service.child as ChildProcess, 'SIGKILL');
        }
        await Promise.all(live.map((service) => service.exited));
      }
      process.off('exit', killAllOnExit);
    })();
    return stopped;
  };

  for (const service of services) launch(service);

  return {
    services: services.map(({ supervised }) => supervised),
    ready: () => allReady,
    log,
    stop,
  };
};
