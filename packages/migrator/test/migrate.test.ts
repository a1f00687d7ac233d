import { createHash } from 'node:crypto';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@magasin/test-kit';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  MIGRATION_LOCK_KEY,
  MigrationError,
  MigrationErrorCode,
  migrate,
  readMigrationRecords,
} from '../src/index.ts';
import { CATALOG_MIGRATION_NAMES, CATALOG_MIGRATIONS, copyCatalogMigrations } from './migrations-fixture.ts';

const databases: TestDatabase[] = [];
const freshDatabase = async (label: string) => {
  const database = await createTestDatabase(label);
  databases.push(database);
  return database;
};
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});
afterAll(async () => {
  await Promise.all(databases.map((database) => database.drop()));
});

const withClient = async <T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
};

const records = (url: string) => withClient(url, readMigrationRecords);

const refusal = async (promise: Promise<unknown>): Promise<MigrationError> => {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(MigrationError);
  return error as MigrationError;
};

describe('migrate', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await freshDatabase('applies');
  });

  it('applies every migration once and records it as prisma migrate deploy does', async () => {
    const first = await migrate({ databaseUrl: database.url, migrationsDirectory: CATALOG_MIGRATIONS });
    expect(first).toEqual({ applied: CATALOG_MIGRATION_NAMES, alreadyApplied: [] });

    const rows = await records(database.url);
    expect(rows.map((row) => row.migrationName)).toEqual(CATALOG_MIGRATION_NAMES);
    for (const row of rows) {
      const script = await readFile(join(CATALOG_MIGRATIONS, row.migrationName, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(script).digest('hex'));
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.finishedAt).toBeInstanceOf(Date);
      expect(row.finishedAt?.getTime()).toBeGreaterThanOrEqual(row.startedAt.getTime());
      expect(row).toMatchObject({ logs: null, rolledBackAt: null, appliedStepsCount: 1 });
    }

    const second = await migrate({ databaseUrl: database.url, migrationsDirectory: CATALOG_MIGRATIONS });
    expect(second).toEqual({ applied: [], alreadyApplied: CATALOG_MIGRATION_NAMES });
    expect(await records(database.url)).toEqual(rows);
  });

  it("creates _prisma_migrations with Prisma's exact table definition", async () => {
    const columns = await withClient(database.url, async (client) => {
      const { rows } = await client.query(
        `SELECT column_name, data_type, character_maximum_length AS length, is_nullable, column_default
           FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
      );
      return rows;
    });
    expect(columns).toEqual([
      {
        column_name: 'id',
        data_type: 'character varying',
        length: 36,
        is_nullable: 'NO',
        column_default: null,
      },
      {
        column_name: 'checksum',
        data_type: 'character varying',
        length: 64,
        is_nullable: 'NO',
        column_default: null,
      },
      {
        column_name: 'finished_at',
        data_type: 'timestamp with time zone',
        length: null,
        is_nullable: 'YES',
        column_default: null,
      },
      {
        column_name: 'migration_name',
        data_type: 'character varying',
        length: 255,
        is_nullable: 'NO',
        column_default: null,
      },
      { column_name: 'logs', data_type: 'text', length: null, is_nullable: 'YES', column_default: null },
      {
        column_name: 'rolled_back_at',
        data_type: 'timestamp with time zone',
        length: null,
        is_nullable: 'YES',
        column_default: null,
      },
      {
        column_name: 'started_at',
        data_type: 'timestamp with time zone',
        length: null,
        is_nullable: 'NO',
        column_default: 'now()',
      },
      {
        column_name: 'applied_steps_count',
        data_type: 'integer',
        length: null,
        is_nullable: 'NO',
        column_default: '0',
      },
    ]);
    const primaryKey = await withClient(database.url, (client) =>
      client.query(
        `SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint
          WHERE conrelid = '_prisma_migrations'::regclass AND contype = 'p'`,
      ),
    );
    expect(primaryKey.rows).toEqual([{ conname: '_prisma_migrations_pkey', definition: 'PRIMARY KEY (id)' }]);
  });

  it('applies only the migrations added since the last run', async () => {
    const copy = await copyCatalogMigrations();
    cleanups.push(copy.remove);
    const target = await freshDatabase('adds');
    await migrate({ databaseUrl: target.url, migrationsDirectory: CATALOG_MIGRATIONS });
    await copy.write('20250103000000_add_note', 'ALTER TABLE "products" ADD COLUMN "note" TEXT;\n');

    const result = await migrate({ databaseUrl: target.url, migrationsDirectory: copy.directory });
    expect(result).toEqual({ applied: ['20250103000000_add_note'], alreadyApplied: CATALOG_MIGRATION_NAMES });
  });

  it('refuses an applied migration whose file changed, naming it, and applies nothing', async () => {
    const copy = await copyCatalogMigrations();
    cleanups.push(copy.remove);
    const target = await freshDatabase('changed');
    await migrate({ databaseUrl: target.url, migrationsDirectory: copy.directory });
    await appendFile(
      join(copy.directory, '20250101000000_init', 'migration.sql'),
      '-- edited after deploy\n',
    );
    await copy.write('20250103000000_add_note', 'ALTER TABLE "products" ADD COLUMN "note" TEXT;\n');

    const error = await refusal(migrate({ databaseUrl: target.url, migrationsDirectory: copy.directory }));
    expect(error.code).toBe(MigrationErrorCode.ChecksumMismatch);
    expect(error.migrations).toEqual(['20250101000000_init']);
    expect(error.message).toContain('20250101000000_init');
    expect((await records(target.url)).map((row) => row.migrationName)).toEqual(CATALOG_MIGRATION_NAMES);
  });

  it('records a failed migration as Prisma does and refuses to go on until it is resolved', async () => {
    const copy = await copyCatalogMigrations();
    cleanups.push(copy.remove);
    const target = await freshDatabase('failed');
    const broken = '20250103000000_broken';
    const brokenSql = 'CREATE TABLE "half_done" ("id" INTEGER);\nSELEC 1;\n';
    await copy.write(broken, brokenSql);
    await copy.write('20250104000000_after', 'CREATE TABLE "after_broken" ("id" INTEGER);\n');

    const failure = await refusal(migrate({ databaseUrl: target.url, migrationsDirectory: copy.directory }));
    expect(failure.code).toBe(MigrationErrorCode.ApplyFailed);
    expect(failure.migrations).toEqual([broken]);

    const afterFailure = await records(target.url);
    expect(afterFailure.map((row) => row.migrationName)).toEqual([...CATALOG_MIGRATION_NAMES, broken]);
    const failed = afterFailure.at(-1);
    expect(failed).toMatchObject({
      migrationName: broken,
      checksum: createHash('sha256').update(brokenSql).digest('hex'),
      finishedAt: null,
      rolledBackAt: null,
      appliedStepsCount: 0,
    });
    expect(failed?.logs).toContain('Database error code: 42601');
    expect(failed?.logs).toContain('syntax error at or near "SELEC"');
    const leftovers = await withClient(target.url, (client) =>
      client.query(`SELECT to_regclass('half_done') AS half, to_regclass('after_broken') AS after`),
    );
    expect(leftovers.rows).toEqual([{ half: null, after: null }]);

    const refused = await refusal(migrate({ databaseUrl: target.url, migrationsDirectory: copy.directory }));
    expect(refused.code).toBe(MigrationErrorCode.FailedMigrationFound);
    expect(refused.migrations).toEqual([broken]);
    expect(refused.message).toContain(broken);

    // Resolving as `prisma migrate resolve --rolled-back` does, then fixing the script.
    await withClient(target.url, (client) =>
      client.query('UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = $1', [
        broken,
      ]),
    );
    await copy.write(broken, 'CREATE TABLE "half_done" ("id" INTEGER);\n');
    const resumed = await migrate({ databaseUrl: target.url, migrationsDirectory: copy.directory });
    expect(resumed.applied).toEqual([broken, '20250104000000_after']);
    const history = (await records(target.url)).filter((row) => row.migrationName === broken);
    expect(history.map((row) => [row.rolledBackAt !== null, row.finishedAt !== null])).toEqual([
      [true, false],
      [false, true],
    ]);
  });

  it('refuses a database that has applied migrations missing from the directory', async () => {
    const copy = await copyCatalogMigrations();
    cleanups.push(copy.remove);
    const target = await freshDatabase('missing');
    await migrate({ databaseUrl: target.url, migrationsDirectory: CATALOG_MIGRATIONS });
    await rm(join(copy.directory, '20250102000000_stock_and_inbox'), { recursive: true });

    const error = await refusal(migrate({ databaseUrl: target.url, migrationsDirectory: copy.directory }));
    expect(error.code).toBe(MigrationErrorCode.MissingLocally);
    expect(error.migrations).toEqual(['20250102000000_stock_and_inbox']);
  });

  it('applies each migration exactly once when several migrators start together', async () => {
    const target = await freshDatabase('concurrent');
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        migrate({ databaseUrl: target.url, migrationsDirectory: CATALOG_MIGRATIONS }),
      ),
    );
    expect(results.flatMap((result) => result.applied).sort()).toEqual(CATALOG_MIGRATION_NAMES);
    expect((await records(target.url)).map((row) => row.migrationName)).toEqual(CATALOG_MIGRATION_NAMES);
  });

  it('gives up with MIGRATION_LOCK_TIMEOUT while another migrator holds the lock', async () => {
    const target = await freshDatabase('locked');
    await withClient(target.url, async (holder) => {
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      const error = await refusal(
        migrate({ databaseUrl: target.url, migrationsDirectory: CATALOG_MIGRATIONS, lockTimeoutMs: 200 }),
      );
      expect(error.code).toBe(MigrationErrorCode.LockTimeout);
    });
    expect(await records(target.url)).toEqual([]);
  });
});

describe('the migrations directory', () => {
  it('must exist', async () => {
    const error = await refusal(
      migrate({
        databaseUrl: 'postgresql://127.0.0.1:1/none',
        migrationsDirectory: '/nonexistent/migrations',
      }),
    );
    expect(error.code).toBe(MigrationErrorCode.DirectoryMissing);
  });

  it('refuses a lock file for another provider', async () => {
    const copy = await copyCatalogMigrations();
    cleanups.push(copy.remove);
    await writeFile(join(copy.directory, 'migration_lock.toml'), 'provider = "mysql"\n');
    const error = await refusal(
      migrate({ databaseUrl: 'postgresql://127.0.0.1:1/none', migrationsDirectory: copy.directory }),
    );
    expect(error.code).toBe(MigrationErrorCode.ProviderMismatch);
  });

  it('refuses a migration folder without migration.sql, naming it', async () => {
    const copy = await copyCatalogMigrations();
    cleanups.push(copy.remove);
    await rm(join(copy.directory, '20250101000000_init', 'migration.sql'));
    const error = await refusal(
      migrate({ databaseUrl: 'postgresql://127.0.0.1:1/none', migrationsDirectory: copy.directory }),
    );
    expect(error.code).toBe(MigrationErrorCode.ScriptMissing);
    expect(error.migrations).toEqual(['20250101000000_init']);
  });
});

describe('an unreachable database', () => {
  it('fails with DATABASE_UNREACHABLE saying where', async () => {
    const error = await refusal(
      migrate({
        databaseUrl: 'postgresql://postgres@127.0.0.1:1/nowhere',
        migrationsDirectory: CATALOG_MIGRATIONS,
      }),
    );
    expect(error.code).toBe(MigrationErrorCode.DatabaseUnreachable);
    expect(error.message).toContain('127.0.0.1:1/nowhere');
  });

  it('says when the database does not exist yet', async () => {
    const url = new URL(databases[0]?.url ?? 'postgresql://postgres@127.0.0.1:5432/x');
    url.pathname = '/mgt_never_created';
    const error = await refusal(
      migrate({ databaseUrl: url.toString(), migrationsDirectory: CATALOG_MIGRATIONS }),
    );
    expect(error.code).toBe(MigrationErrorCode.DatabaseUnreachable);
    expect(error.message).toContain('does not exist');
  });
});
