/**
 * `npm run compose`: composes every subgraph into schema/supergraph.graphql.
 * `npm run compose -- --check`: exit 1 when the checked-in supergraph is stale or composition
 * fails, with the composition errors on stderr (what CI runs, through the gateway's tests).
 * `--hints` prints composition hints (inconsistent descriptions and the like).
 */
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCompose } from './compose.ts';

const rootDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== '--check' && arg !== '--hints');
if (unknown.length > 0) {
  process.stderr.write(
    `unknown argument ${unknown.join(' ')}; usage: npm run compose [-- --check] [--hints]\n`,
  );
  process.exit(2);
}

const outcome = runCompose(rootDir, { check: args.includes('--check') });
const from = `from ${outcome.subgraphs.length} subgraphs (${outcome.subgraphs.join(', ')})`;
switch (outcome.status) {
  case 'written':
  case 'unchanged':
    if (args.includes('--hints')) for (const hint of outcome.hints) process.stdout.write(`hint: ${hint}\n`);
    else if (outcome.hints.length > 0)
      process.stdout.write(`${outcome.hints.length} composition hints (--hints shows them)\n`);
    process.stdout.write(
      `${relative(rootDir, outcome.file)} ${outcome.status === 'written' ? 'written' : 'up to date'} ${from}\n`,
    );
    break;
  case 'stale':
    process.stderr.write(
      `${relative(rootDir, outcome.file)} is stale: it differs from the composition ${from}. ` +
        'Run `npm run compose` and commit the result.\n',
    );
    process.exit(1);
    break;
  case 'failed':
    process.stderr.write(`composition failed ${from}:\n${outcome.errors.map((e) => `  ${e}`).join('\n')}\n`);
    process.exit(1);
    break;
  default:
    outcome satisfies never;
}
