/**
 * `npm run infra -- up|status [--root DIR]`
 *
 * up:     make PostgreSQL and RabbitMQ answer (use them, else start local binaries, else docker
 *         compose, else say what to install), enable the RabbitMQ plugins, create the service
 *         databases. Idempotent. Exit 1 with one message when it cannot.
 * status: show what answers and which databases exist; change nothing. Exit 1 when incomplete.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bringInfrastructureUp, infrastructureStatus } from './infrastructure-setup.ts';
import { repositoryRoot } from './workspaces.ts';

const USAGE = 'usage: npm run infra -- up|status [--root DIR]';

const main = async (): Promise<number> => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { root: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const rootDir = values.root ? resolve(values.root) : repositoryRoot();
  switch (positionals[0]) {
    case 'up':
      await bringInfrastructureUp({ rootDir });
      return 0;
    case 'status':
      return (await infrastructureStatus({ rootDir })) ? 0 : 1;
    default:
      console.error(USAGE);
      return 2;
  }
};

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error & { code?: string }) => {
    console.error(`infra: ${error.message}${error.code ? ` [${error.code}]` : ''}`);
    process.exitCode = 1;
  },
);
