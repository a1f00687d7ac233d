#!/usr/bin/env node
/**
 * Generates the Prisma client of every workspace that has `prisma/schema.prisma`, offline.
 * Run by the root `postinstall` (so `npm ci` leaves every service ready to type-check and
 * run) and by tests that need a fixture's client:
 *
 *   node scripts/prisma-generate.mjs                 every workspace's prisma/schema.prisma
 *   node scripts/prisma-generate.mjs <schema.prisma>  only these schemas
 *
 * Prisma 7's CLI downloads its schema engine before any command, which this network
 * forbids; `generate` does not use the engine, so pointing PRISMA_SCHEMA_ENGINE_BINARY at any
 * existing file (this node binary) skips the download. Update checks and telemetry are off
 * so nothing reaches the network. Prints one line per schema; exits 1 with Prisma's output
 * when a generation fails, naming the schema.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Folders matched by the root package.json `workspaces` (`dir` and `dir/*` forms). */
const workspaceFolders = () => {
  const { workspaces = [] } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const patterns = Array.isArray(workspaces) ? workspaces : (workspaces.packages ?? []);
  return patterns.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [join(root, pattern)];
    const parent = join(root, pattern.slice(0, -2));
    if (!existsSync(parent)) return [];
    return readdirSync(parent, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(parent, entry.name));
  });
};

const schemasToGenerate = () => {
  const requested = process.argv.slice(2);
  if (requested.length > 0) {
    const schemas = requested.map((path) => resolve(path));
    const missing = schemas.filter((path) => !existsSync(path) || !statSync(path).isFile());
    if (missing.length > 0) {
      console.error(`prisma-generate: no such schema file: ${missing.join(', ')}`);
      process.exit(1);
    }
    return schemas;
  }
  return workspaceFolders()
    .map((folder) => join(folder, 'prisma', 'schema.prisma'))
    .filter((path) => existsSync(path));
};

const prismaCli = () => {
  try {
    const manifest = createRequire(join(root, 'package.json')).resolve('prisma/package.json');
    return join(dirname(manifest), JSON.parse(readFileSync(manifest, 'utf8')).bin.prisma);
  } catch (error) {
    console.error(
      `prisma-generate: the prisma CLI is not installed (${error.message}); it is a root devDependency: run npm ci without --omit=dev`,
    );
    process.exit(1);
  }
};

const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1',
};

/** A schema's path as printed: relative to the repository when inside it. */
const shown = (schema) => {
  const path = relative(root, schema);
  return path.startsWith('..') ? schema : path;
};

const generate = (cli, schema) =>
  new Promise((done) => {
    const started = Date.now();
    // cwd = the workspace folder, so a service's own prisma.config.ts (if it ever has one) applies.
    execFile(
      process.execPath,
      [cli, 'generate', '--schema', schema],
      { cwd: dirname(dirname(schema)), env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        done({ schema, error, output: `${stdout}${stderr}`, ms: Date.now() - started }),
    );
  });

const schemas = schemasToGenerate();
if (schemas.length === 0) {
  console.log('prisma-generate: no workspace has prisma/schema.prisma, nothing to generate');
  process.exit(0);
}

const cli = prismaCli();
const queue = [...schemas];
const failures = [];
const worker = async () => {
  for (let schema = queue.shift(); schema !== undefined; schema = queue.shift()) {
    const result = await generate(cli, schema);
    const name = shown(schema);
    if (result.error) {
      failures.push(result);
      console.error(`prisma-generate: ${name} FAILED (${result.ms} ms)`);
    } else {
      console.log(`prisma-generate: ${name} ok (${result.ms} ms)`);
    }
  }
};
await Promise.all(
  Array.from({ length: Math.min(schemas.length, Math.min(4, availableParallelism())) }, worker),
);

if (failures.length > 0) {
  for (const { schema, error, output } of failures) {
    console.error(`\n--- prisma generate --schema ${shown(schema)} failed: ${error.message.split('\n')[0]}`);
    console.error(output.trim());
  }
  console.error(
    `\nprisma-generate: ${failures.length} of ${schemas.length} schema(s) failed to generate; fix the schema errors above and run \`node scripts/prisma-generate.mjs\` again`,
  );
  process.exit(1);
}
