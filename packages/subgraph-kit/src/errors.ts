/**
 * Business rule violations as values with a code, thrown by deciders and resolvers and mapped
 * to GraphQL errors (`extensions.code`) in one place: the subgraph server's `formatError`.
 */
import type { Identity } from '@magasin/service-kit';

/** The codes a client can act on, as GraphQL `extensions.code`. */
export const DOMAIN_ERROR_CODES = [
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'FORBIDDEN',
  'CONFLICT',
  'UNAUTHENTICATED',
] as const;
/** One of {@link DOMAIN_ERROR_CODES}. */
export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

/** A broken business rule: nothing was appended; the message tells the user what to change. */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    /** Extra fields for `extensions` (ids, quantities); never secrets. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /**
   * Whether handling the same message again could succeed (read by the bus consumer, which
   * parks a message at once when it is false). NOT_FOUND and CONFLICT may clear once an
   * earlier message is handled (events of other streams arrive in any order); bad input and
   * refused access never do.
   */
  get retryable(): boolean {
    return this.code === 'NOT_FOUND' || this.code === 'CONFLICT';
  }
}

/** A role of the design. */
export type Role = Identity['roles'][number];

/** The caller's identity; UNAUTHENTICATED when the gateway signed no end user. */
export const requireIdentity = (identity: Identity | undefined): Identity => {
  if (!identity) throw new DomainError('UNAUTHENTICATED', 'sign in: this operation needs a bearer token');
  return identity;
};

/** Whether the identity has the role. */
export const hasRole = (identity: Identity | undefined, role: Role): boolean =>
  identity?.roles.includes(role) ?? false;

/** The identity if it has one of `roles`; UNAUTHENTICATED without one, FORBIDDEN with other roles. */
export const requireRole = (identity: Identity | undefined, ...roles: Role[]): Identity => {
  const known = requireIdentity(identity);
  if (!roles.some((role) => known.roles.includes(role))) {
    throw new DomainError(
      'FORBIDDEN',
      `${known.sub} may not do this: it needs the ${roles.join(' or ')} role`,
      { requiredRoles: roles },
    );
  }
  return known;
};
