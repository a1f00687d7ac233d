/** The gateway's configuration, read and validated once at start-up. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEV_INTERNAL_SECRET, env, loadConfig } from '@magasin/service-kit';
import { z } from 'zod';

/** `JWT_SECRET` outside production when unset (the secret of `npm run token`). */
export const DEV_JWT_SECRET = 'magasin-dev-jwt-secret';

/** The supergraph served when `SUPERGRAPH_PATH` is unset: schema/supergraph.graphql of the repository. */
export const DEFAULT_SUPERGRAPH_PATH = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'schema',
  'supergraph.graphql',
);

const production = (environment: NodeJS.ProcessEnv) => environment.NODE_ENV === 'production';

/** `true`/`false` (also 1/0, yes/no, on/off); `fallback` when unset or empty. */
const flag = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return fallback;
      const value = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(value)) return true;
      if (['false', '0', 'no', 'off'].includes(value)) return false;
      ctx.addIssue({ code: 'custom', message: `expected true or false, got ${JSON.stringify(raw)}` });
      return z.NEVER;
    });

/** An optional absolute URL (empty counts as unset). */
const optionalUrl = () =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return undefined;
      if (URL.canParse(raw)) return raw;
      ctx.addIssue({ code: 'custom', message: `expected a URL, got ${JSON.stringify(raw)}` });
      return z.NEVER;
    });

/** A string with a default (empty counts as unset). */
const text = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((raw) => (raw === undefined || raw === '' ? fallback : raw));

/** Default most mutation audit records waiting for RabbitMQ (AUDIT_BACKLOG). */
export const DEFAULT_AUDIT_BACKLOG = 10_000;

const schema = (environment: NodeJS.ProcessEnv) =>
  z
    .object({
      GATEWAY_PORT: env.port(4000),
      INTERNAL_SECRET: env.secret(DEV_INTERNAL_SECRET),
      LOG_LEVEL: env.logLevel(),
      /** HS256 secret of the tokens; unused when JWKS_URL is set. */
      JWT_SECRET: z.string().optional(),
      /** RS256 keys of the identity provider; when set, only RS256 tokens signed by these keys pass. */
      JWKS_URL: optionalUrl(),
      JWT_ISSUER: text('magasin-dev'),
      JWT_AUDIENCE: text('magasin'),
      /** Introspection (`__schema`, `__type`) allowed; default on outside production. */
      INTROSPECTION: flag(!production(environment)),
      /** The GraphiQL playground at GET /graphql; default on outside production. */
      PLAYGROUND: flag(!production(environment)),
      SUPERGRAPH_PATH: text(DEFAULT_SUPERGRAPH_PATH),
      /** Deepest selection nesting accepted (introspection fields aside). */
      MAX_QUERY_DEPTH: env.positiveInt(12),
      /** Most aliases in one operation. */
      MAX_ALIASES: env.positiveInt(30),
      /** Most lexical tokens in one document. */
      MAX_TOKENS: env.positiveInt(3_000),
      /** Most directive applications in one operation. */
      MAX_DIRECTIVES: env.positiveInt(50),
      /** Largest request body, in bytes. */
      MAX_BODY_BYTES: env.positiveInt(100_000),
      /** Longest an operation (query or mutation) may run before OPERATION_TIMEOUT. */
      OPERATION_TIMEOUT_MS: env.positiveInt(15_000),
      /** Most operations one WebSocket connection may run at once. */
      MAX_SUBSCRIPTIONS_PER_CONNECTION: env.positiveInt(100),
      /** Connections to each subgraph kept open and reused. */
      SUBGRAPH_CONNECTIONS: env.positiveInt(64),
      /** Identical queries of one user in flight to one subgraph share one request; default on. */
      SUBGRAPH_DEDUPLICATION: flag(true),
      /** RabbitMQ, where the audit records of mutations are sent. */
      RABBITMQ_URL: env.url('amqp://guest:guest@127.0.0.1:5672'),
      /** Send an audit record of every mutation to the audit service (`audit.RecordMutation`); default on. */
      AUDIT_MUTATIONS: flag(true),
      /** Most mutation audit records kept in memory while RabbitMQ cannot take them. */
      AUDIT_BACKLOG: env.positiveInt(DEFAULT_AUDIT_BACKLOG),
    })
    .superRefine((config, ctx) => {
      if (!production(environment) || config.JWKS_URL) return;
      const secret = config.JWT_SECRET;
      const problem =
        secret === undefined || secret === ''
          ? 'required when NODE_ENV=production without JWKS_URL, not set'
          : secret === DEV_JWT_SECRET
            ? 'must not be the development default when NODE_ENV=production'
            : secret.length < 16
              ? `must be at least 16 characters when NODE_ENV=production, got ${secret.length}`
              : undefined;
      if (problem) ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: problem });
    });

