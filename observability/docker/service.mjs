#!/usr/bin/env node
// The container side of the repository's Dockerfile: one image, the service named by $SERVICE.
//   node observability/docker/service.mjs locate   prints "<workspace folder> <main>" of $SERVICE
//   node observability/docker/service.mjs health   exits 0 when $SERVICE answers /readyz
// Services are found as `npm start` finds them: the `magasin.service` declaration of a
// workspace package.json (plain Node here: the image runs it before anything else is loaded).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

const workspaces = () =>
  readJson(join(root, 'package.json')).workspaces.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [join(root, pattern)];
    const parent = join(root, pattern.slice(0, -2));
    return existsSync(parent) ? readdirSync(parent).map((entry) => join(parent, entry)) : [];
  });

const declared = () =>
  workspaces()
    .filter((folder) => existsSync(join(folder, 'package.json')))
    .map((folder) => ({ folder, service: readJson(join(folder, 'package.json')).magasin?.service }))
    .filter(({ service }) => service);

const name = process.env.SERVICE;
const found = declared().find(({ service }) => service.name === name);
if (!found) {
  const known = declared().map(({ service }) => service.name);
  process.stderr.write(`SERVICE=${name ?? ''} is not a Magasin service; one of: ${known.join(', ')}\n`);
  process.exit(2);
}

const command = process.argv[2];
if (command === 'locate') {
  process.stdout.write(`${found.folder} ${found.service.main}\n`);
} else if (command === 'health') {
  const port = process.env[found.service.portEnv] || found.service.port;
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(4000) });
    process.exit(response.ok ? 0 : 1);
  } catch {
    process.exit(1);
  }
} else {
  process.stderr.write('usage: node observability/docker/service.mjs locate|health\n');
  process.exit(2);
}
