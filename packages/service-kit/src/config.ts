/**
 * Configuration from the environment, validated once at start-up.
 *
 * A service declares a zod object whose keys are variable names, built mostly from the `env`
 * field builders below, and calls `loadConfig` at the top of its `main`. Every bad or missing
 * variable is reported at once in one `ConfigError`, so an operator fixes them in one go.
 */
import { z } from 'zod';

/** One variable that failed validation, and why. */
export interface ConfigProblem {
  variable: string;
  problem: string;
}

/**
 * Thrown by `loadConfig` when one or more variables are missing or invalid. Its message names
 * every bad variable with its problem, one per line:
 * `Invalid configuration:\n  EVENT_STORE_PORT: expected an integer between 1 and 65535, got "abc"`.
 */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

// The environment being parsed by `loadConfig`, so that a field such as `env.secret` can
// depend on NODE_ENV of that same environment. Parsing is synchronous, so one slot is enough.
let parsing: NodeJS.ProcessEnv | undefined;
const production = (): boolean => (parsing ?? process.env).NODE_ENV === 'production';

/**
 * Parses `env` (default `process.env`) against `schema`, whose keys are variable names.
 * Returns the typed configuration; throws `ConfigError` naming EVERY bad variable.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const previous = parsing;
  parsing = env;
  try {
    const result = schema.safeParse(env);
    if (result.success) return result.data;
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? '(configuration)');
        const unset = issue.path.length === 1 && env[variable] === undefined;
        return {
          variable,
          problem: unset && issue.code === 'invalid_type' ? 'required, not set' : issue.message,
        };
      }),
    );
  } finally {
    parsing = previous;
  }
}

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** A variable read as an optional string (empty counts as unset) and turned into `T` by `parse`. */
const variable = <T>(parse: (raw: string | undefined) => Parsed<T>): z.ZodType<T> =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const parsed = parse(raw === '' ? undefined : raw);
      if (parsed.ok) return parsed.value;
      ctx.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    });

const integerBetween = (raw: string | undefined, fallback: number, min: number, max: number) => {
  if (raw === undefined) return { ok: true, value: fallback } as const;
  const value = Number(raw);
  if (/^\s*\d+\s*$/.test(raw) && value >= min && value <= max) return { ok: true, value } as const;
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `between ${min} and ${max}`;
  return { ok: false, problem: `expected an integer ${range}, got ${JSON.stringify(raw)}` } as const;
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The internal signing secret every service uses in development (refused in production). */
export const DEV_INTERNAL_SECRET = 'magasin-dev-internal-secret';

/** Minimum length of a secret in production. */
const SECRET_MIN_LENGTH = 16;

/** Field builders for `loadConfig` schemas. An empty variable counts as unset everywhere. */
export const env = {
  /** A TCP port: integer 1..65535 coerced from the string; `defaultPort` when unset. */
  port: (defaultPort: number): z.ZodType<number> =>
    variable((raw) => integerBetween(raw, defaultPort, 1, 65535)),

  /** An absolute URL; `defaultUrl` when unset, required when no default is given. */
  url: (defaultUrl?: string): z.ZodType<string> =>
    variable((raw) => {
      const value = raw ?? defaultUrl;
      if (value === undefined) return { ok: false, problem: 'required, not set (expected a URL)' };
      if (!URL.canParse(value)) return { ok: false, problem: `expected a URL, got ${JSON.stringify(value)}` };
      return { ok: true, value };
    }),

  /** An integer >= 1 coerced from the string; `defaultValue` when unset. */
  positiveInt: (defaultValue: number): z.ZodType<number> =>
    variable((raw) => integerBetween(raw, defaultValue, 1, Number.MAX_SAFE_INTEGER)),

  /**
   * A secret. Outside production, `devDefault` when unset. When NODE_ENV=production it is
   * required, must be at least 16 characters and must differ from the development default.
   * The value is never echoed in problems.
   */
  secret: (devDefault: string): z.ZodType<string> =>
    variable((raw) => {
      if (!production()) return { ok: true, value: raw ?? devDefault };
      if (raw === undefined) return { ok: false, problem: 'required when NODE_ENV=production, not set' };
      if (raw === devDefault) {
        return { ok: false, problem: 'must not be the development default when NODE_ENV=production' };
      }
      if (raw.length < SECRET_MIN_LENGTH) {
        return {
          ok: false,
          problem: `must be at least ${SECRET_MIN_LENGTH} characters when NODE_ENV=production, got ${raw.length}`,
        };
      }
      return { ok: true, value: raw };
    }),

  /** A pino level (fatal, error, warn, info, debug, trace, silent); default `info`. */
  logLevel: (): z.ZodType<string> =>
    variable((raw) => {
      const value = raw ?? 'info';
      if ((LOG_LEVELS as readonly string[]).includes(value)) return { ok: true, value };
      return { ok: false, problem: `expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(value)}` };
    }),
};

/** Base server URL used when `DATABASE_URL` is unset. */
export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432';

/**
 * The connection URL of a service database: `<SERVICE>_DATABASE_URL` if set (for
 * `magasin_event_store`, `EVENT_STORE_DATABASE_URL`), else the `DATABASE_URL` server base
 * (default `postgresql://postgres@127.0.0.1:5432`) with `/<database>` as its path (query kept).
 * Throws `ConfigError` when the variable used is not a URL.
 */
export function serviceDatabaseUrl(database: string, environment: NodeJS.ProcessEnv = process.env): string {
  const service = database.replace(/^magasin_/, '').toUpperCase();
  const own = `${service}_DATABASE_URL`;
  const specific = environment[own];
  if (specific) {
    if (!URL.canParse(specific)) {
      throw new ConfigError([{ variable: own, problem: `expected a URL, got ${JSON.stringify(specific)}` }]);
    }
    return specific;
  }
  const base = environment.DATABASE_URL || DEFAULT_DATABASE_URL;
  if (!URL.canParse(base)) {
    throw new ConfigError([
      { variable: 'DATABASE_URL', problem: `expected a URL, got ${JSON.stringify(base)}` },
    ]);
  }
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Runs a service's `main`. A `ConfigError` prints its one message to stderr and exits 1; any
 * other failure prints its stack and exits 1. Use as `runMain(async () => { ... })` in main.ts,
 * with `loadConfig` inside the function.
 */
export function runMain(main: () => Promise<unknown>): void {
  main().catch((error: unknown) => {
    process.stderr.write(
      `${error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
