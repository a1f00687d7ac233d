/**
 * One PostgreSQL database per service (`magasin.service.database`), created when missing.
 * Running it again changes nothing. Each service migrates its own database when it starts.
 */
import pg from 'pg';
import { DEFAULT_DATABASE_URL, maintenanceDatabaseUrl, maskPassword } from './infrastructure-probes.ts';
import type { ServiceDeclaration } from './workspaces.ts';

/** Where a service's database lives and what it is called. */
export interface ServiceDatabase {
  readonly service: string;
  readonly database: string;
  /** Full URL of the database (the service uses the same). */
  readonly url: string;
}

/** Raised when a database cannot be named or created; the message says which and why. */
export class ServiceDatabaseError extends Error {
  readonly code = 'SERVICE_DATABASE_FAILED';
}

/** `<SERVICE>_DATABASE_URL` for a service name: `event-store` -> `EVENT_STORE_DATABASE_URL`. */
export const databaseUrlVariable = (service: string): string =>
  `${service.toUpperCase().replace(/-/g, '_')}_DATABASE_URL`;

/**
 * The database each service uses: `<SERVICE>_DATABASE_URL` when set, else the `DATABASE_URL`
 * server (default the local trust user) with the declared database name.
 */
export const serviceDatabases = (
  services: readonly ServiceDeclaration[],
  env: NodeJS.ProcessEnv = process.env,
): ServiceDatabase[] =>
  services.flatMap(({ name, database }) => {
    if (database === undefined) return [];
    const own = env[databaseUrlVariable(name)];
    if (own) {
      const ownName = decodeURIComponent(new URL(own).pathname.slice(1));
      if (!/^[A-Za-z0-9_-]+$/.test(ownName)) {
        throw new ServiceDatabaseError(
          `${databaseUrlVariable(name)} must name a database made of letters, digits, _ and - (got "${ownName}")`,
        );
      }
      return [{ service: name, database: ownName, url: own }];
    }
    const url = new URL(env.DATABASE_URL || DEFAULT_DATABASE_URL);
    url.pathname = `/${database}`;
    return [{ service: name, database, url: url.toString() }];
  });

/** What ensureServiceDatabases found or did for one database. */
export interface DatabaseOutcome extends ServiceDatabase {
  readonly outcome: 'created' | 'already-there';
}

const serverOf = (url: string): string => {
  const parsed = new URL(url);
  parsed.pathname = '/';
  return parsed.toString();
};

/** Creates every missing database, server by server. Throws ServiceDatabaseError naming the database. */
export const ensureServiceDatabases = async (
  databases: readonly ServiceDatabase[],
): Promise<DatabaseOutcome[]> => {
  const outcomes: DatabaseOutcome[] = [];
  const servers = [...new Set(databases.map(({ url }) => serverOf(url)))];
  for (const server of servers) {
    const client = new pg.Client({ connectionString: maintenanceDatabaseUrl(server) });
    try {
      await client.connect();
    } catch (error) {
      throw new ServiceDatabaseError(
        `cannot connect to PostgreSQL at ${maskPassword(server)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    try {
      const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database');
      const existing = new Set(rows.map(({ datname }) => datname));
      for (const database of databases.filter(({ url }) => serverOf(url) === server)) {
        if (existing.has(database.database)) {
          outcomes.push({ ...database, outcome: 'already-there' });
          continue;
        }
        let outcome: DatabaseOutcome['outcome'] = 'created';
        try {
          await client.query(`CREATE DATABASE "${database.database}"`);
        } catch (error) {
          // Another process created it between our look and our create: it is there, which is the goal.
          if ((error as { code?: string }).code !== '42P04') {
            throw new ServiceDatabaseError(
              `cannot create database ${database.database} for ${database.service}: ${(error as Error).message}`,
              { cause: error },
            );
          }
          outcome = 'already-there';
        }
        existing.add(database.database);
        outcomes.push({ ...database, outcome });
      }
    } finally {
      await client.end();
    }
  }
  return outcomes;
};
