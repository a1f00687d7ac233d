#!/usr/bin/env node
// `npm test`: lint and typecheck, the suites of every workspace in parallel, then the
// fault-injection suites (which stop and start the shared RabbitMQ) one file at a time.
import { spawnSync } from 'node:child_process';

const step = (title, command, args, env = {}) => {
  console.log(`\n=== ${title}`);
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) {
    console.error(`\n=== ${title} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
};

const turbo = 'node_modules/.bin/turbo';
step('lint', 'node_modules/.bin/biome', ['check', '.']);
step('typecheck', turbo, ['run', 'typecheck', '--output-logs=errors-only']);
step('test', turbo, ['run', 'test', '--output-logs=full', '--concurrency=3']);
step('fault tests', turbo, ['run', 'test', '--output-logs=full', '--concurrency=1'], {
  MAGASIN_TEST_PHASE: 'faults',
});
