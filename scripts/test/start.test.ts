import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { jwtVerify } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEV_JWT_AUDIENCE, DEV_JWT_ISSUER, DEV_JWT_SECRET } from '../src/tokens.ts';
import { freePort } from './free-port.ts';

const scriptsDir = fileURLToPath(new URL('..', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

interface Started {
  child: ChildProcess;
  lines: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** `npm start` as a real process (what the root script runs), with its stdout as lines. */
const startMagasin = (args: string[], env: NodeJS.ProcessEnv): Started => {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), 'src/start.ts', ...args], {
    cwd: scriptsDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: string[] = [];
  let partial = '';
  const collect = (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, lines, exit };
};

const waitForLine = (lines: string[], pattern: RegExp, timeout = 20_000) =>
  vi.waitFor(
    () => {
      const line = lines.find((candidate) => pattern.test(candidate));
      if (!line) throw new Error(`no line matching ${pattern} in:\n${lines.join('\n')}`);
      return line;
    },
    { timeout, interval: 50 },
  );

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start', () => {
  it('runs the services, prints their URLs and dev tokens, and on SIGINT stops them all and exits 0', async () => {
    const env = {
      ...process.env,
      FIXTURE_ALPHA_PORT: String(await freePort()),
      FIXTURE_BETA_PORT: String(await freePort()),
    };
    const { child, lines, exit } = startMagasin(['--root', fixture('two-services'), '--skip-infra'], env);

    await waitForLine(lines, /press Ctrl-C to stop/);
    expect(lines).toContainEqual(
      expect.stringMatching(/^supervisor +\| {3}alpha {9}http:\/\/127\.0\.0\.1:\d+ /),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^supervisor +\| {3}beta-service {2}http:\/\/127\.0\.0\.1:\d+ /),
    );
    expect(lines).toContainEqual(expect.stringMatching(/seed demo catalog: /));
    const adminLine = await waitForLine(lines, /admin \(ada\)/);
    const { payload } = await jwtVerify(
      adminLine.split(' ').at(-1) ?? '',
      new TextEncoder().encode(DEV_JWT_SECRET),
      {
        issuer: DEV_JWT_ISSUER,
        audience: DEV_JWT_AUDIENCE,
      },
    );
    expect(payload).toMatchObject({ sub: 'ada', roles: ['admin'] });
    const pids = lines.flatMap((line) => /starting \(pid (\d+)/.exec(line)?.[1] ?? []).map(Number);
    expect(pids).toHaveLength(2);

    child.kill('SIGINT');

    expect(await exit).toEqual({ code: 0, signal: null });
    expect(lines).toContainEqual(expect.stringMatching(/SIGINT received: stopping 2 service\(s\)/));
    expect(lines).toContainEqual(expect.stringMatching(/^alpha +\| alpha received SIGTERM, draining/));
    expect(lines).toContainEqual(expect.stringMatching(/alpha stopped \(code 0\)/));
    expect(lines).toContainEqual(expect.stringMatching(/beta-service stopped \(code 0\)/));
    expect(lines.at(-1)).toMatch(/stopped$/);
    expect(pids.filter(alive)).toEqual([]);
  });

  it('with no services says so, waits, and stops cleanly on SIGINT', async () => {
    const { child, lines, exit } = startMagasin(['--root', fixture('empty')], process.env);

    await waitForLine(lines, /waiting; press Ctrl-C to stop/);
    expect(lines).toContainEqual(expect.stringMatching(/infrastructure: postgres +answering/));
    expect(lines).toContainEqual(expect.stringMatching(/no services yet/));
    // Still running: it waits for Ctrl-C instead of exiting.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(child.exitCode).toBeNull();

    child.kill('SIGINT');

    expect(await exit).toEqual({ code: 0, signal: null });
    expect(lines.at(-1)).toMatch(/SIGINT received: stopped/);
  });
});
