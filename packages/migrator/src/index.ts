/**
 * The project's own Prisma migrator: applies a service's `prisma/migrations` and records
 * them in `_prisma_migrations` exactly as `prisma migrate deploy` does, creates service
 * databases, and checks that a generated Prisma client and a migrated database agree.
 */
export { databaseOf, ensureDatabase, withDatabase } from './database.ts';
export { MigrationError, MigrationErrorCode } from './errors.ts';
export {
  MIGRATION_LOCK_KEY,
  type MigrateOptions,
  type MigrateResult,
  type MigrationRecord,
  migrate,
  readMigrationRecords,
} from './migrate.ts';
export {
  type LocalMigration,
  legacyMigrationChecksum,
  migrationChecksum,
  readMigrationsDirectory,
} from './migrations-directory.ts';
export {
  checkSchemaAgreement,
  type Queryable,
  type SchemaProblem,
  SchemaProblemCode,
} from './schema-agreement.ts';
export {
  DEFAULT_DATABASE_URL,
  databaseUrlVariable,
  migrateService,
  type ServiceDatabase,
  type ServiceMigration,
  serviceDatabase,
} from './service.ts';
