/**
 * Development JWTs, as the gateway verifies them in dev: HS256 with `JWT_SECRET`, claims
 * `sub` and `roles`, issuer `magasin-dev`, audience `magasin`. (Production uses RS256 via JWKS:
 * these tokens are for local use and tests only.)
 */
import { SignJWT } from 'jose';

/** Roles a caller can hold. */
export const ROLES = ['customer', 'admin', 'auditor'] as const;
/** One of ROLES. */
export type Role = (typeof ROLES)[number];

/** `JWT_SECRET` when unset outside production. */
export const DEV_JWT_SECRET = 'magasin-dev-jwt-secret';
/** `iss` of dev tokens. */
export const DEV_JWT_ISSUER = 'magasin-dev';
/** `aud` of dev tokens. */
export const DEV_JWT_AUDIENCE = 'magasin';

/** Raised for a bad subject, role, lifetime or a missing production secret. */
export class DevTokenError extends Error {
  readonly code = 'DEV_TOKEN_INVALID';
}

/** Options of createDevToken. */
export interface DevTokenOptions {
  /** Subject (`sub`), e.g. `alice`. Required, non-empty. */
  readonly sub: string;
  /** Roles (`roles`), at least one of ROLES. */
  readonly roles: readonly string[];
  /** Lifetime: a number and a unit s, m, h or d (`90s`, `15m`, `1h`, `7d`). Default `1h`. */
  readonly ttl?: string;
  /** HS256 secret. Default `JWT_SECRET` from `env`, else DEV_JWT_SECRET (refused when NODE_ENV=production). */
  readonly secret?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Issue time in ms since the epoch. Default now. */
  readonly now?: number;
}

const TTL = /^(\d+)\s*(s|m|h|d)$/;
const SECONDS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** Seconds in a lifetime such as `1h`; throws DevTokenError for anything else. */
export const ttlSeconds = (ttl: string): number => {
  const match = TTL.exec(ttl.trim());
  const seconds = match ? Number(match[1]) * (SECONDS[match[2] as string] ?? 0) : 0;
  if (seconds <= 0) throw new DevTokenError(`--ttl must look like 90s, 15m, 1h or 7d (got "${ttl}")`);
  return seconds;
};

/** The secret dev tokens are signed with for `env`. Throws DevTokenError in production without JWT_SECRET. */
export const devJwtSecret = (env: NodeJS.ProcessEnv = process.env): string => {
  if (env.JWT_SECRET) return env.JWT_SECRET;
  if (env.NODE_ENV === 'production') {
    throw new DevTokenError('JWT_SECRET is required when NODE_ENV=production (no dev default there)');
  }
  return DEV_JWT_SECRET;
};

/**
 * Signs a dev JWT (HS256) with claims `sub`, `roles`, `iss`, `aud`, `iat` and `exp`.
 * Throws DevTokenError for an empty subject, an unknown role or a malformed lifetime.
 */
export const createDevToken = async (options: DevTokenOptions): Promise<string> => {
  const sub = options.sub.trim();
  if (!sub) throw new DevTokenError('--sub is required (the caller id, e.g. alice)');
  if (options.roles.length === 0)
    throw new DevTokenError(`at least one --role is required (${ROLES.join(', ')})`);
  const unknown = options.roles.filter((role) => !(ROLES as readonly string[]).includes(role));
  if (unknown.length > 0) {
    throw new DevTokenError(`unknown role ${unknown.join(', ')}: roles are ${ROLES.join(', ')}`);
  }
  const issuedAt = Math.floor((options.now ?? Date.now()) / 1000);
  const secret = options.secret ?? devJwtSecret(options.env);
  return new SignJWT({ roles: [...new Set(options.roles)] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(DEV_JWT_ISSUER)
    .setAudience(DEV_JWT_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttlSeconds(options.ttl ?? '1h'))
    .sign(new TextEncoder().encode(secret));
};
