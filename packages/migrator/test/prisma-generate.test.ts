import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repository = fileURLToPath(new URL('../../../', import.meta.url));

const SCHEMA = `generator client {
  provider     = "prisma-client"
  output       = "../src/generated/prisma"
  moduleFormat = "esm"
}

datasource db {
  provider = "postgresql"
}

model Note {
  id   Int    @id
  text String
}
`;

/**
 * A throwaway repository with the real script and node_modules, so the test sees what
 * postinstall sees: workspaces from package.json, some with a schema, some globs matching
 * nothing.
 */
describe('scripts/prisma-generate.mjs', () => {
  let root: string;
  const run = () =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const env = { ...process.env };
      delete env.PRISMA_SCHEMA_ENGINE_BINARY;
      execFile(
        process.execPath,
        [join(root, 'scripts', 'prisma-generate.mjs')],
        { cwd: root, env, timeout: 120_000 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'magasin-generate-'));
    await writeFile(
      join(root, 'package.json'),
      JSON.stringify({ name: 'probe', private: true, workspaces: ['services/*', 'not-there/*', 'lonely'] }),
    );
    await symlink(join(repository, 'node_modules'), join(root, 'node_modules'));
    await mkdir(join(root, 'scripts'));
    await cp(
      join(repository, 'scripts', 'prisma-generate.mjs'),
      join(root, 'scripts', 'prisma-generate.mjs'),
    );
    await mkdir(join(root, 'services', 'notes', 'prisma'), { recursive: true });
    await writeFile(join(root, 'services', 'notes', 'prisma', 'schema.prisma'), SCHEMA);
    await mkdir(join(root, 'services', 'no-database'), { recursive: true });
  });

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('generates the client of every workspace with a schema, one line each, without the schema engine', async () => {
    const result = await run();
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^prisma-generate: services\/notes\/prisma\/schema\.prisma ok \(\d+ ms\)$/),
    ]);
    expect(existsSync(join(root, 'services', 'notes', 'src', 'generated', 'prisma', 'client.ts'))).toBe(true);
  });

  it('fails naming the schema that does not generate', async () => {
    await mkdir(join(root, 'services', 'broken', 'prisma'), { recursive: true });
    await writeFile(
      join(root, 'services', 'broken', 'prisma', 'schema.prisma'),
      SCHEMA.replace('Int ', 'Intt '),
    );
    const result = await run();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('services/broken/prisma/schema.prisma FAILED');
    expect(result.stderr).toContain('1 of 2 schema(s) failed to generate');
    expect(result.stdout).toContain('services/notes/prisma/schema.prisma ok');
  });
});
