import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSchema } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { apiSchemaOf } from '../codegen/api-schema.ts';
import { GENERATED_FILE, SUPERGRAPH_FILE } from '../codegen/config.ts';

const root = resolve(import.meta.dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'magasin-codegen-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `npm run codegen -- --check` as CI runs it, against `supergraph` (default: the checked-in one). */
const codegenCheck = (supergraph?: string): Promise<{ code: number; output: string }> =>
  new Promise((done) => {
    execFile(
      join(root, 'node_modules', '.bin', 'graphql-codegen'),
      ['--config', 'schema/codegen/config.ts', '--check'],
      // NODE_ENV=test (vitest's) would silence the CLI's error report.
      { cwd: root, env: { ...process.env, NODE_ENV: '', MAGASIN_CODEGEN_SCHEMA: supergraph ?? '' } },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
    );
  });

/** A copy of the supergraph with `edit` applied; throws when the edit changed nothing. */
const editedSupergraph = (name: string, edit: (sdl: string) => string): string => {
  const original = readFileSync(SUPERGRAPH_FILE, 'utf8');
  const edited = edit(original);
  if (edited === original) throw new Error(`the ${name} edit did not apply to the supergraph`);
  const path = join(scratch, `${name}.graphql`);
  writeFileSync(path, edited);
  return path;
};

describe('generated client types', () => {
  it('are up to date with the supergraph and the operations', { timeout: 60_000 }, async () => {
    const { code, output } = await codegenCheck();
    expect(output).not.toMatch(/stale/);
    expect(code).toBe(0);
  });

  it('are reported stale when the schema changed without regenerating', { timeout: 60_000 }, async () => {
    const supergraph = editedSupergraph('new-order-status', (sdl) =>
      sdl.replace(
        /^( {2}CONFIRMED @join__enumValue\(graph: STORE\))$/m,
        '$1\n  ON_HOLD @join__enumValue(graph: STORE)',
      ),
    );
    const { code, output } = await codegenCheck(supergraph);
    expect(output).toContain('stale');
    expect(output).toContain(GENERATED_FILE);
    expect(code).not.toBe(0);
  });

  it('are reported stale when a part of the schema no operation selects changed', {
    timeout: 60_000,
  }, async () => {
    const supergraph = editedSupergraph('new-event-field', (sdl) =>
      sdl.replace(/^( {2}schemaVersion: Int!)$/m, '$1\n  replayed: Boolean'),
    );
    const { code, output } = await codegenCheck(supergraph);
    expect(output).toContain('stale');
    expect(code).not.toBe(0);
  });

  it('cannot be generated when an operation selects a field the schema lost', {
    timeout: 60_000,
  }, async () => {
    const supergraph = editedSupergraph('order-without-payment', (sdl) =>
      sdl.replace(/^\s*"""\n\s*The order's payment[^"]*"""\n\s*payment: Payment[^\n]*\n/m, '\n'),
    );
    const { code, output } = await codegenCheck(supergraph);
    expect(output).toMatch(/Cannot query field "payment" on type "Order"/);
    expect(code).not.toBe(0);
  });
});

describe('the client-facing schema', () => {
  it('is the supergraph without federation machinery', () => {
    const sdl = apiSchemaOf(readFileSync(SUPERGRAPH_FILE, 'utf8'));
    expect(sdl).not.toMatch(/join__|link__|@link/);
    const schema = buildSchema(sdl);
    expect(schema.getQueryType()?.getFields()).toHaveProperty('products');
    expect(schema.getSubscriptionType()?.getFields()).toHaveProperty('orderSaga');
    expect(
      Object.keys(schema.getTypeMap()).filter((name) => name.includes('__') && !name.startsWith('__')),
    ).toEqual([]);
  });

  it('leaves out what the supergraph marks @inaccessible', () => {
    const sdl = apiSchemaOf(`
      directive @inaccessible on FIELD_DEFINITION | OBJECT | ENUM_VALUE | ARGUMENT_DEFINITION
      type Query { visible(limit: Int, secret: Int @inaccessible): Int, hidden: Internal @inaccessible }
      type Internal @inaccessible { x: Int }
      enum Color { RED BLUE @inaccessible }
    `);
    const schema = buildSchema(sdl);
    const fields = schema.getQueryType()?.getFields() ?? {};
    expect(Object.keys(fields)).toEqual(['visible']);
    expect(fields.visible?.args.map((arg) => arg.name)).toEqual(['limit']);
    expect(schema.getType('Internal')).toBeUndefined();
    expect(sdl).toMatch(/enum Color \{\s+RED\s+\}/);
  });
});
