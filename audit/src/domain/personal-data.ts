/**
 * Personal data in the trail: which values are a person's (an actor who is a person, a
 * customer id...), how a record holds pseudonyms instead (`subject:<key>`), and how a record is
 * shown again with the people it names, or `[erased]` for a person who was erased. The
 * pseudonyms are what the chain's hashes cover, so erasing a person (deleting the row behind
 * their pseudonym) changes no hashed byte.
 */
import { createHmac } from 'node:crypto';
import type { AuditDraft, Json } from './record.ts';

/** What a record shows in place of a person who was erased. */
export const ERASED = '[erased]';

/** Prefix of a pseudonym. */
export const PSEUDONYM_PREFIX = 'subject:';
const PSEUDONYM = /^subject:[0-9a-f]{32}$/;

/**
 * The keyed hash an erased person's identifier leaves behind (the suppression list): it says
 * that this identifier was erased, to whoever knows the secret and the identifier, and nothing
 * to anyone else.
 */
export const tombstoneOf = (value: string, secret: string): string =>
  createHmac('sha256', secret).update(value).digest('hex');

/** Whether a string is a pseudonym. */
export const isPseudonym = (value: string): boolean => PSEUDONYM.test(value);

/** Fields that hold personal data wherever they appear in a record's data. */
const PERSONAL_KEYS = new Set([
  'customerId',
  'customerName',
  'customerEmail',
  'email',
  'phone',
  'address',
  'fullName',
  'firstName',
  'lastName',
]);

/** Whether a field of this name holds personal data. */
export const isPersonalKey = (key: string): boolean => PERSONAL_KEYS.has(key);

/** Actors that are not people: services, and callers without an identity. */
const IMPERSONAL_ACTOR = /^(?:service:|anonymous$|system$)/;

/** Whether an actor is a person (an end user's `sub`), whose name is personal data. */
export const actorIsPerson = (actor: string): boolean => !IMPERSONAL_ACTOR.test(actor) && !isPseudonym(actor);

const collect = (value: Json, underPersonalKey: boolean, into: Set<string>): void => {
  if (typeof value === 'string') {
    if (underPersonalKey && !isPseudonym(value)) into.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collect(item, underPersonalKey, into);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, field] of Object.entries(value))
      collect(field, underPersonalKey || isPersonalKey(key), into);
  }
};

/** The personal values of a record (its actor if a person, values of personal fields), distinct. */
export const personalValues = (record: { actor: string; data: { [key: string]: Json } }): string[] => {
  const values = new Set<string>();
  if (actorIsPerson(record.actor)) values.add(record.actor);
  collect(record.data, false, values);
  return [...values];
};

const replaceUnder = (
  value: Json,
  underPersonalKey: boolean,
  pseudonymOf: (value: string) => string,
): Json => {
  if (typeof value === 'string') return underPersonalKey && !isPseudonym(value) ? pseudonymOf(value) : value;
  if (Array.isArray(value)) return value.map((item) => replaceUnder(item, underPersonalKey, pseudonymOf));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, field]) => [
        key,
        replaceUnder(field, underPersonalKey || isPersonalKey(key), pseudonymOf),
      ]),
    );
  }
  return value;
};

/**
 * The draft with every personal value replaced by its pseudonym from `pseudonyms` (value ->
 * key). Throws when a personal value has none: the caller resolves `personalValues(draft)` first.
 */
export const pseudonymise = (draft: AuditDraft, pseudonyms: ReadonlyMap<string, string>): AuditDraft => {
  const pseudonymOf = (value: string): string => {
    const key = pseudonyms.get(value);
    if (!key) throw new Error(`no pseudonym for a personal value of record ${draft.sourceId}`);
    return key;
  };
  return {
    ...draft,
    actor: actorIsPerson(draft.actor) ? pseudonymOf(draft.actor) : draft.actor,
    data: replaceUnder(draft.data, false, pseudonymOf) as { [key: string]: Json },
  };
};

const revealValue = (value: Json, personOf: (key: string) => string | undefined): Json => {
  if (typeof value === 'string') return isPseudonym(value) ? (personOf(value) ?? ERASED) : value;
  if (Array.isArray(value)) return value.map((item) => revealValue(item, personOf));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, field]) => [key, revealValue(field, personOf)]),
    );
  }
  return value;
};

/** Every pseudonym a stored record holds (actor and data). */
export const pseudonymsIn = (record: { actor: string; data: Json }): string[] => {
  const found = new Set<string>();
  const visit = (value: Json): void => {
    if (typeof value === 'string') {
      if (isPseudonym(value)) found.add(value);
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(record.actor);
  visit(record.data);
  return [...found];
};

/**
 * A stored record as people read it: each pseudonym replaced by the value behind it
 * (`personOf`), or by {@link ERASED} when the person was erased.
 */
export const reveal = <R extends { actor: string; data: Json }>(
  record: R,
  personOf: (key: string) => string | undefined,
): R & { actorErased: boolean } => {
  const actor = isPseudonym(record.actor) ? (personOf(record.actor) ?? ERASED) : record.actor;
  return { ...record, actor, actorErased: actor === ERASED, data: revealValue(record.data, personOf) };
};
