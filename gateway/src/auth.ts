/**
 * Who is calling: the JWT of `Authorization: Bearer <token>` (HTTP) or of the `Authorization`
 * connection parameter (WebSocket `connection_init`). HS256 with JWT_SECRET in development,
 * RS256 against the identity provider's JWKS in production; issuer and audience checked; claims
 * `sub` and `roles`. No token is an anonymous caller (subgraphs decide what anonymous may do);
 * a token that does not verify is refused with UNAUTHENTICATED, never treated as anonymous.
 */
import type { Identity } from '@magasin/service-kit';
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { TokenKeys } from './config.ts';
import { GATEWAY_ERROR_CODES, gatewayError } from './errors.ts';

const ROLES = new Set(['customer', 'admin', 'auditor']);

/** Verified tokens kept so that a client's next requests skip the signature check. */
const CACHE_SIZE = 10_000;

/** Thrown for a token that does not verify; `reason` is safe to show to the caller. */
export class AuthenticationError extends Error {
  readonly code = GATEWAY_ERROR_CODES.unauthenticated;
  constructor(readonly reason: string) {
    super(`UNAUTHENTICATED: ${reason}`);
    this.name = 'AuthenticationError';
  }
  /** The GraphQL error clients get (HTTP 401). */
  toGraphQLError() {
    return gatewayError(GATEWAY_ERROR_CODES.unauthenticated, this.reason, 401);
  }
}

/** A verified caller and until when its token holds (ms since the epoch). */
export interface Caller {
  identity: Identity;
  expiresAt: number;
}

/** Verifies tokens; see the module comment. */
export interface TokenVerifier {
  /**
   * The caller of an `Authorization` value: undefined when there is none (anonymous); throws
   * AuthenticationError when it is not `Bearer <token>` or the token does not verify.
   */
  verify(authorization: string | undefined): Promise<Caller | undefined>;
}

const describe = (error: unknown): string => {
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'the token has expired';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'the token signature is invalid';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'the token is not signed with an accepted algorithm';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const claim = (error as { claim?: unknown }).claim;
      return `the token's ${typeof claim === 'string' ? claim : 'claims'} claim is not accepted`;
    }
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'the token is signed with an unknown key';
    default:
      return 'the token is malformed or invalid';
  }
};

const identityOf = (payload: JWTPayload): Identity => {
  if (typeof payload.sub !== 'string' || payload.sub.trim() === '') {
    throw new AuthenticationError('the token has no subject (sub)');
  }
  const roles = payload.roles;
  if (roles !== undefined && !(Array.isArray(roles) && roles.every((role) => typeof role === 'string'))) {
    throw new AuthenticationError('the token roles claim must be an array of strings');
  }
  // Roles this system does not know grant nothing.
  const known = ((roles ?? []) as string[]).filter((role) => ROLES.has(role)) as Identity['roles'][number][];
  return { sub: payload.sub, roles: [...new Set(known)] };
};

/** A verifier for `keys`, accepting only tokens of `issuer` for `audience`. */
export const createTokenVerifier = (options: {
  keys: TokenKeys;
  issuer: string;
  audience: string;
  /** Clock of expiry checks (tests). */
  now?: () => number;
}): TokenVerifier => {
  const now = options.now ?? Date.now;
  const key: Uint8Array | JWTVerifyGetKey =
    options.keys.kind === 'hs256'
      ? new TextEncoder().encode(options.keys.secret)
      : createRemoteJWKSet(new URL(options.keys.url));
  const algorithms = options.keys.kind === 'hs256' ? ['HS256'] : ['RS256'];
  const verified = new Map<string, Caller>();

  const verifyToken = async (token: string): Promise<Caller> => {
    const cached = verified.get(token);
    if (cached && cached.expiresAt > now()) return cached;
    if (cached) verified.delete(token);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key as Uint8Array, {
        algorithms,
        issuer: options.issuer,
        audience: options.audience,
        currentDate: new Date(now()),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'ERR_JWKS_TIMEOUT' || code === 'ERR_JWKS_INVALID' || !(error as { code?: unknown }).code) {
        throw new AuthenticationError('the token could not be verified: identity provider keys unavailable');
      }
      throw new AuthenticationError(describe(error));
    }
    const caller = { identity: identityOf(payload), expiresAt: (payload.exp as number) * 1000 };
    if (verified.size >= CACHE_SIZE) verified.delete(verified.keys().next().value as string);
    verified.set(token, caller);
    return caller;
  };

  return {
    verify: async (authorization) => {
      if (authorization === undefined || authorization.trim() === '') return undefined;
      const match = /^Bearer\s+([A-Za-z0-9\-_.]+)\s*$/i.exec(authorization.trim());
      if (!match?.[1]) throw new AuthenticationError('the Authorization header must be "Bearer <token>"');
      return verifyToken(match[1]);
    },
  };
};
