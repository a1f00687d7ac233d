import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { databaseOf, ensureDatabase, withDatabase } from './database.ts';
import { MigrationError, MigrationErrorCode } from './errors.ts';
import { type MigrateResult, migrate } from './migrate.ts';

/** Default server base when `DATABASE_URL` is not set (the shared conventions). */
export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432';

/** Where a service's migrations go. */
export interface ServiceDatabase {
  /** `magasin.service.name` of the service's package.json. */
  readonly service: string;
  /** Database name, from the URL finally used. */
  readonly database: string;
  /** Connection URL of the service's database. */
  readonly url: string;
  /** `<service>/prisma/migrations`. */
  readonly migrationsDirectory: string;
}

interface ServiceManifest {
  magasin?: { service?: { name?: unknown; database?: unknown } };
}

/** `event-store` -> `EVENT_STORE_DATABASE_URL`. */
export const databaseUrlVariable = (service: string): string =>
  `${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_DATABASE_URL`;

/**
 * Finds a service's database from its package.json (`magasin.service.name` and
 * `magasin.service.database`) and the environment: `<SERVICE>_DATABASE_URL` when set, else
 * `DATABASE_URL` (default `postgresql://postgres@127.0.0.1:5432`) + `/<database>`, where
 * `<database>` defaults to `magasin_<service>` (dashes become underscores).
 *
 * Returns `undefined` for a service that declares no database and has no
 * `<SERVICE>_DATABASE_URL`. Fails with `INVALID_SERVICE` when package.json is missing or has
 * no `magasin.service.name`, or when the URL names no database.
 */
export const serviceDatabase = async (
  serviceDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServiceDatabase | undefined> => databaseTarget(await declaredService(serviceDir), env);

interface DeclaredService {
  readonly dir: string;
  readonly name: string;
  readonly database: string | undefined;
}

const declaredService = async (serviceDir: string): Promise<DeclaredService> => {
  const dir = resolve(serviceDir);
  const manifestPath = join(dir, 'package.json');
  let manifest: ServiceManifest;
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as ServiceManifest;
  } catch (error) {
    throw new MigrationError(
      MigrationErrorCode.InvalidService,
      `Cannot read ${manifestPath}: pass the folder of a service (one whose package.json has "magasin": {"service": ...})`,
      [],
      { cause: error },
    );
  }
  const declared = manifest.magasin?.service;
  if (typeof declared?.name !== 'string') {
    throw new MigrationError(
      MigrationErrorCode.InvalidService,
      `${manifestPath} has no "magasin.service.name": it does not declare a service`,
    );
  }
  return {
    dir,
    name: declared.name,
    database: typeof declared.database === 'string' ? declared.database : undefined,
  };
};

const databaseTarget = (declared: DeclaredService, env: NodeJS.ProcessEnv): ServiceDatabase | undefined => {
  const variable = databaseUrlVariable(declared.name);
  const explicitUrl = env[variable];
  if (!explicitUrl && declared.database === undefined) return undefined;
  const url =
    explicitUrl ||
    withDatabase(
      env.DATABASE_URL || DEFAULT_DATABASE_URL,
      declared.database ?? `magasin_${declared.name.replace(/-/g, '_')}`,
    );
  const database = databaseOf(url);
  if (database === undefined) {
    throw new MigrationError(
      MigrationErrorCode.InvalidService,
      `${variable} (${new URL(url).host}) names no database: add /<database> to it`,
    );
  }
  return {
    service: declared.name,
    database,
    url,
    migrationsDirectory: join(declared.dir, 'prisma', 'migrations'),
  };
};

/** What {@link migrateService} did for one service. */
export type ServiceMigration =
  | { readonly status: 'no-database'; readonly service: string }
  | ({ readonly status: 'migrated' } & ServiceDatabase & MigrateResult);

/**
 * Creates a service's database if missing and applies its pending migrations (see
 * {@link serviceDatabase} for how the database is found and {@link migrate} for the rules and
 * failures). A service without a database is left alone (`status: 'no-database'`).
 */
export const migrateService = async (
  serviceDir: string,
  options: { env?: NodeJS.ProcessEnv; lockTimeoutMs?: number; log?: (line: string) => void } = {},
): Promise<ServiceMigration> => {
  const declared = await declaredService(serviceDir);
  const target = databaseTarget(declared, options.env ?? process.env);
  if (target === undefined) return { status: 'no-database', service: declared.name };
  await ensureDatabase(target.url, target.database);
  const result = await migrate({
    databaseUrl: target.url,
    migrationsDirectory: target.migrationsDirectory,
    ...(options.lockTimeoutMs === undefined ? {} : { lockTimeoutMs: options.lockTimeoutMs }),
    ...(options.log ? { log: options.log } : {}),
  });
  return { status: 'migrated', ...target, ...result };
};
