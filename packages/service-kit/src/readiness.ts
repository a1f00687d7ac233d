/**
 * Readiness checks: `/readyz` answers 200 only when every check resolves.
 */
import pg from 'pg';

/** A dependency the service needs to do its work. `check` throws (with a reason) when it is not ready. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/** Default bound on one PostgreSQL probe (connect + `SELECT 1`). */
const POSTGRES_TIMEOUT_MS = 2_000;

/** The message of an error, with the inner errors of an AggregateError (pg reports several addresses so). */
export const describeError = (error: unknown): string => {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(describeError).join('; ');
  }
  if (error instanceof Error) {
    return error.message || (error as NodeJS.ErrnoException).code || error.name;
  }
  return String(error);
};

/**
 * Checks PostgreSQL with `SELECT 1` over a one-connection pool, each probe bounded by
 * `timeoutMs` (default 2000). Fails with the driver's reason (refused, database does not
 * exist, terminated, timeout). `close()` ends the pool; call it from `onShutdown`.
 */
export function postgresReadiness(
  connectionString: string,
  options: { name?: string; timeoutMs?: number } = {},
): ReadinessCheck & { close(): Promise<void> } {
  const timeoutMs = options.timeoutMs ?? POSTGRES_TIMEOUT_MS;
  const pool = new pg.Pool({
    connectionString,
    max: 1,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    idleTimeoutMillis: 10_000,
    allowExitOnIdle: true,
  });
  // An idle connection the server terminated surfaces here; the next probe reports it as a
  // failure with its reason, so it is not an error of the process.
  pool.on('error', () => undefined);
  let closing: Promise<void> | undefined;
  return {
    name: options.name ?? 'postgres',
    async check() {
      if (closing) throw new Error('readiness check closed');
      try {
        await pool.query('SELECT 1');
      } catch (error) {
        throw new Error(`PostgreSQL unreachable: ${describeError(error)}`, { cause: error });
      }
    },
    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}

/**
 * Checks RabbitMQ through the connection state the messaging layer reports: not ready while
 * `isConnected()` is false.
 */
export function rabbitmqReadiness(
  isConnected: () => boolean,
  options: { name?: string } = {},
): ReadinessCheck {
  return {
    name: options.name ?? 'rabbitmq',
    async check() {
      if (!isConnected()) throw new Error('RabbitMQ connection is down');
    },
  };
}
