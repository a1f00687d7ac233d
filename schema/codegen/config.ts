/**
 * `npm run codegen`: TypedDocumentNode types of the client operations (schema/operations) from
 * the client-facing part of schema/supergraph.graphql, into schema/generated/graphql.ts, which
 * is checked in. `npm run codegen -- --check` fails when that file is stale (CI runs it).
 *
 * MAGASIN_CODEGEN_SCHEMA points at another supergraph file (tests use it to prove that a
 * changed schema fails the check).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodegenConfig } from '@graphql-codegen/cli';
import { readApiSchema } from './api-schema.ts';
import * as schemaFingerprint from './schema-fingerprint.ts';

const schemaDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The generated file, checked in. */
export const GENERATED_FILE = join(schemaDir, 'generated', 'graphql.ts');
/** The supergraph types are generated from, unless MAGASIN_CODEGEN_SCHEMA says otherwise. */
export const SUPERGRAPH_FILE = join(schemaDir, 'supergraph.graphql');

const config: CodegenConfig = {
  schema: readApiSchema(process.env.MAGASIN_CODEGEN_SCHEMA || SUPERGRAPH_FILE),
  documents: join(schemaDir, 'operations', '*.graphql'),
  generates: {
    [GENERATED_FILE]: {
      // typescript-operations writes the schema types the operations use (enums, inputs) itself.
      plugins: [schemaFingerprint.SCHEMA_FINGERPRINT_PLUGIN, 'typescript-operations', 'typed-document-node'],
      config: {
        useTypeImports: true,
        enumType: 'string-literal',
        skipTypename: true,
        strictScalars: true,
        scalars: { ID: 'string', DateTime: 'string', JSON: 'unknown' },
        dedupeFragments: true,
      },
    },
  },
  pluginLoader: (name: string) =>
    name === schemaFingerprint.SCHEMA_FINGERPRINT_PLUGIN ? schemaFingerprint : import(name),
};

export default config;
