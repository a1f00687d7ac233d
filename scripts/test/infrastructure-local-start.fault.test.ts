/**
 * The "start the local binaries" branch for real: the RabbitMQ node is stopped entirely
 * (`rabbitmqctl stop`, port closed), then `npm run infra -- up` must start it with
 * `rabbitmq-server -detached`, wait for it and find its plugins on. Fault phase only: it takes
 * the shared broker away for several seconds.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_RABBITMQ_URL, reachRabbitmq } from '../src/infrastructure-probes.ts';
import { findExecutable, runCommand } from '../src/local-commands.ts';

const run = promisify(execFile);
const scriptsDir = fileURLToPath(new URL('..', import.meta.url));
const rabbitmqUrl = process.env.RABBITMQ_URL ?? DEFAULT_RABBITMQ_URL;
const installed =
  findExecutable('rabbitmq-server') !== undefined && findExecutable('rabbitmqctl') !== undefined;

afterAll(async () => {
  // Whatever happened above, leave the broker running for whoever comes next.
  if ((await reachRabbitmq(rabbitmqUrl)).state !== 'answering') {
    await runCommand('rabbitmq-server', ['-detached']);
    for (let attempt = 0; attempt < 120; attempt++) {
      if ((await runCommand('rabbitmqctl', ['-q', 'await_startup'])).exitCode === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}, 90_000);

describe.skipIf(!installed)('npm run infra -- up with RabbitMQ installed but stopped', () => {
  it('starts the local node, waits until it answers, and finds the plugins on', async () => {
    const stopped = await runCommand('rabbitmqctl', ['-q', 'stop'], { timeoutMs: 60_000 });
    expect(stopped.exitCode).toBe(0);
    expect(await reachRabbitmq(rabbitmqUrl)).toMatchObject({ state: 'closed' });

    const { stdout } = await run(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), 'src/infra.ts', 'up', '--root', 'test/fixtures/empty'],
      { cwd: scriptsDir, env: process.env, timeout: 90_000 },
    );

    expect(stdout).toMatch(/^postgres +answering at /m);
    expect(stdout).toMatch(/^rabbitmq +not answering at .*; starting the local server$/m);
    expect(stdout).toMatch(/^rabbitmq +started locally, answering at /m);
    expect(stdout).toMatch(/^plugins +rabbitmq_management, rabbitmq_prometheus already enabled/m);
    expect(await reachRabbitmq(rabbitmqUrl)).toEqual({ state: 'answering' });
  }, 120_000);
});
