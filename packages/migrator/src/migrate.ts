import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { connect } from './database.ts';
import { MigrationError, MigrationErrorCode } from './errors.ts';
import {
  type LocalMigration,
  legacyMigrationChecksum,
  readMigrationsDirectory,
} from './migrations-directory.ts';

/**
 * Prisma's own advisory lock key for migrate (prisma-engines, postgres flavour): using the
 * same one means this migrator and `prisma migrate deploy` also exclude each other.
 */
export const MIGRATION_LOCK_KEY = 72707369;

/** The history table, created with exactly Prisma's DDL so `prisma migrate status` reads it. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);`;

/** One row of `_prisma_migrations`. */
export interface MigrationRecord {
  readonly id: string;
  readonly checksum: string;
  readonly finishedAt: Date | null;
  readonly migrationName: string;
  readonly logs: string | null;
  readonly rolledBackAt: Date | null;
  readonly startedAt: Date;
  readonly appliedStepsCount: number;
}

export interface MigrateOptions {
  /** Connection URL of the service's database (it must exist: see `ensureDatabase`). */
  readonly databaseUrl: string;
  /** The service's `prisma/migrations` directory. */
  readonly migrationsDirectory: string;
  /**
   * How long to wait for another migrator (another replica starting, or
   * `prisma migrate deploy`) to finish before failing with `MIGRATION_LOCK_TIMEOUT`.
   * Default 60 000 ms.
   */
  readonly lockTimeoutMs?: number;
  /** Receives one human-readable line per migration applied. Default: silent. */
  readonly log?: (line: string) => void;
}

export interface MigrateResult {
  /** Migrations applied by this call, in order. */
  readonly applied: readonly string[];
  /** Migrations that were already applied before this call. */
  readonly alreadyApplied: readonly string[];
}

/** Reads `_prisma_migrations` ordered as Prisma lists it (by `started_at`); `[]` if it does not exist. */
export const readMigrationRecords = async (client: pg.ClientBase): Promise<MigrationRecord[]> => {
  const { rows } = await client
    .query<{
      id: string;
      checksum: string;
      finished_at: Date | null;
      migration_name: string;
      logs: string | null;
      rolled_back_at: Date | null;
      started_at: Date;
      applied_steps_count: number;
    }>(
      `SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count
       FROM _prisma_migrations ORDER BY started_at, migration_name`,
    )
    .catch((error: unknown) => {
      // undefined_table: nothing was ever migrated here.
      if ((error as { code?: string }).code === '42P01') return { rows: [] };
      throw error;
    });
  return rows.map((row) => ({
    id: row.id,
    checksum: row.checksum,
    finishedAt: row.finished_at,
    migrationName: row.migration_name,
    logs: row.logs,
    rolledBackAt: row.rolled_back_at,
    startedAt: row.started_at,
    appliedStepsCount: row.applied_steps_count,
  }));
};

const resolveHint = (name: string): string =>
  `fix ${name}/migration.sql, mark the failed attempt rolled back (what \`prisma migrate resolve --rolled-back ${name}\` does: ` +
  `UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '${name}' AND finished_at IS NULL), ` +
  'then migrate again';

/** Refuses a history that Prisma would refuse, or that no longer matches the files. */
const verifyHistory = (local: readonly LocalMigration[], records: readonly MigrationRecord[]): void => {
  const live = records.filter((record) => record.rolledBackAt === null);

  const failed = live.filter((record) => record.finishedAt === null);
  if (failed.length > 0) {
    const details = failed
      .map(
        (record) =>
          `The \`${record.migrationName}\` migration started at ${record.startedAt.toISOString()} failed` +
          (record.logs?.trim() ? ` with the following logs:\n${record.logs.trim()}` : ''),
      )
      .join('\n');
    throw new MigrationError(
      MigrationErrorCode.FailedMigrationFound,
      `Found failed migrations in the target database; new migrations will not be applied (Prisma's P3009). ` +
        'Undo whatever part of a failed migration reached the database (nothing, when this migrator ran it: ' +
        `it applies each migration in a transaction), then ${resolveHint(failed[0]?.migrationName ?? '')}.\n${details}`,
      failed.map((record) => record.migrationName),
    );
  }

  const byName = new Map(local.map((migration) => [migration.name, migration]));
  const changed = live.filter((record) => {
    const migration = byName.get(record.migrationName);
    return (
      migration !== undefined &&
      record.checksum !== migration.checksum &&
      record.checksum !== legacyMigrationChecksum(migration.script)
    );
  });
  if (changed.length > 0) {
    const names = changed.map((record) => record.migrationName);
    throw new MigrationError(
      MigrationErrorCode.ChecksumMismatch,
      `Applied migration${names.length > 1 ? 's' : ''} ${names.join(', ')} changed after being applied ` +
        '(the checksum of migration.sql differs from the one recorded): restore the applied file and put the change in a new migration',
      names,
    );
  }

  const missing = live.filter((record) => !byName.has(record.migrationName)).map((r) => r.migrationName);
  if (missing.length > 0) {
    throw new MigrationError(
      MigrationErrorCode.MissingLocally,
      `The database has applied migration${missing.length > 1 ? 's' : ''} ${missing.join(', ')} that the migrations directory does not have: ` +
        'this code is older than the database (deploy the newer version) or the folder was renamed or deleted (restore it)',
      missing,
    );
  }
};

