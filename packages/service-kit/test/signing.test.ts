import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  INTERNAL_HEADERS,
  signedFetch,
  signInternalRequest,
  VERIFICATION_FAILURES,
  verifyInternalRequest,
} from '../src/index.ts';
import { startTestService, type TestService } from './service-fixture.ts';

const secret = 'test-internal-secret-0123456789';
const alice: Identity = { sub: 'alice', roles: ['customer'] };
const gateway = signedFetch({ secret, caller: 'gateway', identity: alice });

describe('internal requests over HTTP', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({
      internalSecret: secret,
      routes: (app) => {
        app.post('/echo', (req, res) => {
          res.json({
            body: req.body,
            caller: res.locals.caller,
            identity: res.locals.identity,
            raw: req.rawBody?.length,
          });
        });
        app.get('/whoami', (req, res) => {
          res.json({ caller: req.caller, identity: req.identity ?? null, query: req.query });
        });
      },
    });
  });
  afterAll(() => service.stop());

  const post = (headers: Record<string, string>, body: string) =>
    fetch(`${service.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  const refusal = async (response: Response) => ({
    status: response.status,
    body: (await response.json()) as { error: { code: string; message: string } },
  });

  it('accepts a signed request and gives routes the parsed body, caller and identity', async () => {
    const response = await gateway(`${service.url}/echo`, {
      method: 'POST',
      body: JSON.stringify({ sku: 'A-1' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      body: { sku: 'A-1' },
      caller: 'gateway',
      identity: alice,
      raw: 13,
    });
  });

  it('accepts a signed GET with a query string and no identity', async () => {
    const peer = signedFetch({ secret, caller: 'saga' });
    const response = await peer(`${service.url}/whoami?order=o-1&x=%20y`);
    expect(await response.json()).toEqual({
      caller: 'saga',
      identity: null,
      query: { order: 'o-1', x: ' y' },
    });
  });

  it('refuses a request without a signature with 401 UNAUTHENTICATED', async () => {
    expect(await refusal(await post({}, '{}'))).toEqual({
      status: 401,
      body: { error: { code: 'UNAUTHENTICATED', message: `missing ${INTERNAL_HEADERS.signature} header` } },
    });
    expect(service.logs.some((line) => line.code === 'missing_signature' && line.level === 'warn')).toBe(
      true,
    );
  });

  it('refuses a request signed with another secret', async () => {
    const forger = signedFetch({
      secret: 'not-the-internal-secret-at-all',
      caller: 'gateway',
      identity: alice,
    });
    const answer = await refusal(await forger(`${service.url}/echo`, { method: 'POST', body: '{}' }));
    expect(answer).toEqual({
      status: 401,
      body: { error: { code: 'UNAUTHENTICATED', message: 'signature does not match the request' } },
    });
  });

  it('refuses a body changed after signing', async () => {
    const headers = signInternalRequest({
      secret,
      caller: 'gateway',
      method: 'POST',
      path: '/echo',
      body: '{"amount":1}',
    });
    expect((await post(headers, '{"amount":1000}')).status).toBe(401);
    expect((await post(headers, '{"amount":1}')).status).toBe(200);
  });

  it('refuses an identity swapped after signing', async () => {
    const headers = signInternalRequest({
      secret,
      caller: 'gateway',
      method: 'POST',
      path: '/echo',
      identity: alice,
      body: '{}',
    });
    const admin = signInternalRequest({
      secret: 'whatever',
      caller: 'gateway',
      method: 'POST',
      path: '/echo',
      identity: { sub: 'alice', roles: ['admin'] },
    })[INTERNAL_HEADERS.identity] as string;
    const answer = await refusal(await post({ ...headers, [INTERNAL_HEADERS.identity]: admin }, '{}'));
    expect(answer.status).toBe(401);
    expect(answer.body.error.message).toBe('signature does not match the request');
    const stripped = { ...headers };
    delete stripped[INTERNAL_HEADERS.identity];
    expect((await post(stripped, '{}')).status).toBe(401);
  });

  it('refuses a caller name changed after signing', async () => {
    const headers = signInternalRequest({
      secret,
      caller: 'saga',
      method: 'POST',
      path: '/echo',
      body: '{}',
    });
    expect((await post({ ...headers, [INTERNAL_HEADERS.caller]: 'gateway' }, '{}')).status).toBe(401);
  });

  it('refuses a signature replayed on another path or query', async () => {
    const headers = signInternalRequest({ secret, caller: 'saga', method: 'GET', path: '/whoami?order=o-1' });
    expect((await fetch(`${service.url}/whoami?order=o-2`, { headers })).status).toBe(401);
    expect((await fetch(`${service.url}/whoami?order=o-1`, { headers })).status).toBe(200);
  });

  it('refuses a stale timestamp (replay outside the window)', async () => {
    const headers = signInternalRequest({
      secret,
      caller: 'gateway',
      method: 'POST',
      path: '/echo',
      body: '{}',
      now: Date.now() - 120_000,
    });
    const answer = await refusal(await post(headers, '{}'));
    expect(answer.status).toBe(401);
    expect(answer.body.error.message).toMatch(
      /^signature timestamp is \d+ ms away from now \(limit 60000 ms\)$/,
    );
  });

  it('leaves /healthz, /readyz and /metrics open', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      expect((await fetch(`${service.url}${path}`)).status).toBe(200);
    }
  });

  it('answers 400 to a signed body that is not JSON', async () => {
    const response = await gateway(`${service.url}/echo`, { method: 'POST', body: '{"open":' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
  });
});

describe('verifyInternalRequest', () => {
  const now = 1_700_000_000_000;
  const signed = (overrides: Partial<Parameters<typeof signInternalRequest>[0]> = {}) =>
    signInternalRequest({
      secret,
      caller: 'gateway',
      method: 'post',
      path: '/x',
      body: 'b',
      identity: alice,
      now,
      ...overrides,
    });
  const verify = (
    headers: Record<string, string>,
    overrides: Partial<Parameters<typeof verifyInternalRequest>[0]> = {},
  ) =>
    verifyInternalRequest({
      secret,
      method: 'POST',
      path: '/x',
      body: Buffer.from('b'),
      headers,
      now,
      ...overrides,
    });

  it('accepts a valid signature whatever the header case, body type or method case', () => {
    const headers = Object.fromEntries(Object.entries(signed()).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verify(headers)).toEqual({ ok: true, caller: 'gateway', identity: alice });
  });

  it('accepts a clock difference inside maxSkewMs and refuses one outside', () => {
    expect(verify(signed({ now: now + 59_000 })).ok).toBe(true);
    expect(verify(signed({ now: now - 61_000 }))).toMatchObject({
      ok: false,
      code: VERIFICATION_FAILURES.staleTimestamp,
    });
    expect(verify(signed({ now: now - 61_000 }), { maxSkewMs: 120_000 }).ok).toBe(true);
  });

  it('names each failure', () => {
    const valid = signed();
    expect(verify({})).toMatchObject({ ok: false, code: VERIFICATION_FAILURES.missingSignature });
    expect(verify({ ...valid, [INTERNAL_HEADERS.signature]: 'sha256=abc' })).toMatchObject({
      code: VERIFICATION_FAILURES.malformedSignature,
    });
    const noCaller = { ...valid };
    delete noCaller[INTERNAL_HEADERS.caller];
    expect(verify(noCaller)).toMatchObject({ code: VERIFICATION_FAILURES.missingCaller });
    expect(verify(valid, { body: 'c' })).toMatchObject({ code: VERIFICATION_FAILURES.badSignature });
    expect(verify(valid, { method: 'PUT' })).toMatchObject({ code: VERIFICATION_FAILURES.badSignature });
    const invalid = signed({ identity: { sub: '', roles: ['root'] } as unknown as Identity });
    expect(verify(invalid)).toMatchObject({ code: VERIFICATION_FAILURES.invalidIdentity });
  });
});
