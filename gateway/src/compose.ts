/**
 * Composition of the supergraph: every service of the repository that declares
 * `magasin.service` in its package.json and has `src/graphql/schema.graphql` is a subgraph,
 * reached at `http://127.0.0.1:<port>/graphql`. `@apollo/composition` composes them into
 * `schema/supergraph.graphql`, the artifact the gateway serves (checked in, checked by CI).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { composeServices } from '@apollo/composition';
import { discoverServices } from '@magasin/scripts';
import { parse } from 'graphql';

/** Where a subgraph's SDL lives inside its workspace. */
export const SUBGRAPH_SCHEMA_FILE = 'src/graphql/schema.graphql';

/** The composed supergraph, relative to the repository root. */
export const SUPERGRAPH_FILE = 'schema/supergraph.graphql';

const HEADER =
  '# Composed by `npm run compose` from every src/graphql/schema.graphql of the services. Do not edit:\n' +
  '# change a subgraph schema and compose again (CI fails when this file is stale).\n';

/** One subgraph found in the repository. */
export interface SubgraphSource {
  /** Service name, e.g. `store`: the subgraph's name in the supergraph. */
  name: string;
  /** URL recorded in the supergraph (the design port); the gateway may override it at run time. */
  url: string;
  /** Absolute path of its SDL file. */
  schemaPath: string;
  sdl: string;
}

/** Every subgraph of the repository at `rootDir`, by port. */
export const findSubgraphs = (rootDir: string): SubgraphSource[] =>
  discoverServices(rootDir)
    .map((service) => ({ service, schemaPath: join(service.directory, SUBGRAPH_SCHEMA_FILE) }))
    .filter(({ schemaPath }) => existsSync(schemaPath))
    .map(({ service, schemaPath }) => ({
      name: service.name,
      url: `http://127.0.0.1:${service.port}/graphql`,
      schemaPath,
      sdl: readFileSync(schemaPath, 'utf8'),
    }));

/** Outcome of a composition: the supergraph SDL, or every error with the subgraph it names. */
export type Composition =
  | { ok: true; supergraphSdl: string; hints: string[] }
  | { ok: false; errors: string[] };

/**
 * Composes `subgraphs` (Federation 2). A subgraph whose SDL does not parse is reported as an
 * error naming its file, like any composition error; nothing throws.
 */
export const composeSupergraph = (subgraphs: SubgraphSource[], rootDir = ''): Composition => {
  if (subgraphs.length === 0)
    return { ok: false, errors: ['no subgraph schema found (src/graphql/schema.graphql)'] };
  const errors: string[] = [];
  const definitions = subgraphs.flatMap((subgraph) => {
    try {
      return [{ name: subgraph.name, url: subgraph.url, typeDefs: parse(subgraph.sdl) }];
    } catch (error) {
      errors.push(`${relative(rootDir, subgraph.schemaPath)}: ${(error as Error).message}`);
      return [];
    }
  });
  if (errors.length > 0) return { ok: false, errors };
  const result = composeServices(definitions);
  if (result.errors) {
    return {
      ok: false,
      errors: result.errors.map((error) => {
        const code = error.extensions.code;
        return typeof code === 'string' ? `[${code}] ${error.message}` : error.message;
      }),
    };
  }
  return {
    ok: true,
    supergraphSdl: `${HEADER}${result.supergraphSdl.trimEnd()}\n`,
    hints: result.hints.map((hint) => `[${hint.definition.code}] ${hint.message}`),
  };
};

/** What `runCompose` found and did. */
export type ComposeOutcome =
  | { status: 'written' | 'unchanged'; file: string; subgraphs: string[]; hints: string[] }
  | { status: 'stale'; file: string; subgraphs: string[] }
  | { status: 'failed'; errors: string[]; subgraphs: string[] };

/**
 * Composes the repository at `rootDir`. Default: writes `schema/supergraph.graphql` (left
 * untouched when equal). `check`: writes nothing and reports `stale` when the file differs
 * from a fresh composition (or is missing).
 */
export const runCompose = (rootDir: string, options: { check?: boolean } = {}): ComposeOutcome => {
  const subgraphs = findSubgraphs(rootDir);
  const names = subgraphs.map((subgraph) => subgraph.name);
  const composition = composeSupergraph(subgraphs, rootDir);
  if (!composition.ok) return { status: 'failed', errors: composition.errors, subgraphs: names };
  const file = join(rootDir, SUPERGRAPH_FILE);
  const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (current === composition.supergraphSdl) {
    return { status: 'unchanged', file, subgraphs: names, hints: composition.hints };
  }
  if (options.check) return { status: 'stale', file, subgraphs: names };
  writeFileSync(file, composition.supergraphSdl);
  return { status: 'written', file, subgraphs: names, hints: composition.hints };
};
