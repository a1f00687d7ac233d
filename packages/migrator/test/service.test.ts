import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseDatabaseUrl, databaseUrl } from '@magasin/test-kit';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  databaseUrlVariable,
  ensureDatabase,
  MigrationError,
  MigrationErrorCode,
  migrateService,
  serviceDatabase,
} from '../src/index.ts';
import { CATALOG_MIGRATION_NAMES, CATALOG_MIGRATIONS } from './migrations-fixture.ts';

// Named like test-kit's databases, so a crashed run's leftovers are swept by the next one.
const created: string[] = [];
const databaseName = (label: string) => {
  const name = `mgt_${process.pid}_${label}_${randomBytes(3).toString('hex')}`;
  created.push(name);
  return name;
};
const temporary: string[] = [];

const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: databaseUrl(baseDatabaseUrl(), 'postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
};
const databaseExists = (name: string) =>
  admin(
    async (client) =>
      (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1,
  );

afterAll(async () => {
  await admin(async (client) => {
    for (const name of created) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
  await Promise.all(temporary.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A service folder like the real ones: package.json with `magasin.service`, prisma/migrations. */
const serviceFolder = async (service: { name: string; database?: string }) => {
  const dir = await mkdtemp(join(tmpdir(), 'magasin-service-'));
  temporary.push(dir);
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name: `@magasin/${service.name}`, magasin: { service: { ...service, port: 4999 } } }),
  );
  await mkdir(join(dir, 'prisma'));
  await cp(CATALOG_MIGRATIONS, join(dir, 'prisma', 'migrations'), { recursive: true });
  return dir;
};

describe('ensureDatabase', () => {
  it('creates a missing database once and leaves it alone afterwards', async () => {
    const name = databaseName('ensure');
    expect(await ensureDatabase(baseDatabaseUrl(), name)).toBe(true);
    expect(await ensureDatabase(baseDatabaseUrl(), name)).toBe(false);
    expect(await databaseExists(name)).toBe(true);
  });

  it('creates it exactly once when several processes ask at the same time', async () => {
    const name = databaseName('race');
    const created = await Promise.all(
      Array.from({ length: 6 }, () => ensureDatabase(baseDatabaseUrl(), name)),
    );
    expect(created.filter(Boolean)).toHaveLength(1);
  });

  it('refuses a name that is not a plain identifier', async () => {
    const error = await ensureDatabase(baseDatabaseUrl(), 'x"; DROP DATABASE postgres; --').catch((e) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.code).toBe(MigrationErrorCode.InvalidDatabaseName);
  });
});

describe('migrateService', () => {
  it("creates the service's database and applies its migrations, once", async () => {
    const database = databaseName('svc');
    const dir = await serviceFolder({ name: 'catalog', database });
    const env = { DATABASE_URL: baseDatabaseUrl() };

    const first = await migrateService(dir, { env });
    expect(first).toMatchObject({
      status: 'migrated',
      service: 'catalog',
      database,
      applied: CATALOG_MIGRATION_NAMES,
    });
    const second = await migrateService(dir, { env });
    expect(second).toMatchObject({
      status: 'migrated',
      applied: [],
      alreadyApplied: CATALOG_MIGRATION_NAMES,
    });
  });

  it('uses <SERVICE>_DATABASE_URL when it is set', async () => {
    const dir = await serviceFolder({ name: 'event-store', database: 'magasin_event_store' });
    const override = databaseName('override');
    const env = {
      DATABASE_URL: 'postgresql://nobody@127.0.0.1:1',
      EVENT_STORE_DATABASE_URL: databaseUrl(baseDatabaseUrl(), override),
    };
    expect(databaseUrlVariable('event-store')).toBe('EVENT_STORE_DATABASE_URL');
    expect(await migrateService(dir, { env })).toMatchObject({
      database: override,
      applied: CATALOG_MIGRATION_NAMES,
    });
  });

  it('derives the database from DATABASE_URL and the service name by default', async () => {
    const dir = await serviceFolder({ name: 'event-store' });
    // No `database` declared and no override: nothing to migrate.
    expect(await migrateService(dir, { env: {} })).toEqual({ status: 'no-database', service: 'event-store' });
    const declared = await serviceFolder({ name: 'event-store', database: 'magasin_event_store' });
    expect(await serviceDatabase(declared, { DATABASE_URL: 'postgresql://u@db.example:6543' })).toMatchObject(
      {
        database: 'magasin_event_store',
        url: 'postgresql://u@db.example:6543/magasin_event_store',
        migrationsDirectory: join(declared, 'prisma', 'migrations'),
      },
    );
  });

  it('refuses a folder that is not a service', async () => {
    const error = await migrateService(tmpdir()).catch((e) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.code).toBe(MigrationErrorCode.InvalidService);
  });
});

describe('the migrate command', () => {
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', cli, ...args],
        { env: { ...process.env, DATABASE_URL: baseDatabaseUrl() }, timeout: 60_000 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      );
    });

  it('migrates each service given, says what it did, and fails naming a changed migration', async () => {
    const database = databaseName('cli');
    const dir = await serviceFolder({ name: 'catalog', database });

    const first = await run([dir]);
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toContain(`catalog: ${database} up to date (2 applied now, 0 before)`);

    await appendFile(
      join(dir, 'prisma', 'migrations', '20250101000000_init', 'migration.sql'),
      '-- edited\n',
    );
    const refused = await run([dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('MIGRATION_CHECKSUM_MISMATCH');
    expect(refused.stderr).toContain('20250101000000_init');

    expect((await run([])).code).toBe(2);
  });
});
