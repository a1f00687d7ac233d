/**
 * Vitest global setup: generates the Prisma clients of the fixture services (into each
 * fixture's gitignored src/generated) with the same offline script the root postinstall runs.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const FIXTURE_SCHEMAS = ['catalog', 'drifted'].map((name) =>
  fileURLToPath(new URL(`./fixtures/${name}/prisma/schema.prisma`, import.meta.url)),
);

export default async function generateFixtureClients(): Promise<void> {
  const script = fileURLToPath(new URL('../../../scripts/prisma-generate.mjs', import.meta.url));
  await promisify(execFile)(process.execPath, [script, ...FIXTURE_SCHEMAS], { timeout: 120_000 });
}
