import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { decodeJwt, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { createDevToken, DEV_JWT_AUDIENCE, DEV_JWT_ISSUER, DEV_JWT_SECRET } from '../src/tokens.ts';

const run = promisify(execFile);
const scriptsDir = fileURLToPath(new URL('..', import.meta.url));
const key = (secret: string) => new TextEncoder().encode(secret);
const verify = (token: string, secret = DEV_JWT_SECRET) =>
  jwtVerify(token, key(secret), {
    issuer: DEV_JWT_ISSUER,
    audience: DEV_JWT_AUDIENCE,
    algorithms: ['HS256'],
  });

/** `npm run token -- <args>` as a real process. */
const tokenCli = async (args: string[], env: NodeJS.ProcessEnv = process.env) => {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), 'src/token.ts', ...args],
      { cwd: scriptsDir, env },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
};

describe('dev tokens', () => {
  it('verify with jose (HS256, dev secret) and carry sub, roles, issuer, audience and expiry', async () => {
    const now = Date.now();
    const token = await createDevToken({ sub: 'alice', roles: ['customer', 'admin'], ttl: '15m', env: {} });

    const { payload, protectedHeader } = await verify(token);

    expect(protectedHeader.alg).toBe('HS256');
    expect(payload).toMatchObject({
      sub: 'alice',
      roles: ['customer', 'admin'],
      iss: 'magasin-dev',
      aud: 'magasin',
    });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(15 * 60);
    expect(Math.abs((payload.iat ?? 0) * 1000 - now)).toBeLessThan(5_000);
  });

  it('are signed with JWT_SECRET when it is set, and fail verification with another secret', async () => {
    const token = await createDevToken({
      sub: 'bob',
      roles: ['auditor'],
      env: { JWT_SECRET: 'another-secret-of-ours' },
    });
    await expect(verify(token, 'another-secret-of-ours')).resolves.toBeDefined();
    await expect(verify(token)).rejects.toThrow(/signature/);
  });

  it('are refused for an unknown role, a bad lifetime or no subject, with a message that says why', async () => {
    await expect(createDevToken({ sub: 'alice', roles: ['root'] })).rejects.toThrow(/unknown role root/);
    await expect(createDevToken({ sub: 'alice', roles: ['admin'], ttl: 'soon' })).rejects.toThrow(/--ttl/);
    await expect(createDevToken({ sub: ' ', roles: ['admin'] })).rejects.toThrow(/--sub is required/);
    await expect(
      createDevToken({ sub: 'a', roles: ['admin'], env: { NODE_ENV: 'production' } }),
    ).rejects.toThrow(/JWT_SECRET is required/);
  });

  it('npm run token prints only the token, with every --role given', async () => {
    const { code, stdout } = await tokenCli([
      '--sub',
      'alice',
      '--role',
      'customer',
      '--role',
      'admin',
      '--ttl',
      '2h',
    ]);

    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const { payload } = await verify(stdout.trim());
    expect(payload).toMatchObject({ sub: 'alice', roles: ['customer', 'admin'] });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(7_200);
    expect(decodeJwt(stdout.trim()).sub).toBe('alice');
  });

  it('npm run token explains its usage and exits 2 on a bad role', async () => {
    const { code, stdout, stderr } = await tokenCli(['--sub', 'alice', '--role', 'wizard']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('unknown role wizard');
    expect(stderr).toContain('usage: npm run token --');
  });
});
