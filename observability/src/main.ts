/**
 * `npm run observability`: Prometheus (:9090) and Alertmanager (:9093) from the machine's
 * binaries, scraping the services of `npm start` on 127.0.0.1 with Magasin's jobs, alert
 * rules and routes. Each service's port is its port variable (STORE_PORT...) when set, else
 * the design's. PROMETHEUS_PORT, ALERTMANAGER_PORT and OBSERVABILITY_DATA_DIR (default: a
 * folder in the system's temporary directory, kept between runs) change the rest. Ctrl-C stops both.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { discoverServices, repositoryRoot } from '@magasin/scripts';
import { startLocalObservability } from './local-observability.ts';
import { localTargets } from './prometheus-config.ts';

const port = (variable: string, fallback: number): number => {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0 || value > 65_535) {
    throw new Error(`${variable} must be a port number, got ${JSON.stringify(raw)}`);
  }
  return value;
};

const servicePorts = Object.fromEntries(
  discoverServices(repositoryRoot()).map((service) => [service.name, port(service.portEnv, service.port)]),
);
const targets = localTargets(servicePorts);
const running = await startLocalObservability({
  targets,
  dataDirectory: process.env.OBSERVABILITY_DATA_DIR || join(tmpdir(), 'magasin-observability'),
  prometheusPort: port('PROMETHEUS_PORT', 9090),
  alertmanagerPort: port('ALERTMANAGER_PORT', 9093),
  output: process.stdout,
});
process.stdout.write(
  [
    '',
    `Prometheus    ${running.prometheusUrl}  (alerts: ${running.prometheusUrl}/alerts, targets: ${running.prometheusUrl}/targets)`,
    `Alertmanager  ${running.alertmanagerUrl}`,
    `scraping      ${Object.entries(targets)
      .map(([job, target]) => `${job} ${target}`)
      .join(', ')}`,
    'Grafana and Jaeger run in docker-compose only (docker compose up). Ctrl-C stops.',
    '',
  ].join('\n'),
);

let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`${signal}: stopping Prometheus and Alertmanager\n`);
  running.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`could not stop cleanly: ${String(error)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

// After the first scrapes, say which services answer: the usual surprise is a stack not started.
await sleep(20_000);
if (!stopping) {
  try {
    const answer = (await (await fetch(`${running.prometheusUrl}/api/v1/query?query=up`)).json()) as {
      data: { result: Array<{ metric: { job: string }; value: [number, string] }> };
    };
    const down = answer.data.result
      .filter((series) => series.value[1] !== '1')
      .map((series) => series.metric.job);
    process.stdout.write(
      down.length === 0
        ? `every target is up (${answer.data.result.length})\n`
        : `not answering: ${down.join(', ')} (start the stack with npm start)\n`,
    );
  } catch (error) {
    process.stderr.write(`could not ask Prometheus which targets are up: ${String(error)}\n`);
  }
}
