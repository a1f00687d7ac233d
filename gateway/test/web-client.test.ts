import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../src/auth.ts';
import { DEV_JWT_SECRET } from '../src/config.ts';
import { mountWebClient } from '../src/web-client.ts';
import { logger } from './helpers.ts';

const dist = mkdtempSync(join(tmpdir(), 'magasin-web-dist-'));
mkdirSync(join(dist, 'assets'));
writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Magasin</title>');
writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  rmSync(dist, { recursive: true, force: true });
});

const keys = { kind: 'hs256', secret: DEV_JWT_SECRET } as const;

/** An express app with only the web client's routes, listening on a free port; its URL. */
const serve = async (env: NodeJS.ProcessEnv, options: { jwks?: boolean } = {}): Promise<string> => {
  const app = express();
  mountWebClient(app, {
    keys: options.jwks ? { kind: 'jwks', url: 'https://idp.example/jwks' } : keys,
    logger,
    env,
  });
  app.use((_req, res) => res.status(404).json({ error: 'no route' }));
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((done) => server.once('listening', done));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return `http://127.0.0.1:${address.port}`;
};

describe('the web client routes', () => {
  it('serve the built app at / with a same-origin policy, and hashed assets for a year', async () => {
    const url = await serve({ WEB_DIST_DIR: dist });
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Magasin</title>');
    expect(page.headers.get('content-security-policy')).toMatch(
      /default-src 'self'.*connect-src 'self' ws: wss:/,
    );
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const asset = await fetch(`${url}/assets/index-abc123.js`);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${url}/graphql`)).status).toBe(404);
  });

  it('serve no app when it has not been built', async () => {
    const url = await serve({ WEB_DIST_DIR: join(dist, 'missing') });
    expect((await fetch(`${url}/`)).status).toBe(404);
  });

  it('hand out dev tokens the gateway accepts, outside production', async () => {
    const url = await serve({ WEB_DIST_DIR: dist });
    const response = await fetch(`${url}/dev/token?sub=alice&role=customer`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as {
      token: string;
      sub: string;
      roles: string[];
      expiresAt: string;
    };
    expect(body).toMatchObject({ sub: 'alice', roles: ['customer'] });
    expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now());
    const verifier = createTokenVerifier({ keys, issuer: 'magasin-dev', audience: 'magasin' });
    expect((await verifier.verify(`Bearer ${body.token}`))?.identity).toEqual({
      sub: 'alice',
      roles: ['customer'],
    });
  });

  it('refuse a dev token for an unknown role or without a subject', async () => {
    const url = await serve({ WEB_DIST_DIR: dist });
    const unknownRole = await fetch(`${url}/dev/token?sub=alice&role=root`);
    expect(unknownRole.status).toBe(400);
    expect(await unknownRole.json()).toMatchObject({
      error: { code: 'BAD_USER_INPUT', message: /unknown role root/ },
    });
    expect((await fetch(`${url}/dev/token?role=admin`)).status).toBe(400);
  });

  it('serve no dev token in production, nor with tokens from an identity provider', async () => {
    const production = await serve({ NODE_ENV: 'production', WEB_DIST_DIR: dist });
    expect((await fetch(`${production}/dev/token?sub=alice&role=admin`)).status).toBe(404);
    expect((await fetch(`${production}/`)).status).toBe(200);
    const jwks = await serve({ WEB_DIST_DIR: dist }, { jwks: true });
    expect((await fetch(`${jwks}/dev/token?sub=alice&role=admin`)).status).toBe(404);
  });
});
