import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '@magasin/service-kit';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, createTokenVerifier } from '../src/auth.ts';
import { DEV_JWT_SECRET, loadGatewayConfig, subgraphUrl } from '../src/config.ts';
import { token } from './helpers.ts';

describe('RS256 tokens against the JWKS of an identity provider (production)', () => {
  let jwks: Server;
  let jwksUrl: string;
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  let stranger: Awaited<ReturnType<typeof generateKeyPair>>;

  beforeAll(async () => {
    [keys, stranger] = await Promise.all([generateKeyPair('RS256'), generateKeyPair('RS256')]);
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => jwks.close(() => resolve())));

  const rs256 = (key: typeof keys.privateKey, kid: string, claims: { sub?: string; roles?: unknown } = {}) =>
    new SignJWT({ roles: claims.roles ?? ['admin'] })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setSubject(claims.sub ?? 'ada')
      .setIssuer('https://id.magasin.example')
      .setAudience('magasin')
      .setExpirationTime('5m')
      .sign(key);

  const verifier = () =>
    createTokenVerifier({
      keys: { kind: 'jwks', url: jwksUrl },
      issuer: 'https://id.magasin.example',
      audience: 'magasin',
    });

  const reason = (promise: Promise<unknown>) =>
    promise.then(
      () => 'verified',
      (error: unknown) => (error instanceof AuthenticationError ? error.reason : String(error)),
    );

  it('accepts a token signed by a key of the JWKS', async () => {
    const caller = await verifier().verify(`Bearer ${await rs256(keys.privateKey, 'key-1')}`);
    expect(caller?.identity).toEqual({ sub: 'ada', roles: ['admin'] });
  });

  it('refuses a token signed by a key that is not in the JWKS', async () => {
    expect(await reason(verifier().verify(`Bearer ${await rs256(stranger.privateKey, 'key-1')}`))).toBe(
      'the token signature is invalid',
    );
    expect(await reason(verifier().verify(`Bearer ${await rs256(stranger.privateKey, 'key-2')}`))).toBe(
      'the token is signed with an unknown key',
    );
  });

  it('refuses an HS256 token, even one signed with the development secret', async () => {
    expect(await reason(verifier().verify(`Bearer ${await token('ada', ['admin'])}`))).toBe(
      'the token is not signed with an accepted algorithm',
    );
  });

  it('refuses a token whose roles claim is not a list of names', async () => {
    expect(
      await reason(verifier().verify(`Bearer ${await rs256(keys.privateKey, 'key-1', { roles: 'admin' })}`)),
    ).toBe('the token roles claim must be an array of strings');
  });
});

describe('HS256 tokens (development)', () => {
  const verifier = createTokenVerifier({
    keys: { kind: 'hs256', secret: DEV_JWT_SECRET },
    issuer: 'magasin-dev',
    audience: 'magasin',
  });

  it('verifies the tokens of `npm run token`, and holds their expiry', async () => {
    const issuedAt = Date.now();
    const caller = await verifier.verify(
      `Bearer ${await token('alice', ['customer'], { now: issuedAt, ttl: '15m' })}`,
    );
    expect(caller).toEqual({
      identity: { sub: 'alice', roles: ['customer'] },
      expiresAt: Math.floor(issuedAt / 1000) * 1000 + 15 * 60_000,
    });
  });

  it('treats a missing or empty Authorization as anonymous', async () => {
    expect(await verifier.verify(undefined)).toBeUndefined();
    expect(await verifier.verify('')).toBeUndefined();
  });

  it('refuses a cached token once it has expired', async () => {
    let now = Date.now();
    const clocked = createTokenVerifier({
      keys: { kind: 'hs256', secret: DEV_JWT_SECRET },
      issuer: 'magasin-dev',
      audience: 'magasin',
      now: () => now,
    });
    const bearer = `Bearer ${await token('alice', ['customer'], { now, ttl: '60s' })}`;
    expect(await clocked.verify(bearer)).toBeDefined();
    now += 61_000;
    await expect(clocked.verify(bearer)).rejects.toThrow('UNAUTHENTICATED: the token has expired');
  });
});

describe('configuration', () => {
  it('has development defaults: HS256 with the dev secret, introspection and playground on', () => {
    const config = loadGatewayConfig({});
    expect(config).toMatchObject({
      port: 4000,
      tokens: { keys: { kind: 'hs256', secret: DEV_JWT_SECRET }, issuer: 'magasin-dev', audience: 'magasin' },
      introspection: true,
      playground: true,
      limits: { maxDepth: 12, maxAliases: 30, maxTokens: 3_000, maxDirectives: 50 },
    });
  });

  it('requires a real JWT_SECRET in production unless JWKS_URL is set, and turns introspection off', () => {
    const production = { NODE_ENV: 'production', INTERNAL_SECRET: 'a-production-internal-secret' };
    expect(() => loadGatewayConfig(production)).toThrow(ConfigError);
    expect(() => loadGatewayConfig({ ...production, JWT_SECRET: DEV_JWT_SECRET })).toThrow(
      /JWT_SECRET: must not be the development default/,
    );
    const withJwks = loadGatewayConfig({ ...production, JWKS_URL: 'https://id.magasin.example/jwks.json' });
    expect(withJwks.tokens.keys).toEqual({ kind: 'jwks', url: 'https://id.magasin.example/jwks.json' });
    expect(withJwks.introspection).toBe(false);
    expect(withJwks.playground).toBe(false);
  });

  it('names every bad variable at once', () => {
    expect(() =>
      loadGatewayConfig({ MAX_QUERY_DEPTH: 'deep', INTROSPECTION: 'maybe', JWKS_URL: 'nope' }),
    ).toThrow(/MAX_QUERY_DEPTH[\s\S]*INTROSPECTION|INTROSPECTION[\s\S]*MAX_QUERY_DEPTH/);
  });

  it('finds a subgraph at <NAME>_URL, else on <NAME>_PORT, else where the supergraph says', () => {
    const composed = 'http://127.0.0.1:4006/graphql';
    expect(subgraphUrl('event-store', composed, { EVENT_STORE_URL: 'http://events:9000' })).toBe(
      'http://events:9000/graphql',
    );
    expect(subgraphUrl('event-store', composed, { EVENT_STORE_PORT: '5006' })).toBe(
      'http://127.0.0.1:5006/graphql',
    );
    expect(subgraphUrl('event-store', composed, {})).toBe(composed);
  });
});
