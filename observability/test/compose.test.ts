/**
 * docker-compose.yml and the Dockerfile. `docker compose config` validates the file where the
 * compose plugin is installed; without it (no Docker here) the file is checked as YAML against
 * what the repository declares: every service, its port, Prometheus' jobs, the mounts.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { discoverServices, repositoryRoot } from '@magasin/scripts';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { scrapeJobs } from '../src/prometheus-config.ts';

const root = repositoryRoot();
const declared = discoverServices(root);
/** Services any request can reach and that share their queue: shown with replicas. */
const STATELESS = ['gateway', 'store', 'inventory', 'payment', 'transaction', 'saga'];

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
}
interface ComposeFile {
  name: string;
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}

const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile;

const composePlugin = (): boolean => {
  try {
    execFileSync('docker', ['compose', 'version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

describe('docker-compose.yml', () => {
  it.runIf(composePlugin())('passes docker compose config', async () => {
    const result = await new Promise<{ code: number; output: string }>((resolve) =>
      execFile('docker', ['compose', 'config', '--quiet'], { cwd: root }, (error, stdout, stderr) =>
        resolve({ code: error ? 1 : 0, output: `${stdout}${stderr}` }),
      ),
    );
    expect(result.code, result.output).toBe(0);
  });

  it('has only keys the compose specification knows at the top level', () => {
    for (const key of Object.keys(compose)) {
      expect(
        ['name', 'services', 'volumes', 'networks', 'configs', 'secrets'].includes(key) ||
          key.startsWith('x-'),
        key,
      ).toBe(true);
    }
  });

  it('runs every service the repository declares from the one Dockerfile, SERVICE naming it', () => {
    expect(declared.length).toBeGreaterThanOrEqual(7);
    for (const service of declared) {
      const entry = compose.services[service.name];
      expect(entry, `${service.name} is not in docker-compose.yml`).toBeDefined();
      expect(entry?.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
      expect(entry?.environment?.SERVICE).toBe(service.name);
      expect(entry?.environment?.DATABASE_URL).toBe('postgresql://postgres@postgres:5432');
      expect(entry?.environment?.RABBITMQ_URL).toBe('amqp://guest:guest@rabbitmq:5672');
      expect(entry?.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://jaeger:4318');
    }
  });

  it('shows replicas for the stateless services, one event store', () => {
    for (const name of STATELESS)
      expect(compose.services[name]?.deploy?.replicas, name).toBeGreaterThanOrEqual(2);
    expect(compose.services['event-store']?.deploy?.replicas ?? 1).toBe(1);
  });

  it('points the gateway at every subgraph on its declared port, and every service at the event store', () => {
    const gateway = compose.services.gateway?.environment ?? {};
    for (const service of declared.filter(
      (candidate) => !['gateway', 'event-store'].includes(candidate.name),
    )) {
      const variable = `${service.name.replace(/\W/g, '_').toUpperCase()}_URL`;
      expect(gateway[variable], variable).toBe(`http://${service.name}:${service.port}`);
    }
    const eventStore = declared.find((service) => service.name === 'event-store');
    expect(gateway.EVENT_STORE_URL).toBe(`http://event-store:${eventStore?.port}`);
    expect(compose.services.gateway?.ports).toEqual(['127.0.0.1:4000-4001:4000']);
  });

  it('gives Prometheus a job for every service, on its declared port', () => {
    const jobs = new Map(scrapeJobs().map(({ job, port }) => [job, port]));
    for (const service of declared) expect(jobs.get(service.name), service.name).toBe(service.port);
    expect(jobs.get('rabbitmq')).toBe(15692);
  });

  it('runs Prometheus, Alertmanager, Grafana and Jaeger with the repository configuration', () => {
    const { prometheus, alertmanager, grafana, jaeger } = compose.services;
    expect(prometheus?.image).toMatch(/^prom\/prometheus:v2\./);
    expect(prometheus?.volumes).toContain('./observability/prometheus:/etc/prometheus:ro');
    expect(alertmanager?.image).toMatch(/^prom\/alertmanager:/);
    expect(alertmanager?.volumes).toContain('./observability/alertmanager:/etc/alertmanager:ro');
    expect(grafana?.image).toMatch(/^grafana\/grafana:/);
    expect(jaeger?.image).toMatch(/^jaegertracing\//);
    expect(jaeger?.environment?.COLLECTOR_OTLP_ENABLED).toBe('true');
    for (const [name, port] of [
      ['prometheus', 9090],
      ['alertmanager', 9093],
      ['grafana', 3000],
    ] as const) {
      expect(compose.services[name]?.ports, name).toContain(`127.0.0.1:${port}:${port}`);
    }
  });

  it('declares every named volume and depends only on services it has', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] as string;
        if (source.startsWith('.')) expect(existsSync(join(root, source)), `${name}: ${source}`).toBe(true);
        else expect(compose.volumes, `${name}: volume ${source}`).toHaveProperty(source);
      }
      for (const dependency of Object.keys(service.depends_on ?? {})) {
        expect(compose.services, `${name} depends on ${dependency}`).toHaveProperty(dependency);
      }
      expect(service.image ?? service.build, name).toBeDefined();
    }
  });
});

describe('Dockerfile', () => {
  it('finds the folder and entry point of every declared service by name', () => {
    for (const service of declared) {
      const located = execFileSync(
        process.execPath,
        [join(root, 'observability', 'docker', 'service.mjs'), 'locate'],
        {
          env: { ...process.env, SERVICE: service.name },
          encoding: 'utf8',
        },
      );
      expect(located.trim()).toBe(`${service.directory} ${service.main}`);
    }
  });

  it('refuses a name that is not a service, listing the services', () => {
    let failure: { status?: number; stderr?: string } = {};
    try {
      execFileSync(process.execPath, [join(root, 'observability', 'docker', 'service.mjs'), 'locate'], {
        env: { ...process.env, SERVICE: 'warehouse' },
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (error) {
      failure = error as typeof failure;
    }
    expect(failure.status).toBe(2);
    expect(failure.stderr).toContain('SERVICE=warehouse is not a Magasin service; one of: ');
  });

  it('runs the located service as `npm start` does, with a health check on /readyz', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('service.mjs locate');
    expect(dockerfile).toContain('exec node --import tsx');
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*service\.mjs", "health"/);
    expect(readFileSync(join(root, '.dockerignore'), 'utf8')).toContain('**/node_modules');
  });
});
