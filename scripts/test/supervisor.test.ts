import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { restartDelay, type Supervisor, startSupervisor } from '../src/supervisor.ts';
import { discoverServices } from '../src/workspaces.ts';
import { freePort } from './free-port.ts';

const fixtureRoot = fileURLToPath(new URL('./fixtures/two-services', import.meta.url));

/** Collects what the supervisor writes, as lines. */
const capture = () => {
  const stream = new PassThrough();
  const lines: string[] = [];
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  return { stream, lines };
};

const portsEnv = async () => ({
  ...process.env,
  FIXTURE_ALPHA_PORT: String(await freePort()),
  FIXTURE_BETA_PORT: String(await freePort()),
});

const running: Supervisor[] = [];
const temporary: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((supervisor) => supervisor.stop()));
  for (const directory of temporary.splice(0)) rmSync(directory, { recursive: true, force: true });
});

const supervise = (env: NodeJS.ProcessEnv, extra: Partial<Parameters<typeof startSupervisor>[0]> = {}) => {
  const out = capture();
  const err = capture();
  const supervisor = startSupervisor({
    services: discoverServices(fixtureRoot),
    env,
    output: out.stream,
    errorOutput: err.stream,
    readinessIntervalMs: 50,
    ...extra,
  });
  running.push(supervisor);
  return { supervisor, out: out.lines, err: err.lines };
};

const waitForLine = (lines: string[], pattern: RegExp, timeout = 15_000) =>
  vi.waitFor(
    () => {
      const line = lines.find((candidate) => pattern.test(candidate));
      if (!line) throw new Error(`no line matching ${pattern} in:\n${lines.join('\n')}`);
      return line;
    },
    { timeout, interval: 50 },
  );

describe('supervisor', () => {
  it('starts every declared service on its port variable and waits until each /readyz answers', async () => {
    const env = { ...(await portsEnv()), FIXTURE_READY_DELAY_MS: '300' };
    const { supervisor, out } = supervise(env);

    expect(supervisor.services.map(({ name, url }) => [name, url])).toEqual([
      ['alpha', `http://127.0.0.1:${env.FIXTURE_ALPHA_PORT}`],
      ['beta-service', `http://127.0.0.1:${env.FIXTURE_BETA_PORT}`],
    ]);
    await supervisor.ready();
    for (const { url } of supervisor.services) expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(out.filter((line) => / ready at /.test(line))).toHaveLength(2);
  });

  it('prefixes every stdout and stderr line with the service name padded to one width', async () => {
    const { supervisor, out, err } = supervise(await portsEnv());
    await supervisor.ready();

    await waitForLine(out, /listening/);
    expect(out).toContainEqual(expect.stringMatching(/^alpha {8}\| alpha listening on \d+$/));
    expect(out).toContainEqual(expect.stringMatching(/^beta-service \| beta-service listening on \d+$/));
    expect(out).toContainEqual(
      expect.stringMatching(/^supervisor {3}\| alpha ready at http:\/\/127\.0\.0\.1:\d+/),
    );
    await waitForLine(err, /stderr/);
    expect(err).toContainEqual('alpha        | alpha says this on stderr');
  });

  it('restarts a crashed service with a doubling delay and says so with the exit code', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'magasin-supervisor-'));
    temporary.push(directory);
    const env = {
      ...(await portsEnv()),
      FIXTURE_CRASH_SERVICE: 'alpha',
      FIXTURE_CRASH_FILE: join(directory, 'crashes'),
      FIXTURE_CRASH_TIMES: '2',
    };
    const { supervisor, out } = supervise(env, { restart: { initialDelayMs: 100, maxDelayMs: 1_000 } });

    await supervisor.ready();
    const restarts = out.filter((line) => /alpha exited/.test(line));
    expect(restarts).toEqual([
      expect.stringMatching(
        /alpha exited with code 3 after [\d.]+ s; restarting in 100 ms \(crash 1 in a row\)/,
      ),
      expect.stringMatching(
        /alpha exited with code 3 after [\d.]+ s; restarting in 200 ms \(crash 2 in a row\)/,
      ),
    ]);
    expect(out.filter((line) => /^alpha +\| alpha crashing on purpose/.test(line))).toHaveLength(2);
    expect((await fetch(`${supervisor.services[0]?.url}/readyz`)).status).toBe(200);
  });

  it('caps the restart delay and starts again from the first delay after a stable run', () => {
    const policy = { initialDelayMs: 500, maxDelayMs: 4_000, stableAfterMs: 30_000 };
    expect([1, 2, 3, 4, 5, 9].map((crashes) => restartDelay(policy, crashes))).toEqual([
      500, 1_000, 2_000, 4_000, 4_000, 4_000,
    ]);
  });

  it('stops with SIGTERM, and kills a service that ignores it once the bound has passed', async () => {
    const env = { ...(await portsEnv()), FIXTURE_STUBBORN_SERVICE: 'beta-service' };
    const { supervisor, out } = supervise(env, { stopTimeoutMs: 700 });
    await supervisor.ready();
    await waitForLine(out, /beta-service listening/);

    const started = Date.now();
    await supervisor.stop();

    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
    expect(out).toContainEqual(expect.stringMatching(/^alpha +\| alpha received SIGTERM, draining/));
    expect(out).toContainEqual(expect.stringMatching(/alpha stopped \(code 0\)/));
    expect(out).toContainEqual(
      expect.stringMatching(/beta-service did not stop within 700 ms; killing it \(SIGKILL\)/),
    );
    expect(out).toContainEqual(expect.stringMatching(/beta-service stopped \(signal SIGKILL\)/));
    for (const { url } of supervisor.services) await expect(fetch(`${url}/readyz`)).rejects.toThrow();
  });
});
