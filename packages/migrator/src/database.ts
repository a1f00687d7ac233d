import pg from 'pg';
import { MigrationError, MigrationErrorCode } from './errors.ts';

const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** `url` pointing at `database` on the same server (whatever database `url` named is replaced). */
export const withDatabase = (url: string, database: string): string => {
  const target = new URL(url);
  target.pathname = `/${encodeURIComponent(database)}`;
  return target.toString();
};

/** The database a connection URL names, or `undefined` when it names none. */
export const databaseOf = (url: string): string | undefined => {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  return name === '' ? undefined : name;
};

/** Where a URL points, without its credentials, for messages. */
const location = (url: string): string => {
  const parsed = new URL(url);
  return `${parsed.host}${parsed.pathname}`;
};

/**
 * Opens a connection to `url`, failing with `DATABASE_UNREACHABLE` and a message saying
 * where and why when PostgreSQL does not accept it.
 */
export const connect = async (url: string): Promise<pg.Client> => {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined); // the connection never opened: nothing to close
    const code = (error as { code?: string }).code;
    const advice =
      code === '3D000'
        ? 'the database does not exist: create it first (ensureDatabase, or npm run infra)'
        : 'is PostgreSQL running (npm run infra) and is DATABASE_URL right?';
    throw new MigrationError(
      MigrationErrorCode.DatabaseUnreachable,
      `Cannot connect to PostgreSQL at ${location(url)} (${code ?? (error as Error).message}): ${advice}`,
      [],
      { cause: error },
    );
  }
};

const alreadyExists = (error: unknown): boolean => {
  const code = (error as { code?: string }).code;
  // duplicate_database, or the catalog's unique index when two creators race.
  return code === '42P04' || code === '23505';
};

/**
 * Creates database `name` on the server of `serverUrl` unless it exists (connecting to the
 * server's `postgres` database to do so). Idempotent and safe when several processes call it
 * at once: returns `true` only in the call that created it.
 *
 * `name` must be a lowercase PostgreSQL identifier (`magasin_event_store`), else fails with
 * `INVALID_DATABASE_NAME`; fails with `DATABASE_UNREACHABLE` when the server does not answer.
 * Other errors (permission to create databases) are passed on as pg raised them.
 */
export const ensureDatabase = async (serverUrl: string, name: string): Promise<boolean> => {
  if (!DATABASE_NAME.test(name)) {
    throw new MigrationError(
      MigrationErrorCode.InvalidDatabaseName,
      `Database name "${name}" is not a lowercase PostgreSQL identifier (letters, digits, underscores, at most 63)`,
    );
  }
  const client = await connect(withDatabase(serverUrl, 'postgres'));
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name}"`);
      return true;
    } catch (error) {
      if (alreadyExists(error)) return false;
      throw error;
    }
  } finally {
    await client.end();
  }
};
