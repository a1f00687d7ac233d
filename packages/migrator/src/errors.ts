/**
 * Every way migrating can be refused or fail. Each code names one situation an operator
 * can act on; the message says which migration and what to do.
 */
export const MigrationErrorCode = {
  /** The migrations directory does not exist (wrong service folder?). */
  DirectoryMissing: 'MIGRATIONS_DIRECTORY_MISSING',
  /** A migration folder has no `migration.sql`. */
  ScriptMissing: 'MIGRATION_SCRIPT_MISSING',
  /** `migration_lock.toml` names a provider other than `postgresql` (Prisma's P3019). */
  ProviderMismatch: 'MIGRATION_PROVIDER_MISMATCH',
  /** An applied migration's `migration.sql` changed since it was applied. */
  ChecksumMismatch: 'MIGRATION_CHECKSUM_MISMATCH',
  /** A migration failed earlier and was not resolved (Prisma's P3009). */
  FailedMigrationFound: 'FAILED_MIGRATION_FOUND',
  /** The database has applied migrations that the migrations directory does not have. */
  MissingLocally: 'MIGRATION_MISSING_LOCALLY',
  /** Applying a migration failed now; it is recorded as failed (Prisma's P3018). */
  ApplyFailed: 'MIGRATION_APPLY_FAILED',
  /** Another migrator held the advisory lock for longer than the lock timeout. */
  LockTimeout: 'MIGRATION_LOCK_TIMEOUT',
  /** PostgreSQL did not accept a connection (down, wrong URL, or the database does not exist). */
  DatabaseUnreachable: 'DATABASE_UNREACHABLE',
  /** A database name that is not a plain PostgreSQL identifier. */
  InvalidDatabaseName: 'INVALID_DATABASE_NAME',
  /** A service folder whose package.json cannot say which database it uses. */
  InvalidService: 'INVALID_SERVICE',
} as const;

/** One of {@link MigrationErrorCode}. */
export type MigrationErrorCode = (typeof MigrationErrorCode)[keyof typeof MigrationErrorCode];

/**
 * Raised when migrating is refused or fails. `code` says why, `migrations` names the
 * migrations concerned (empty when none is), `message` says what to do.
 */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';

  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    readonly migrations: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
