import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The catalog fixture service's migrations, in Prisma's layout. */
export const CATALOG_MIGRATIONS = fileURLToPath(
  new URL('./fixtures/catalog/prisma/migrations', import.meta.url),
);

/** Names of the catalog fixture's migrations, in order. */
export const CATALOG_MIGRATION_NAMES = ['20250101000000_init', '20250102000000_stock_and_inbox'];

/** A writable copy of the catalog migrations that a test may edit; `remove()` deletes it. */
export const copyCatalogMigrations = async () => {
  const root = await mkdtemp(join(tmpdir(), 'magasin-migrations-'));
  const directory = join(root, 'migrations');
  await cp(CATALOG_MIGRATIONS, directory, { recursive: true });
  return {
    directory,
    /** Adds (or overwrites) migration `name` with `sql`. */
    write: async (name: string, sql: string) => {
      await mkdir(join(directory, name), { recursive: true });
      await writeFile(join(directory, name, 'migration.sql'), sql);
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
};
