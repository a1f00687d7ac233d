import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_DATABASE_URL,
  DEFAULT_RABBITMQ_URL,
  localProbes,
  maintenanceDatabaseUrl,
  postgresClusterVersions,
  reachPostgres,
  reachRabbitmq,
} from '../src/infrastructure-probes.ts';
import { freePort } from './free-port.ts';

const run = promisify(execFile);
const scriptsDir = fileURLToPath(new URL('..', import.meta.url));
const databaseBase = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const rabbitmqUrl = process.env.RABBITMQ_URL ?? DEFAULT_RABBITMQ_URL;

// Named like @magasin/test-kit's databases so a crashed run is swept by the next one.
const suffix = randomBytes(3).toString('hex');
const databases = [`mgt_${process.pid}_infra_a_${suffix}`, `mgt_${process.pid}_infra_b_${suffix}`];
let root: string;

const withAdmin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: maintenanceDatabaseUrl(databaseBase) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
};
const databaseNames = () =>
  withAdmin(
    async (client) => (await client.query<{ datname: string }>('SELECT datname FROM pg_database')).rows,
  ).then((rows) =>
    rows
      .map(({ datname }) => datname)
      // Other test files create and drop their own mgt_ databases meanwhile: leave those out.
      .filter((name) => !name.startsWith('mgt_') || databases.includes(name))
      .sort(),
  );

/** `npm run infra -- <command> --root <fixture>` as a real process. */
const infra = async (command: string) => {
  try {
    const { stdout } = await run(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), 'src/infra.ts', command, '--root', root],
      { cwd: scriptsDir, env: process.env, timeout: 60_000 },
    );
    return { code: 0, stdout };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout + failure.stderr };
  }
};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'magasin-infra-'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'fixture', workspaces: ['services/*'] }));
  for (const [index, database] of databases.entries()) {
    const name = `svc-${index === 0 ? 'a' : 'b'}`;
    mkdirSync(join(root, 'services', name), { recursive: true });
    writeFileSync(
      join(root, 'services', name, 'package.json'),
      JSON.stringify({
        name,
        magasin: {
          service: { name, portEnv: `SVC_${index}_PORT`, port: 4950 + index, database, main: 'main.ts' },
        },
      }),
    );
  }
});

afterAll(async () => {
  await withAdmin(async (client) => {
    for (const database of databases)
      await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  });
  rmSync(root, { recursive: true, force: true });
});

describe('npm run infra -- up', () => {
  it('creates each service database once; a second run reports everything already there and changes nothing', async () => {
    const first = await infra('up');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^postgres +answering at /m);
    expect(first.stdout).toMatch(/^rabbitmq +answering at amqp:\/\/guest:\*\*\*@/m);
    for (const database of databases) expect(first.stdout).toContain(`${database} (svc-`);
    expect(first.stdout).toContain(`${databases[0]} (svc-a) created`);
    const before = await databaseNames();
    expect(before).toEqual(expect.arrayContaining(databases));

    const second = await infra('up');

    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`${databases[0]} (svc-a) already there`);
    expect(second.stdout).toContain(`${databases[1]} (svc-b) already there`);
    expect(second.stdout).not.toContain('created');
    expect(second.stdout).not.toMatch(/start|enabled rabbitmq/);
    expect(second.stdout).toMatch(/^plugins +rabbitmq_management, rabbitmq_prometheus already enabled/m);
    expect(await databaseNames()).toEqual(before);
  });

  it('status shows what answers and which databases exist, and exits 0 when all is in place', async () => {
    await infra('up');
    const status = await infra('status');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^postgres +answering$/m);
    expect(status.stdout).toMatch(/^rabbitmq +answering$/m);
    expect(status.stdout).toContain(`${databases[1]} (svc-b) present`);
  });
});

describe('infrastructure probes', () => {
  it('tell answering servers from closed ports and from a wrong protocol or credentials', async () => {
    const unused = await freePort();
    const wrongCredentials = new URL(rabbitmqUrl);
    wrongCredentials.username = 'nobody';
    wrongCredentials.password = 'wrong';

    expect(await reachPostgres(databaseBase)).toEqual({ state: 'answering' });
    expect(await reachRabbitmq(rabbitmqUrl)).toEqual({ state: 'answering' });
    expect(await reachPostgres(`postgresql://postgres@127.0.0.1:${unused}`)).toMatchObject({
      state: 'closed',
    });
    expect(await reachRabbitmq(`amqp://guest:guest@127.0.0.1:${unused}`)).toMatchObject({ state: 'closed' });
    expect(await reachRabbitmq(wrongCredentials.toString())).toMatchObject({ state: 'refusing' });
    // PostgreSQL's port does not speak AMQP.
    expect(
      await reachRabbitmq(`amqp://guest:guest@127.0.0.1:${new URL(databaseBase).port || 5432}`),
    ).toMatchObject({
      state: 'refusing',
    });
  });
});

describe('local PostgreSQL binaries', () => {
  it.skipIf(postgresClusterVersions().length === 0)(
    'are found, and starting clusters that already run changes nothing',
    async () => {
      const postgres = localProbes(root).postgres;
      expect(await postgres.hasLocalBinaries()).toBe(true);

      await postgres.startLocal();

      expect(await postgres.reach()).toEqual({ state: 'answering' });
    },
  );
});
