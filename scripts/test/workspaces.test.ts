import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverServices, repositoryRoot } from '../src/workspaces.ts';

const fixtureRoot = fileURLToPath(new URL('./fixtures/two-services', import.meta.url));
const temporary: string[] = [];
afterEach(() => {
  for (const directory of temporary.splice(0)) rmSync(directory, { recursive: true, force: true });
});

const repoWith = (services: Record<string, unknown>) => {
  const root = mkdtempSync(join(tmpdir(), 'magasin-workspaces-'));
  temporary.push(root);
  writeFileSync(join(root, 'package.json'), JSON.stringify({ workspaces: ['services/*'] }));
  for (const [folder, service] of Object.entries(services)) {
    mkdirSync(join(root, 'services', folder), { recursive: true });
    writeFileSync(join(root, 'services', folder, 'package.json'), JSON.stringify({ magasin: { service } }));
  }
  return root;
};

describe('service discovery', () => {
  it('finds every workspace declaring magasin.service and ignores the others', () => {
    const services = discoverServices(fixtureRoot);
    expect(services.map(({ name, portEnv, port, main }) => ({ name, portEnv, port, main }))).toEqual([
      { name: 'alpha', portEnv: 'FIXTURE_ALPHA_PORT', port: 4901, main: 'src/main.ts' },
      { name: 'beta-service', portEnv: 'FIXTURE_BETA_PORT', port: 4902, main: 'src/main.ts' },
    ]);
    expect(services[0]?.directory).toBe(join(fixtureRoot, 'services', 'alpha'));
  });

  it('names the package.json and the field of a malformed declaration', () => {
    const root = repoWith({
      broken: { name: 'Broken Name', portEnv: 'BROKEN_PORT', port: 70_000, main: 'm.ts' },
    });
    expect(() => discoverServices(root)).toThrow(
      /services\/broken\/package\.json: invalid "magasin.service": name: .*port:/,
    );
  });

  it('refuses two services on the same port', () => {
    const root = repoWith({
      one: { name: 'one', portEnv: 'ONE_PORT', port: 4100, main: 'm.ts' },
      two: { name: 'two', portEnv: 'TWO_PORT', port: 4100, main: 'm.ts' },
    });
    expect(() => discoverServices(root)).toThrow(/same service name or port/);
  });

  it('reads the declarations of this repository', () => {
    for (const service of discoverServices(repositoryRoot())) {
      expect(service.database ?? 'magasin_').toMatch(/^magasin_/);
    }
  });
});
