/**
 * `npm run projections:rebuild -- <service> [--check]`: replays the event store into fresh
 * tables of the service's database and swaps them in while the service runs (or, with
 * `--check`, only compares them with the live tables and prints the differences; exit 1 when
 * they differ). The service's read model is `projection` exported by
 * `subgraphs/<service>/src/projections/index.ts`; its configuration comes from the environment
 * as for the service itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createEventStoreClient } from '@magasin/event-store/client';
import { createLogger } from '@magasin/service-kit';
import type { ProjectionDefinition, ProjectionPrisma, ProjectionTx } from './projector.ts';
import { diffProjection, rebuildProjection } from './rebuild.ts';
import { loadSubgraphConfig } from './subgraph.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

const usage = (problem: string): never => {
  console.error(
    `${problem}\nusage: npm run projections:rebuild -- <store|inventory|payment|transaction|saga|audit> [--check]`,
  );
  process.exit(2);
};

const [service, ...flags] = process.argv.slice(2);
if (!service || service.startsWith('-')) usage('which service?');
const check = flags.includes('--check');
const folder = [`subgraphs/${service}`, `${service}`]
  .map((f) => `${root}${f}`)
  .find((f) => existsSync(`${f}/src/projections/index.ts`));
if (!folder) usage(`no read model for '${service}': expected subgraphs/${service}/src/projections/index.ts`);
const manifest = JSON.parse(readFileSync(`${folder}/package.json`, 'utf8')) as {
  magasin?: { service?: { portEnv: string; port: number } };
};
const described = manifest.magasin?.service ?? usage(`${folder}/package.json has no magasin.service block`);
const { projection } = (await import(pathToFileURL(`${folder}/src/projections/index.ts`).href)) as {
  projection: ProjectionDefinition<ProjectionPrisma<ProjectionTx>, ProjectionTx>;
};
const config = loadSubgraphConfig(String(service), { portEnv: described.portEnv, port: described.port });
const logger = createLogger(`rebuild-${service}`, { level: config.LOG_LEVEL });
const eventStore = createEventStoreClient({
  url: config.EVENT_STORE_URL,
  secret: config.INTERNAL_SECRET,
  caller: `${service}-rebuild`,
});
const result = await rebuildProjection({
  projection,
  databaseUrl: config.databaseUrl,
  eventStore,
  logger,
  swap: !check,
});
if (check) {
  const differences = await diffProjection({ databaseUrl: config.databaseUrl, schema: result.schema });
  for (const line of differences) console.log(line);
  console.log(
    differences.length === 0
      ? `${service}: the read model rebuilt from ${result.events} events (up to position ${result.position}) equals the live one`
      : `${service}: ${differences.length} difference(s) between the live read model and the log (run without --check to repair)`,
  );
  process.exit(differences.length === 0 ? 0 : 1);
}
console.log(
  `${service}: read model rebuilt from ${result.events} events (up to position ${result.position}) and swapped in`,
);
