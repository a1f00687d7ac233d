import { createTestDatabase, databaseUrl, eventually, type TestDatabase } from '@magasin/test-kit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresReadiness, type RunningService, rabbitmqReadiness } from '../src/index.ts';
import { startTestService } from './service-fixture.ts';

interface Readyz {
  status: string;
  checks: { name: string; status: string; reason?: string }[];
}

const readyz = async (service: RunningService): Promise<{ status: number; body: Readyz }> => {
  const response = await fetch(`${service.url}/readyz`);
  return { status: response.status, body: (await response.json()) as Readyz };
};

const admin = async (sql: string): Promise<void> => {
  const client = new pg.Client({
    connectionString: databaseUrl(
      process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432',
      'postgres',
    ),
  });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
};

describe('readiness', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('readiness');
  });
  afterAll(async () => {
    await database.drop();
  });

  it('answers /healthz 200 and /readyz 200 with every check up', async () => {
    const postgres = postgresReadiness(database.url);
    const service = await startTestService({ readiness: [postgres, rabbitmqReadiness(() => true)] });
    try {
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
      expect(await readyz(service)).toEqual({
        status: 200,
        body: {
          status: 'ready',
          checks: [
            { name: 'postgres', status: 'up' },
            { name: 'rabbitmq', status: 'up' },
          ],
        },
      });
    } finally {
      await service.stop();
      await postgres.close();
    }
  });

  it('is 503 naming PostgreSQL and why when nothing listens on its port', async () => {
    const postgres = postgresReadiness('postgresql://postgres@127.0.0.1:1/none');
    const service = await startTestService({ readiness: [postgres, rabbitmqReadiness(() => true)] });
    try {
      const { status, body } = await readyz(service);
      expect(status).toBe(503);
      expect(body.status).toBe('not_ready');
      expect(body.checks[0]).toMatchObject({ name: 'postgres', status: 'down' });
      expect(body.checks[0]?.reason).toMatch(/PostgreSQL unreachable: .*ECONNREFUSED/);
      expect(body.checks[1]).toEqual({ name: 'rabbitmq', status: 'up' });
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    } finally {
      await service.stop();
      await postgres.close();
    }
  });

  it('flips to 503 when its database becomes unreachable, and back when it returns', async () => {
    const postgres = postgresReadiness(database.url);
    const service = await startTestService({ readiness: [postgres] });
    try {
      expect((await readyz(service)).status).toBe(200);

      // Refuse new connections to the database and cut the open ones, as a failover would.
      await admin(`ALTER DATABASE "${database.name}" WITH ALLOW_CONNECTIONS false`);
      await admin(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${database.name}' AND pid <> pg_backend_pid()`,
      );
      const down = await eventually(
        async () => {
          const answer = await readyz(service);
          return answer.status === 503 ? answer : undefined;
        },
        { what: '/readyz to answer 503' },
      );
      expect(down.body.checks[0]?.name).toBe('postgres');
      expect(down.body.checks[0]?.reason).toMatch(
        /PostgreSQL unreachable: .*(not currently accepting connections|terminat)/,
      );

      await admin(`ALTER DATABASE "${database.name}" WITH ALLOW_CONNECTIONS true`);
      await eventually(async () => ((await readyz(service)).status === 200 ? true : undefined), {
        what: '/readyz to answer 200 again',
      });
    } finally {
      await service.stop();
      await postgres.close();
    }
  });

  it('is 503 when its database was dropped', async () => {
    const dropped = await createTestDatabase('readiness_dropped');
    const postgres = postgresReadiness(dropped.url);
    const service = await startTestService({ readiness: [postgres] });
    try {
      expect((await readyz(service)).status).toBe(200);
      await dropped.drop();
      const down = await eventually(
        async () => {
          const answer = await readyz(service);
          return answer.status === 503 ? answer : undefined;
        },
        { what: '/readyz to answer 503' },
      );
      expect(down.body.checks[0]?.reason).toMatch(/does not exist|terminat/);
    } finally {
      await service.stop();
      await postgres.close();
      await dropped.drop();
    }
  });

  it('follows the RabbitMQ connection state it is given', async () => {
    let connected = true;
    const service = await startTestService({ readiness: [rabbitmqReadiness(() => connected)] });
    try {
      expect((await readyz(service)).status).toBe(200);
      connected = false;
      expect(await readyz(service)).toEqual({
        status: 503,
        body: {
          status: 'not_ready',
          checks: [{ name: 'rabbitmq', status: 'down', reason: 'RabbitMQ connection is down' }],
        },
      });
      connected = true;
      expect((await readyz(service)).status).toBe(200);
    } finally {
      await service.stop();
    }
  });

  it('is 503 with the check that did not answer in time', async () => {
    const hung = { name: 'search-index', check: () => new Promise<void>(() => undefined) };
    const service = await startTestService({ readiness: [hung], readinessTimeoutMs: 100 });
    try {
      const { status, body } = await readyz(service);
      expect(status).toBe(503);
      expect(body.checks).toEqual([
        { name: 'search-index', status: 'down', reason: 'no answer within 100 ms' },
      ]);
    } finally {
      await service.stop();
    }
  });
});
