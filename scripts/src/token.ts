/**
 * `npm run token -- --sub alice --role customer [--role admin] [--ttl 1h]`
 * Prints a dev JWT and nothing else on stdout, so `TOKEN=$(npm run -s token -- ...)` works.
 */
import { parseArgs } from 'node:util';
import { createDevToken, ROLES } from './tokens.ts';

const USAGE = `usage: npm run token -- --sub ID --role ROLE [--role ROLE] [--ttl 1h]   (roles: ${ROLES.join(', ')})`;

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      role: { type: 'string', multiple: true },
      ttl: { type: 'string', default: '1h' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  console.log(await createDevToken({ sub: values.sub ?? '', roles: values.role ?? [], ttl: values.ttl }));
};

main().catch((error: Error) => {
  console.error(`token: ${error.message}\n${USAGE}`);
  process.exitCode = 2;
});
