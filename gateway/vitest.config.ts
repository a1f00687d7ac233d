import { createRequire } from 'node:module';
import { mergeConfig } from 'vitest/config';
import { testConfig } from '../vitest.shared.ts';

// Node resolves `graphql` to its CommonJS entry (no "exports" field: "main"), and so do
// @apollo/server and @apollo/gateway at run time; Vite would pick the "module" entry for the
// tests' own imports, making two GraphQLError classes. One entry for all, as in production.
const graphql = createRequire(import.meta.url).resolve('graphql');

export default mergeConfig(testConfig(), {
  resolve: { alias: [{ find: /^graphql$/, replacement: graphql }] },
});
