/**
 * Writes grafana/dashboards/*.json from the definitions, formatted as the repository formats
 * JSON (Biome); the test fails when the files and the definitions differ.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OBSERVABILITY_DIR } from '../prometheus-config.ts';
import { DASHBOARDS_DIR, renderDashboards } from './index.ts';

const files = renderDashboards().map(({ file, json }) => {
  const path = join(DASHBOARDS_DIR, file);
  writeFileSync(path, json);
  return path;
});
execFileSync(
  join(OBSERVABILITY_DIR, '..', 'node_modules', '.bin', 'biome'),
  ['format', '--write', ...files],
  {
    stdio: 'inherit',
  },
);
for (const path of files) process.stdout.write(`wrote ${path}\n`);
