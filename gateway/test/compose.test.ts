import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import { composeSupergraph, findSubgraphs, runCompose } from '../src/compose.ts';
import { buildFederatedSchema } from '../src/supergraph.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

const federation = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])';

/** A throwaway repository with services `name -> sdl` (a service without SDL has none). */
const temporaryRepository = (services: Record<string, string | undefined>): string => {
  const directory = mkdtempSync(join(tmpdir(), 'magasin-compose-'));
  writeFileSync(join(directory, 'package.json'), JSON.stringify({ workspaces: ['services/*'] }));
  let port = 4100;
  for (const [name, sdl] of Object.entries(services)) {
    const service = join(directory, 'services', name);
    mkdirSync(join(service, 'src', 'graphql'), { recursive: true });
    port += 1;
    writeFileSync(
      join(service, 'package.json'),
      JSON.stringify({
        name: `@test/${name}`,
        magasin: { service: { name, portEnv: `${name.toUpperCase()}_PORT`, port, main: 'src/main.ts' } },
      }),
    );
    if (sdl !== undefined) writeFileSync(join(service, 'src', 'graphql', 'schema.graphql'), sdl);
  }
  mkdirSync(join(directory, 'schema'));
  temporaries.push(directory);
  return directory;
};
const temporaries: string[] = [];
afterEach(() => {
  for (const directory of temporaries.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('npm run compose', () => {
  it('finds the checked-in supergraph up to date with every subgraph schema of the repository (CI check)', async () => {
    const outcome = runCompose(root, { check: true });
    expect(outcome, JSON.stringify(outcome, null, 2)).toMatchObject({ status: 'unchanged' });
    const { stdout } = await run('npx', ['tsx', 'gateway/src/compose-cli.ts', '--check'], { cwd: root });
    expect(stdout).toMatch(/schema\/supergraph\.graphql up to date from \d+ subgraphs/);
  });

  it('composes the services that have a schema, with their design ports, into a supergraph the gateway loads', () => {
    const repository = temporaryRepository({
      catalog: `${federation}\ntype Query { products: [Product!]! }\ntype Product @key(fields: "id") { id: ID! name: String! }`,
      orders: `${federation}\ntype Query { orders: [ID!]! }`,
      worker: undefined,
    });
    expect(findSubgraphs(repository).map((subgraph) => [subgraph.name, subgraph.url])).toEqual([
      ['catalog', 'http://127.0.0.1:4101/graphql'],
      ['orders', 'http://127.0.0.1:4102/graphql'],
    ]);
    expect(runCompose(repository)).toMatchObject({ status: 'written', subgraphs: ['catalog', 'orders'] });
    const sdl = readFileSync(join(repository, 'schema', 'supergraph.graphql'), 'utf8');
    expect(sdl).toMatch(/^# Composed by `npm run compose`/);
    expect(buildFederatedSchema(sdl).subgraphs).toEqual([
      { name: 'catalog', url: 'http://127.0.0.1:4101/graphql' },
      { name: 'orders', url: 'http://127.0.0.1:4102/graphql' },
    ]);
    expect(runCompose(repository, { check: true })).toMatchObject({ status: 'unchanged' });
  });

  it('reports a stale supergraph in check mode and leaves it untouched', () => {
    const repository = temporaryRepository({ catalog: `${federation}\ntype Query { products: [ID!]! }` });
    runCompose(repository);
    const schemaFile = join(repository, 'services', 'catalog', 'src', 'graphql', 'schema.graphql');
    writeFileSync(schemaFile, `${federation}\ntype Query { products: [ID!]! featured: ID }`);
    const before = readFileSync(join(repository, 'schema', 'supergraph.graphql'), 'utf8');
    expect(runCompose(repository, { check: true })).toMatchObject({ status: 'stale' });
    expect(readFileSync(join(repository, 'schema', 'supergraph.graphql'), 'utf8')).toBe(before);
  });

  it('fails with the composition errors and their codes', () => {
    const repository = temporaryRepository({
      catalog: `${federation}\ntype Query { products: [Product!]! }\ntype Product @key(fields: "id") { id: ID! price: Int! }`,
      pricing: `${federation}\ntype Product @key(fields: "id") { id: ID! price: String! }`,
    });
    const outcome = runCompose(repository, { check: true });
    expect(outcome.status).toBe('failed');
    expect(outcome.status === 'failed' && outcome.errors.join('\n')).toMatch(
      /\[FIELD_TYPE_MISMATCH\] Type of field "Product.price" is incompatible across subgraphs/,
    );
  });

  it('names the schema file that does not parse', () => {
    const outcome = composeSupergraph(
      [
        {
          name: 'broken',
          url: 'http://127.0.0.1:1/graphql',
          schemaPath: '/repo/broken/schema.graphql',
          sdl: 'type Query {',
        },
      ],
      '/repo',
    );
    expect(outcome).toEqual({
      ok: false,
      errors: [expect.stringMatching(/^broken\/schema\.graphql: Syntax Error/)],
    });
  });
});

describe('the composed supergraph', () => {
  it("plans the contract's orderSaga subscription: the root on saga, order and products resolved by store and inventory", () => {
    const schema = buildFederatedSchema(readFileSync(join(root, 'schema', 'supergraph.graphql'), 'utf8'));
    const query =
      'subscription ($orderId: ID!) { orderSaga(orderId: $orderId) { status steps { name } order { totalCents lines { product { name } } } } }';
    const { primary, rest } = schema.planSubscription(parse(query), undefined, query);
    expect(primary.serviceName).toBe('saga');
    expect(primary.operationKind).toBe('subscription');
    const services = JSON.stringify(rest).match(/"serviceName":"[^"]+"/g);
    expect(new Set(services)).toEqual(new Set(['"serviceName":"store"', '"serviceName":"inventory"']));
  });
});
