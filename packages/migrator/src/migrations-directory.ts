import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MigrationError, MigrationErrorCode } from './errors.ts';

/** A migration as Prisma lays it out: `<migrations>/<name>/migration.sql`. */
export interface LocalMigration {
  /** Folder name, `<timestamp>_<name>`; migrations apply in the order of these names. */
  readonly name: string;
  /** Content of `migration.sql`, exactly as on disk. */
  readonly script: string;
  /** Prisma's checksum of the script: SHA-256 of its bytes, 64 lowercase hex digits. */
  readonly checksum: string;
}

/** Prisma's checksum of a migration script: the SHA-256 of its UTF-8 bytes as lowercase hex. */
export const migrationChecksum = (script: string | Uint8Array): string =>
  createHash('sha256').update(script).digest('hex');

/**
 * The checksum format of early Prisma versions, which did not zero-pad each byte
 * (prisma-engines#1887). Prisma still accepts it for rows written back then, and so do we.
 */
export const legacyMigrationChecksum = (script: string | Uint8Array): string =>
  [...createHash('sha256').update(script).digest()].map((byte) => byte.toString(16)).join('');

const LOCK_FILE = 'migration_lock.toml';
const SCRIPT_FILE = 'migration.sql';

const lockedProvider = (lockFile: string): string | undefined =>
  /^\s*provider\s*=\s*"([^"]*)"/m.exec(lockFile)?.[1];

/**
 * Reads a Prisma migrations directory: every sub-folder is a migration, sorted by name (the
 * timestamp prefix makes that the creation order, as `prisma migrate` does).
 *
 * Fails with `MIGRATIONS_DIRECTORY_MISSING` when `directory` does not exist,
 * `MIGRATION_SCRIPT_MISSING` when a folder has no `migration.sql`, and
 * `MIGRATION_PROVIDER_MISMATCH` when `migration_lock.toml` exists and names another provider.
 */
export const readMigrationsDirectory = async (directory: string): Promise<LocalMigration[]> => {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new MigrationError(
        MigrationErrorCode.DirectoryMissing,
        `No migrations directory at ${directory}: a service keeps its migrations in prisma/migrations/<timestamp>_<name>/migration.sql`,
        [],
        { cause: error },
      );
    }
    throw error;
  }

  if (entries.some((entry) => entry.isFile() && entry.name === LOCK_FILE)) {
    const provider = lockedProvider(await readFile(join(directory, LOCK_FILE), 'utf8'));
    if (provider !== undefined && provider !== 'postgresql') {
      throw new MigrationError(
        MigrationErrorCode.ProviderMismatch,
        `${join(directory, LOCK_FILE)} says provider = "${provider}", but these migrations are applied to PostgreSQL: set provider = "postgresql" or use the right migrations directory`,
      );
    }
  }

  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name): Promise<LocalMigration> => {
      let bytes: Buffer;
      try {
        bytes = await readFile(join(directory, name, SCRIPT_FILE));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        throw new MigrationError(
          MigrationErrorCode.ScriptMissing,
          `Migration ${name} has no ${SCRIPT_FILE} (${join(directory, name)}): add the script or remove the folder`,
          [name],
          { cause: error },
        );
      }
      return { name, script: bytes.toString('utf8'), checksum: migrationChecksum(bytes) };
    }),
  );
};
