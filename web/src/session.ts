/**
 * Who is signed in: a JWT and what it says (subject, roles, expiry), kept in localStorage.
 * Dev tokens come from the gateway's `GET /dev/token` (served outside production only); any
 * token the gateway accepts can be pasted instead.
 */

/** Roles the gateway knows. */
export type Role = 'customer' | 'admin' | 'auditor';

/** A signed-in user. */
export interface Session {
  readonly token: string;
  readonly sub: string;
  readonly roles: readonly Role[];
  /** ms since the epoch. */
  readonly expiresAt: number;
}

const STORAGE_KEY = 'magasin.session';
const ROLES: readonly Role[] = ['customer', 'admin', 'auditor'];

/** Demo users offered on the sign-in page (the users `npm start` prints tokens for). */
export const DEMO_USERS: readonly { sub: string; role: Role; label: string }[] = [
  { sub: 'alice', role: 'customer', label: 'Alice, customer' },
  { sub: 'bob', role: 'customer', label: 'Bob, customer' },
  { sub: 'ada', role: 'admin', label: 'Ada, admin' },
];

/** Raised when a token cannot be used; the message says why. */
export class SessionError extends Error {
  override readonly name = 'SessionError';
}

const decodeSegment = (segment: string): unknown => {
  const base64 = segment.replace(/-/g, '+').replace(/_/g, '/');
  const padded = base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), '=');
  const bytes = Uint8Array.from(atob(padded), (char) => char.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
};

/**
 * The session of a JWT, from its claims (not verified here: the gateway verifies every request).
 * Throws SessionError for something that is not a JWT with `sub`, `roles` and an `exp` to come.
 */
export const sessionOf = (token: string, now = Date.now()): Session => {
  const trimmed = token.trim().replace(/^Bearer\s+/i, '');
  const payloadSegment = trimmed.split('.')[1];
  if (!payloadSegment) throw new SessionError('this is not a JWT (expected three dot-separated parts)');
  let claims: { sub?: unknown; roles?: unknown; exp?: unknown };
  try {
    claims = decodeSegment(payloadSegment) as typeof claims;
  } catch {
    throw new SessionError('the token cannot be decoded');
  }
  if (typeof claims.sub !== 'string' || !claims.sub) throw new SessionError('the token has no subject (sub)');
  const roles = Array.isArray(claims.roles)
    ? claims.roles.filter((role): role is Role => ROLES.includes(role as Role))
    : [];
  if (roles.length === 0) throw new SessionError(`the token grants none of the roles ${ROLES.join(', ')}`);
  const expiresAt = typeof claims.exp === 'number' ? claims.exp * 1000 : Number.POSITIVE_INFINITY;
  if (expiresAt <= now) throw new SessionError('the token has expired');
  return { token: trimmed, sub: claims.sub, roles, expiresAt };
};

/** Asks the gateway for a dev token. Throws SessionError when the gateway serves none (production). */
export const fetchDevToken = async (sub: string, role: Role): Promise<Session> => {
  let response: Response;
  try {
    response = await fetch(`/dev/token?${new URLSearchParams({ sub, role })}`, {
      headers: { accept: 'application/json' },
    });
  } catch {
    throw new SessionError('cannot reach the gateway to sign in');
  }
  if (response.status === 404) {
    throw new SessionError(
      'this gateway serves no dev tokens (production): paste a token from your identity provider',
    );
  }
  const body = (await response.json().catch(() => ({}))) as { token?: string; error?: { message?: string } };
  if (!response.ok || !body.token)
    throw new SessionError(body.error?.message ?? `sign-in failed (HTTP ${response.status})`);
  return sessionOf(body.token);
};

/** The stored session, unless absent, unreadable or expired. */
export const loadSession = (storage: Storage = localStorage): Session | undefined => {
  const token = storage.getItem(STORAGE_KEY);
  if (!token) return undefined;
  try {
    return sessionOf(token);
  } catch {
    storage.removeItem(STORAGE_KEY);
    return undefined;
  }
};

/** Stores `session` (undefined: signs out). */
export const saveSession = (session: Session | undefined, storage: Storage = localStorage): void => {
  if (session) storage.setItem(STORAGE_KEY, session.token);
  else storage.removeItem(STORAGE_KEY);
};

/** Whether `session` holds `role`. */
export const hasRole = (session: Session | undefined, role: Role): boolean =>
  session?.roles.includes(role) ?? false;