/** The lines around a PostgreSQL error position, numbered, as Prisma puts them in `logs`. */
const errorPosition = (script: string, position: number): string => {
  const lines = script.split('\n');
  let offset = 0;
  for (const [index, line] of lines.entries()) {
    offset += line.length + 1;
    if (offset >= position) {
      const first = Math.max(0, index - 4);
      return lines
        .slice(first, index + 1)
        .map((text, i) => `${String(first + i + 1).padStart(3)} ${text}`)
        .join('\n');
    }
  }
  return '';
};

/** The `logs` text of a failed migration, in the shape of Prisma's P3018 message. */
const failureLogs = (name: string, script: string, error: unknown): string => {
  const dbError = error instanceof pg.DatabaseError ? error : undefined;
  const position = dbError?.position ? errorPosition(script, Number(dbError.position)) : '';
  return [
    'A migration failed to apply. New migrations cannot be applied before the error is recovered from.',
    `Migration name: ${name}`,
    ...(dbError?.code ? [`Database error code: ${dbError.code}`] : []),
    `Database error:\n${dbError ? `ERROR: ${dbError.message}` : String(error)}` +
      (dbError?.detail ? `\nDETAIL: ${dbError.detail}` : '') +
      (dbError?.hint ? `\nHINT: ${dbError.hint}` : ''),
    ...(position ? [`Position:\n${position}`] : []),
  ].join('\n\n');
};

const applyMigration = async (client: pg.Client, migration: LocalMigration): Promise<void> => {
  const id = randomUUID();
  const startedAt = new Date();
  // Script and record commit together: a crash leaves either both or neither.
  await client.query('BEGIN');
  try {
    await client.query(
      'INSERT INTO _prisma_migrations (id, checksum, started_at, migration_name) VALUES ($1, $2, $3, $4)',
      [id, migration.checksum, startedAt, migration.name],
    );
    await client.query(migration.script);
    await client.query(
      'UPDATE _prisma_migrations SET applied_steps_count = applied_steps_count + 1, finished_at = $2 WHERE id = $1',
      [id, new Date()],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      throw new AggregateError(
        [error, rollbackError],
        `Migration ${migration.name} failed and rolling it back failed too (connection lost?); PostgreSQL discards the open transaction`,
      );
    });
    const logs = failureLogs(migration.name, migration.script, error);
    // Recorded as Prisma records a failed migration: unfinished, with its logs, so the next
    // run refuses until someone resolves it.
    await client.query(
      'INSERT INTO _prisma_migrations (id, checksum, started_at, migration_name, logs) VALUES ($1, $2, $3, $4, $5)',
      [id, migration.checksum, startedAt, migration.name, logs],
    );
    throw new MigrationError(
      MigrationErrorCode.ApplyFailed,
      `Migration ${migration.name} failed and was rolled back (nothing of it was kept); it is recorded as failed, ` +
        `as Prisma does (P3018): ${resolveHint(migration.name)}.\n\n${logs}`,
      [migration.name],
      { cause: error },
    );
  }
};

const acquireLock = async (client: pg.Client, timeoutMs: number): Promise<void> => {
  await client.query(`SET lock_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  } catch (error) {
    if ((error as { code?: string }).code !== '55P03') throw error;
    throw new MigrationError(
      MigrationErrorCode.LockTimeout,
      `Another migrator held the migration lock of this database for more than ${timeoutMs} ms: ` +
        'wait for it to finish, or find the session holding pg_advisory_lock(72707369) in pg_locks',
      [],
      { cause: error },
    );
  } finally {
    await client.query('RESET lock_timeout');
  }
};

/**
 * Applies a service's pending Prisma migrations to its database and records each one in
 * `_prisma_migrations` exactly as `prisma migrate deploy` does (same table, checksum, and
 * rows), so Prisma's own commands agree with the result wherever they can run.
 *
 * Holds Prisma's migration advisory lock for the whole run, so replicas starting together
 * apply each migration once. Each pending migration runs in its own transaction together
 * with its record. Refuses, before applying anything, when a recorded migration failed and
 * was not resolved (`FAILED_MIGRATION_FOUND`), when an applied migration's file changed
 * (`MIGRATION_CHECKSUM_MISMATCH`), or when the database has applied migrations that are
 * not in the directory (`MIGRATION_MISSING_LOCALLY`). A migration that fails rolls back,
 * is recorded as failed, and raises `MIGRATION_APPLY_FAILED`; migrations after it are not
 * applied. Fails with `DATABASE_UNREACHABLE` when the database does not accept a
 * connection (see `ensureDatabase` to create it). A script that must run outside a
 * transaction (`CREATE INDEX CONCURRENTLY`) or that commits by itself is not supported.
 */
export const migrate = async (options: MigrateOptions): Promise<MigrateResult> => {
  const local = await readMigrationsDirectory(options.migrationsDirectory);
  const client = await connect(options.databaseUrl);
  try {
    await acquireLock(client, options.lockTimeoutMs ?? 60_000);
    await client.query(CREATE_MIGRATIONS_TABLE);
    const records = await readMigrationRecords(client);
    verifyHistory(local, records);

    const appliedNames = new Set(records.filter((r) => r.rolledBackAt === null).map((r) => r.migrationName));
    const pending = local.filter((migration) => !appliedNames.has(migration.name));
    const applied: string[] = [];
    for (const migration of pending) {
      await applyMigration(client, migration);
      applied.push(migration.name);
      options.log?.(`applied ${migration.name}`);
    }
    return {
      applied,
      alreadyApplied: local.filter((migration) => appliedNames.has(migration.name)).map((m) => m.name),
    };
  } finally {
    // Ending the session releases the advisory lock too.
    await client.end();
  }
};
