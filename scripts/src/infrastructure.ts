/**
 * How Magasin gets its PostgreSQL and RabbitMQ, exactly as the design says: use them if they
 * answer; else start the local binaries if installed; else `docker compose up -d` when a
 * Docker engine answers; else stop with one message saying what to install.
 *
 * The decision is made here against injected probes (see `infrastructure-probes.ts` for the
 * real ones), so every branch is tested without having to uninstall anything.
 */

/** The two pieces of infrastructure, named as in docker-compose.yml. */
export type Component = 'postgres' | 'rabbitmq';

/** Human names used in messages. */
export const COMPONENT_TITLE: Record<Component, string> = { postgres: 'PostgreSQL', rabbitmq: 'RabbitMQ' };

/**
 * What a probe found at a component's URL:
 * - `answering`: the protocol check passed (PostgreSQL `SELECT 1`, an AMQP connection);
 * - `closed`: nothing listens there (refused, timed out, unknown host);
 * - `refusing`: something listens but the protocol check failed (starting up, wrong credentials,
 *   another program on the port).
 */
export type Reachability =
  | { readonly state: 'answering' }
  | { readonly state: 'closed'; readonly reason: string }
  | { readonly state: 'refusing'; readonly reason: string };

/** Probes and actions for one component. */
export interface ComponentProbe {
  /** Where it is expected, with any password masked (shown in messages). */
  readonly displayUrl: string;
  /** Whether the URL names this machine (only then can we start anything). */
  readonly onThisMachine: boolean;
  /** TCP then protocol check. Never throws. */
  reach(): Promise<Reachability>;
  /** Whether the binaries needed to start it locally are installed. */
  hasLocalBinaries(): Promise<boolean>;
  /** Starts it from the local binaries and returns once the start command returned. */
  startLocal(): Promise<void>;
}

/** Everything `ensureInfrastructure` needs from the outside world. */
export interface InfrastructureProbes {
  readonly postgres: ComponentProbe;
  readonly rabbitmq: ComponentProbe;
  /** Whether `docker compose version` works and `docker info` answers; the reason when not. */
  dockerEngine(): Promise<
    { readonly available: true } | { readonly available: false; readonly reason: string }
  >;
  /** `docker compose up -d <components>` with the repository's docker-compose.yml. */
  composeUp(components: readonly Component[]): Promise<void>;
  /** Waits `ms` (injected so tests do not wait). */
  sleep(ms: number): Promise<void>;
}

/** How each component ended up answering. */
export type Provenance = 'already-answering' | 'started-local' | 'started-docker';

/** Codes of InfrastructureError, one per way this can fail. */
export const INFRASTRUCTURE_ERROR = {
  /** Neither answering, nor installed locally, nor a Docker engine: the user must install something. */
  nothingToStart: 'INFRA_NOTHING_TO_START',
  /** Not answering and the URL is another machine: nothing we can start. */
  remoteUnreachable: 'INFRA_REMOTE_UNREACHABLE',
  /** Something listens on the port but does not answer the protocol check. */
  refusing: 'INFRA_REFUSING',
  /** We started it but it did not answer within the bound. */
  startTimedOut: 'INFRA_START_TIMED_OUT',
  /** The start command itself failed. */
  startFailed: 'INFRA_START_FAILED',
} as const;

/** A failure with a code from INFRASTRUCTURE_ERROR and a message that says what to do. */
export class InfrastructureError extends Error {
  constructor(
    readonly code: (typeof INFRASTRUCTURE_ERROR)[keyof typeof INFRASTRUCTURE_ERROR],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'InfrastructureError';
  }
}

/** Options of `ensureInfrastructure`. */
export interface EnsureOptions {
  /** Receives one line per decision or action taken. Default: ignore. */
  report?: (component: Component | 'docker', line: string) => void;
  /** How long a started component may take to answer. Default 60 000 ms (docker: twice that, images may download). */
  startTimeoutMs?: number;
  /** How long to wait for a listening but not yet answering component (e.g. still booting). Default 15 000 ms. */
  refusingGraceMs?: number;
  /** Polling interval while waiting. Default 500 ms. */
  pollIntervalMs?: number;
}

const COMPONENTS: readonly Component[] = ['postgres', 'rabbitmq'];

/** The one message shown when nothing can provide the missing components. */
export const installAdvice = (
  missing: readonly { component: Component; displayUrl: string; reason: string }[],
  dockerReason: string,
): string => {
  const lines = missing.map(
    ({ component, displayUrl, reason }) => `  - ${COMPONENT_TITLE[component]} at ${displayUrl}: ${reason}`,
  );
  const debianPackages = missing.map(({ component }) =>
    component === 'postgres' ? 'postgresql' : 'rabbitmq-server',
  );
  return [
    'Magasin needs PostgreSQL and RabbitMQ, and these do not answer:',
    ...lines,
    `They are not installed on this machine, and Docker cannot start them (${dockerReason}).`,
    'Install one of:',
    `  - the local servers: sudo apt-get install ${debianPackages.join(' ')}   (Debian/Ubuntu)`,
    '  - Docker Engine with the compose plugin: https://docs.docker.com/engine/install/',
    'or point DATABASE_URL / RABBITMQ_URL at servers that run, then try again.',
  ].join('\n');
};

