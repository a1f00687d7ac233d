import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repositoryRoot } from '../src/workspaces.ts';

const run = promisify(execFile);
const composeFile = join(repositoryRoot(), 'docker-compose.yml');

interface ComposeService {
  image?: string;
  ports?: string[];
  healthcheck?: { test?: string[] | string; interval?: string; retries?: number };
  entrypoint?: string[];
  command?: string[] | string;
  environment?: Record<string, string>;
}
const compose = parse(readFileSync(composeFile, 'utf8')) as { services: Record<string, ComposeService> };

/** Host ports published by a service ("127.0.0.1:5672:5672" -> 5672). */
const hostPorts = (service: ComposeService | undefined) =>
  (service?.ports ?? []).map((mapping) => Number(mapping.split(':').at(-2)));

const composePlugin = async (): Promise<string | undefined> => {
  try {
    await run('docker', ['compose', 'version'], { timeout: 15_000 });
    return undefined;
  } catch (error) {
    return `docker compose is not available here (${(error as Error).message.split('\n')[0]})`;
  }
};

describe('docker-compose.yml', () => {
  it('runs RabbitMQ 3 with the management and prometheus plugins on the design ports, with a healthcheck', () => {
    const rabbitmq = compose.services.rabbitmq;
    expect(rabbitmq?.image).toMatch(/^rabbitmq:3[.\d]*-management$/);
    expect(hostPorts(rabbitmq)).toEqual([5672, 15672, 15692]);
    expect(JSON.stringify([rabbitmq?.entrypoint, rabbitmq?.command])).toMatch(
      /rabbitmq-plugins enable --offline rabbitmq_management rabbitmq_prometheus/,
    );
    expect(rabbitmq?.healthcheck?.test).toContain('rabbitmq-diagnostics');
  });

  it('runs PostgreSQL 15 on 5432 with trust for the postgres user, with a healthcheck', () => {
    const postgres = compose.services.postgres;
    expect(postgres?.image).toMatch(/^postgres:15/);
    expect(hostPorts(postgres)).toEqual([5432]);
    expect(postgres?.environment?.POSTGRES_HOST_AUTH_METHOD).toBe('trust');
    expect(JSON.stringify(postgres?.healthcheck?.test)).toContain('pg_isready');
  });

  it('passes docker compose config where the compose plugin exists', async (context) => {
    const missing = await composePlugin();
    if (missing) {
      console.log(`skipping docker compose config: ${missing}`);
      context.skip(missing);
    }
    await expect(run('docker', ['compose', '-f', composeFile, 'config', '-q'])).resolves.toBeDefined();
  });
});
