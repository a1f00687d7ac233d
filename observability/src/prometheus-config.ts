/**
 * Prometheus configuration for services on this machine, derived from the docker-compose one
 * (`prometheus/prometheus.yml`): same jobs, rules, intervals and alerting, with each job's
 * targets replaced by `127.0.0.1:<port>` and Alertmanager's by the local one.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

/** The `observability/` folder. */
export const OBSERVABILITY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The docker-compose Prometheus configuration, source of every derived one. */
export const PROMETHEUS_CONFIG = join(OBSERVABILITY_DIR, 'prometheus', 'prometheus.yml');
export const ALERTMANAGER_CONFIG = join(OBSERVABILITY_DIR, 'alertmanager', 'alertmanager.yml');

interface ScrapeConfig {
  job_name: string;
  dns_sd_configs?: Array<{ names: string[]; type?: string; port: number }>;
  static_configs?: Array<{ targets: string[]; labels?: Record<string, string> }>;
  [option: string]: unknown;
}

interface PrometheusConfig {
  global?: Record<string, unknown>;
  rule_files?: string[];
  alerting?: { alertmanagers?: Array<{ static_configs?: Array<{ targets: string[] }> }> };
  scrape_configs?: ScrapeConfig[];
  [section: string]: unknown;
}

/** A scrape job of prometheus.yml: the port its targets listen on and what it asks them. */
export interface ScrapeJob {
  job: string;
  port: number;
  /** Path and query string scraped, e.g. `/metrics` or `/metrics/detailed?vhost=%2F&family=...`. */
  path: string;
}

const readConfig = (file: string): PrometheusConfig => parse(readFileSync(file, 'utf8')) as PrometheusConfig;

const portOf = (scrape: ScrapeConfig): number => {
  const dns = scrape.dns_sd_configs?.[0]?.port;
  if (dns) return dns;
  const target = scrape.static_configs?.[0]?.targets[0];
  const port = Number(target?.split(':').at(-1));
  if (!Number.isInteger(port) || port <= 0) {
    throw new Error(`prometheus.yml: job ${scrape.job_name} has neither a DNS port nor a host:port target`);
  }
  return port;
};

const pathOf = (scrape: ScrapeConfig): string => {
  const query = new URLSearchParams();
  for (const [name, values] of Object.entries(
    (scrape.params as Record<string, string[]> | undefined) ?? {},
  )) {
    for (const value of values) query.append(name, value);
  }
  const path = (scrape.metrics_path as string | undefined) ?? '/metrics';
  return query.size > 0 ? `${path}?${query}` : path;
};

/** Every job of prometheus.yml with its port and path, in file order. */
export const scrapeJobs = (file = PROMETHEUS_CONFIG): ScrapeJob[] =>
  (readConfig(file).scrape_configs ?? []).map((scrape) => ({
    job: scrape.job_name,
    port: portOf(scrape),
    path: pathOf(scrape),
  }));

/** Options of {@link localPrometheusConfig}. */
export interface LocalPrometheusOptions {
  /** `host:port` of each job's target; jobs left out are not scraped. */
  targets: Readonly<Record<string, string>>;
  /** `host:port` of Alertmanager. */
  alertmanager: string;
  /** Overrides `global.scrape_interval` and `global.evaluation_interval` (tests: `1s`). */
  interval?: string;
  /** Source configuration; default prometheus/prometheus.yml. */
  source?: string;
}

/**
 * The configuration as YAML. Throws when a target names a job prometheus.yml does not have:
 * a service that is not scraped in docker-compose must not look scraped here.
 */
export const localPrometheusConfig = (options: LocalPrometheusOptions): string => {
  const source = options.source ?? PROMETHEUS_CONFIG;
  const config = readConfig(source);
  const jobs = new Set((config.scrape_configs ?? []).map((scrape) => scrape.job_name));
  const unknown = Object.keys(options.targets).filter((job) => !jobs.has(job));
  if (unknown.length > 0) {
    throw new Error(`${source} has no job for ${unknown.join(', ')}: add one (and to docker-compose.yml)`);
  }
  const sourceDir = dirname(source);
  const global: Record<string, unknown> = { ...config.global };
  if (options.interval) {
    global.scrape_interval = options.interval;
    global.evaluation_interval = options.interval;
    global.scrape_timeout = options.interval;
  }
  const local: PrometheusConfig = {
    ...config,
    global,
    rule_files: (config.rule_files ?? []).map((pattern) => resolve(sourceDir, pattern)),
    alerting: { alertmanagers: [{ static_configs: [{ targets: [options.alertmanager] }] }] },
    scrape_configs: (config.scrape_configs ?? [])
      .filter((scrape) => options.targets[scrape.job_name] !== undefined)
      .map(({ dns_sd_configs: _dns, static_configs: _static, ...scrape }) => ({
        ...scrape,
        static_configs: [{ targets: [options.targets[scrape.job_name] as string] }],
      })),
  };
  return `# Generated from ${source} for services on this machine: edit that file, not this one.\n${stringify(local)}`;
};

/**
 * `127.0.0.1:<port>` for every job: a service's port from its port variable (`STORE_PORT`...)
 * when `ports` has one for it, else the port in prometheus.yml.
 */
export const localTargets = (
  ports: Readonly<Record<string, number | undefined>> = {},
  file = PROMETHEUS_CONFIG,
): Record<string, string> =>
  Object.fromEntries(scrapeJobs(file).map(({ job, port }) => [job, `127.0.0.1:${ports[job] ?? port}`]));