/**
 * Makes PostgreSQL and RabbitMQ answer, starting what is missing, and says how each one got there.
 * Throws InfrastructureError (see INFRASTRUCTURE_ERROR) when that cannot be done.
 */
export const ensureInfrastructure = async (
  probes: InfrastructureProbes,
  options: EnsureOptions = {},
): Promise<Record<Component, Provenance>> => {
  const report = options.report ?? (() => undefined);
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  const refusingGraceMs = options.refusingGraceMs ?? 15_000;

  const waitUntilAnswering = async (component: Component, timeoutMs: number): Promise<Reachability> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reach = await probes[component].reach();
      if (reach.state === 'answering' || Date.now() >= deadline) return reach;
      await probes.sleep(pollIntervalMs);
    }
  };

  const provenance = {} as Record<Component, Provenance>;
  const missing: { component: Component; displayUrl: string; reason: string }[] = [];
  const reached = await Promise.all(COMPONENTS.map((component) => probes[component].reach()));

  for (const [index, component] of COMPONENTS.entries()) {
    const probe = probes[component];
    let reach = reached[index] as Reachability;
    if (reach.state === 'refusing') {
      report(component, `something listens at ${probe.displayUrl} but does not answer yet; waiting`);
      reach = await waitUntilAnswering(component, refusingGraceMs);
      if (reach.state === 'refusing') {
        throw new InfrastructureError(
          INFRASTRUCTURE_ERROR.refusing,
          `${COMPONENT_TITLE[component]}: something listens at ${probe.displayUrl} but does not answer ` +
            `(${reach.reason}). Check the URL and credentials (${component === 'postgres' ? 'DATABASE_URL' : 'RABBITMQ_URL'}) ` +
            'or stop the program using that port.',
        );
      }
    }
    if (reach.state === 'answering') {
      provenance[component] = 'already-answering';
      report(component, `answering at ${probe.displayUrl}`);
      continue;
    }
    if (!probe.onThisMachine) {
      throw new InfrastructureError(
        INFRASTRUCTURE_ERROR.remoteUnreachable,
        `${COMPONENT_TITLE[component]} at ${probe.displayUrl} does not answer (${reach.reason}) and is not on ` +
          'this machine, so there is nothing to start here: start it there or fix ' +
          `${component === 'postgres' ? 'DATABASE_URL' : 'RABBITMQ_URL'}.`,
      );
    }
    if (await probe.hasLocalBinaries()) {
      report(component, `not answering at ${probe.displayUrl}; starting the local server`);
      try {
        await probe.startLocal();
      } catch (error) {
        throw new InfrastructureError(
          INFRASTRUCTURE_ERROR.startFailed,
          `${COMPONENT_TITLE[component]}: the local server failed to start: ${(error as Error).message}`,
          { cause: error },
        );
      }
      const after = await waitUntilAnswering(component, startTimeoutMs);
      if (after.state !== 'answering') {
        throw new InfrastructureError(
          INFRASTRUCTURE_ERROR.startTimedOut,
          `${COMPONENT_TITLE[component]} was started locally but does not answer at ${probe.displayUrl} after ` +
            `${startTimeoutMs / 1000} s (${after.reason}). Look at its log (/var/log/${component === 'postgres' ? 'postgresql' : 'rabbitmq'}/).`,
        );
      }
      provenance[component] = 'started-local';
      report(component, `started locally, answering at ${probe.displayUrl}`);
      continue;
    }
    missing.push({ component, displayUrl: probe.displayUrl, reason: reach.reason });
  }

  if (missing.length === 0) return provenance;

  const docker = await probes.dockerEngine();
  if (!docker.available)
    throw new InfrastructureError(INFRASTRUCTURE_ERROR.nothingToStart, installAdvice(missing, docker.reason));

  const components = missing.map(({ component }) => component);
  report('docker', `starting ${components.join(' and ')} with docker compose`);
  try {
    await probes.composeUp(components);
  } catch (error) {
    throw new InfrastructureError(
      INFRASTRUCTURE_ERROR.startFailed,
      `docker compose up -d ${components.join(' ')} failed: ${(error as Error).message}`,
      { cause: error },
    );
  }
  for (const component of components) {
    const after = await waitUntilAnswering(component, startTimeoutMs * 2);
    if (after.state !== 'answering') {
      throw new InfrastructureError(
        INFRASTRUCTURE_ERROR.startTimedOut,
        `${COMPONENT_TITLE[component]} was started with docker compose but does not answer at ` +
          `${probes[component].displayUrl} after ${(startTimeoutMs * 2) / 1000} s (${after.reason}). ` +
          `See: docker compose logs ${component}`,
      );
    }
    provenance[component] = 'started-docker';
    report(component, `started with docker compose, answering at ${probes[component].displayUrl}`);
  }
  return provenance;
};
