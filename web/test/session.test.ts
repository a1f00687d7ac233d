import { describe, expect, it } from 'vitest';
import { hasRole, loadSession, SessionError, saveSession, sessionOf } from '../src/session.ts';

const jwt = (claims: Record<string, unknown>) =>
  `${['{"alg":"HS256"}', JSON.stringify(claims)].map((part) => Buffer.from(part).toString('base64url')).join('.')}.sig`;

const memoryStorage = (): Storage => {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (key) => items.get(key) ?? null,
    key: (index) => [...items.keys()][index] ?? null,
    removeItem: (key) => void items.delete(key),
    setItem: (key, value) => void items.set(key, value),
  };
};

const now = Date.parse('2026-11-25T10:00:00Z');
const exp = now / 1000 + 3600;

describe('a session', () => {
  it('reads who the token is for, with a Bearer prefix or without', () => {
    const token = jwt({ sub: 'alice', roles: ['customer'], exp });
    expect(sessionOf(`Bearer ${token}`, now)).toEqual({
      token,
      sub: 'alice',
      roles: ['customer'],
      expiresAt: exp * 1000,
    });
    expect(hasRole(sessionOf(token, now), 'admin')).toBe(false);
  });

  it('refuses what is not a usable token, saying why', () => {
    expect(() => sessionOf('nonsense', now)).toThrow(SessionError);
    expect(() => sessionOf(jwt({ roles: ['customer'], exp }), now)).toThrow(/no subject/);
    expect(() => sessionOf(jwt({ sub: 'x', roles: ['root'], exp }), now)).toThrow(/none of the roles/);
    expect(() => sessionOf(jwt({ sub: 'x', roles: ['admin'], exp: now / 1000 - 1 }), now)).toThrow(/expired/);
  });

  it('is kept in storage until signed out, and an expired one is dropped', () => {
    const storage = memoryStorage();
    const session = sessionOf(jwt({ sub: 'ada', roles: ['admin'], exp: Date.now() / 1000 + 60 }));
    saveSession(session, storage);
    expect(loadSession(storage)?.sub).toBe('ada');
    saveSession(undefined, storage);
    expect(loadSession(storage)).toBeUndefined();
    storage.setItem('magasin.session', jwt({ sub: 'old', roles: ['admin'], exp: 1 }));
    expect(loadSession(storage)).toBeUndefined();
    expect(storage.length).toBe(0);
  });
});
