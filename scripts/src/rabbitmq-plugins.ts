/**
 * The RabbitMQ plugins Magasin relies on: the management API (:15672, used by the DLQ tool and
 * test isolation) and the Prometheus endpoint (:15692). Enabled only when they are not on
 * already: `rabbitmq-plugins enable` costs about 6 s even when there is nothing to do.
 */
import { findExecutable, runCommand } from './local-commands.ts';

/** Plugins that must be enabled. */
export const REQUIRED_PLUGINS = ['rabbitmq_management', 'rabbitmq_prometheus'] as const;

/** What ensureRabbitmqPlugins needs from the outside world. */
export interface PluginProbes {
  /** Whether the management API and the Prometheus endpoint both answer over HTTP. */
  endpointsAnswer(): Promise<boolean>;
  /** Whether `rabbitmq-plugins` can change this broker (installed here and the broker is local). */
  canManagePlugins(): boolean;
  /** Names of the explicitly enabled plugins (`rabbitmq-plugins list -e -m`). */
  enabledPlugins(): Promise<string[]>;
  /** `rabbitmq-plugins enable <plugins>`. */
  enable(plugins: readonly string[]): Promise<void>;
  sleep(ms: number): Promise<void>;
}

/** What ensureRabbitmqPlugins did. `unavailable` is a warning: Magasin runs, without those endpoints. */
export type PluginOutcome =
  | { readonly state: 'already-enabled' }
  | { readonly state: 'enabled'; readonly plugins: readonly string[] }
  | { readonly state: 'unavailable'; readonly advice: string };

const ADVICE = `enable them on the broker: rabbitmq-plugins enable ${REQUIRED_PLUGINS.join(' ')}`;

/**
 * Makes sure the management and Prometheus plugins are on, touching nothing when their
 * endpoints already answer. Never throws for a broker we cannot manage: says so instead.
 */
export const ensureRabbitmqPlugins = async (
  probes: PluginProbes,
  { settleTimeoutMs = 20_000, pollIntervalMs = 250 } = {},
): Promise<PluginOutcome> => {
  if (await probes.endpointsAnswer()) return { state: 'already-enabled' };
  if (!probes.canManagePlugins()) {
    return {
      state: 'unavailable',
      advice: `the management or Prometheus endpoint does not answer; ${ADVICE}`,
    };
  }
  const enabled = new Set(await probes.enabledPlugins());
  const missing = REQUIRED_PLUGINS.filter((plugin) => !enabled.has(plugin));
  if (missing.length > 0) await probes.enable(missing);
  // Listeners open shortly after the plugins start (or after the node boots): wait for them.
  const deadline = Date.now() + settleTimeoutMs;
  while (!(await probes.endpointsAnswer())) {
    if (Date.now() > deadline) {
      return {
        state: 'unavailable',
        advice: `plugins are enabled but their endpoints do not answer after ${settleTimeoutMs / 1000} s`,
      };
    }
    await probes.sleep(pollIntervalMs);
  }
  return missing.length > 0 ? { state: 'enabled', plugins: missing } : { state: 'already-enabled' };
};

const answers200 = async (url: URL, headers: Record<string, string> = {}): Promise<boolean> => {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(3_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false; // refused or timed out: the endpoint does not answer, which is what we ask
  }
};

/** Real probes for the broker whose management API is `managementUrl` (credentials in the URL). */
export const localPluginProbes = (managementUrl: string, brokerOnThisMachine: boolean): PluginProbes => {
  const management = new URL(managementUrl);
  const auth = Buffer.from(
    `${decodeURIComponent(management.username)}:${decodeURIComponent(management.password)}`,
  ).toString('base64');
  const overview = new URL('/api/overview', `${management.protocol}//${management.host}`);
  const prometheus = new URL(`http://${management.hostname}:15692/metrics`);
  return {
    endpointsAnswer: async () =>
      (await answers200(overview, { authorization: `Basic ${auth}` })) && (await answers200(prometheus)),
    canManagePlugins: () => brokerOnThisMachine && findExecutable('rabbitmq-plugins') !== undefined,
    enabledPlugins: async () => {
      const result = await runCommand('rabbitmq-plugins', ['list', '-e', '-m', '-q']);
      if (result.exitCode !== 0) throw new Error(`rabbitmq-plugins list failed: ${result.stderr.trim()}`);
      return result.stdout.split(/\s+/).filter(Boolean);
    },
    enable: async (plugins) => {
      const result = await runCommand('rabbitmq-plugins', ['enable', ...plugins]);
      if (result.exitCode !== 0) throw new Error(`rabbitmq-plugins enable failed: ${result.stderr.trim()}`);
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
};