/** How tokens are verified: HS256 with a shared secret (dev), or RS256 against a JWKS (production). */
export type TokenKeys = { kind: 'hs256'; secret: string } | { kind: 'jwks'; url: string };

/** The validated configuration. */
export interface GatewayConfig {
  port: number;
  internalSecret: string;
  logLevel: string;
  tokens: { keys: TokenKeys; issuer: string; audience: string };
  introspection: boolean;
  playground: boolean;
  supergraphPath: string;
  limits: OperationLimits;
  maxBodyBytes: number;
  operationTimeoutMs: number;
  maxSubscriptionsPerConnection: number;
  subgraphConnections: number;
  /** Identical in-flight subgraph queries of one user share one request. */
  subgraphDeduplication: boolean;
  /** Where mutation audit records go; undefined when AUDIT_MUTATIONS is off. */
  audit: { rabbitmqUrl: string; backlog: number } | undefined;
  /** Run-time URL of a subgraph (see {@link subgraphUrl}). */
  subgraphUrl(name: string, composedUrl: string): string;
}

/** Bounds on one operation's shape; each refusal has its own code. */
export interface OperationLimits {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
}

/**
 * Where a subgraph answers at run time: `<NAME>_URL` (its base URL, e.g. STORE_URL=http://store:4001),
 * else `http://127.0.0.1:<NAME>_PORT` when its port variable is set (what `npm start` does with
 * custom ports), else the URL recorded in the supergraph. NAME is the subgraph name in capitals,
 * dashes as underscores (event-store -> EVENT_STORE).
 */
export const subgraphUrl = (name: string, composedUrl: string, environment: NodeJS.ProcessEnv): string => {
  const prefix = name.replace(/\W/g, '_').toUpperCase();
  const base = environment[`${prefix}_URL`];
  if (base) return new URL('/graphql', base).toString();
  const port = environment[`${prefix}_PORT`];
  if (port && /^\d+$/.test(port)) return `http://127.0.0.1:${port}/graphql`;
  return composedUrl;
};

/** Reads and validates the environment; throws ConfigError naming every bad variable. */
export const loadGatewayConfig = (environment: NodeJS.ProcessEnv = process.env): GatewayConfig => {
  const raw = loadConfig(schema(environment), environment);
  return {
    port: raw.GATEWAY_PORT,
    internalSecret: raw.INTERNAL_SECRET,
    logLevel: raw.LOG_LEVEL,
    tokens: {
      keys: raw.JWKS_URL
        ? { kind: 'jwks', url: raw.JWKS_URL }
        : { kind: 'hs256', secret: raw.JWT_SECRET || DEV_JWT_SECRET },
      issuer: raw.JWT_ISSUER,
      audience: raw.JWT_AUDIENCE,
    },
    introspection: raw.INTROSPECTION,
    playground: raw.PLAYGROUND,
    supergraphPath: raw.SUPERGRAPH_PATH,
    limits: {
      maxDepth: raw.MAX_QUERY_DEPTH,
      maxAliases: raw.MAX_ALIASES,
      maxTokens: raw.MAX_TOKENS,
      maxDirectives: raw.MAX_DIRECTIVES,
    },
    maxBodyBytes: raw.MAX_BODY_BYTES,
    operationTimeoutMs: raw.OPERATION_TIMEOUT_MS,
    maxSubscriptionsPerConnection: raw.MAX_SUBSCRIPTIONS_PER_CONNECTION,
    subgraphConnections: raw.SUBGRAPH_CONNECTIONS,
    subgraphDeduplication: raw.SUBGRAPH_DEDUPLICATION,
    audit: raw.AUDIT_MUTATIONS ? { rabbitmqUrl: raw.RABBITMQ_URL, backlog: raw.AUDIT_BACKLOG } : undefined,
    subgraphUrl: (name, composedUrl) => subgraphUrl(name, composedUrl, environment),
  };
};
