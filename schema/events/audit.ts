/**
 * The audit trail's contract: what the gateway tells the audit service about each mutation it
 * accepted or refused (command `audit.RecordMutation`), and the rule every producer and the
 * audit service apply so that card data never enters the trail (`maskCardData`).
 */
import { z } from 'zod';
import { id, isoDateTime } from './envelope.ts';

/** What the gateway did with a mutation: it ran without error, or it was refused (any error). */
export const MUTATION_OUTCOMES = ['ACCEPTED', 'REFUSED'] as const;
/** One of {@link MUTATION_OUTCOMES}. */
export type MutationOutcome = (typeof MUTATION_OUTCOMES)[number];

/** One root field of a mutation, with its argument values (variables applied, card data masked). */
export const auditedField = z.object({
  name: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()),
});

/**
 * Payload of `audit.RecordMutation`. Who is the command's `actor` (`identity.sub`, or
 * `anonymous`), the correlation id is the request's; `subjectIds` are the business ids the
 * mutation named or answered (order, product, payment ids: never a customer id), so that the
 * trail of an order finds the mutation that placed it.
 */
export const RecordMutation = z.object({
  operationName: z.string().nullable(),
  fields: z.array(auditedField).min(1),
  outcome: z.enum(MUTATION_OUTCOMES),
  /** `extensions.code` of each error, distinct, in order of appearance. */
  errorCodes: z.array(z.string()),
  subjectIds: z.array(id),
  /** Roles of the caller when the gateway received the request. */
  roles: z.array(z.string()),
  /** When the gateway received the request. */
  receivedAt: isoDateTime,
  durationMs: z.number().nonnegative(),
});

/** What replaces masked card data. */
export const MASKED = '[MASKED]';

/**
 * Name segments (camelCase, snake_case or kebab-case words) that mark a field as card data or a
 * credential: `paymentToken`, `card_number`, `cvv`, `authorization`...
 */
const SENSITIVE_SEGMENTS = new Set([
  'token',
  'card',
  'pan',
  'cvv',
  'cvc',
  'cvv2',
  'expiry',
  'secret',
  'password',
  'authorization',
  'iban',
]);

/** Values that look like card data or credentials, whatever field holds them. */
const TOKEN_LIKE = [
  /^tok_/i, // processor card tokens
  /^(?:\d[ -]?){12,18}\d$/, // a primary account number (13 to 19 digits)
  /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/, // a JWT
  /^bearer\s/i,
];

const segmentsOf = (key: string): string[] =>
  key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .map((segment) => segment.toLowerCase())
    .filter(Boolean);

/** Whether a field of this name holds card data or a credential. */
export const isSensitiveKey = (key: string): boolean =>
  segmentsOf(key).some((segment) => SENSITIVE_SEGMENTS.has(segment));

/** Whether a string looks like card data or a credential. */
export const isTokenLike = (value: string): boolean =>
  TOKEN_LIKE.some((pattern) => pattern.test(value.trim()));

/**
 * A deep copy of `value` with card data and credentials replaced by {@link MASKED}: every
 * field whose name says so (`isSensitiveKey`) and every string that looks like it
 * (`isTokenLike`). Null and absent values stay as they are (a missing token is not a secret).
 */
export const maskCardData = (value: unknown): unknown => {
  if (typeof value === 'string') return isTokenLike(value) ? MASKED : value;
  if (Array.isArray(value)) return value.map(maskCardData);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, field]) => [
        key,
        isSensitiveKey(key) && field !== null && field !== undefined ? MASKED : maskCardData(field),
      ]),
    );
  }
  return value;
};

/** Id fields that name a person: never a subject id (a person's data is kept apart in the trail). */
const PERSON_ID_KEYS = new Set(['customerId', 'userId', 'sub']);

/**
 * The business ids in `value`: string values of fields named `id` or `<something>Id` (an order,
 * a product, a payment...), never a person's id, down to `maxDepth` nested objects (default 2:
 * `placeOrder { order { id } }`), not inside lists (an order's lines name products, which are
 * not what placing the order is about). Distinct, in order of appearance.
 */
export const subjectIdsIn = (value: unknown, maxDepth = 2): string[] => {
  const found = new Set<string>();
  const visit = (node: unknown, depth: number): void => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return;
    for (const [key, field] of Object.entries(node)) {
      if (typeof field === 'string' && (key === 'id' || /Id$/.test(key)) && !PERSON_ID_KEYS.has(key)) {
        found.add(field);
      } else if (depth < maxDepth) visit(field, depth + 1);
    }
  };
  visit(value, 0);
  return [...found];
};
