/**
 * `node --import tsx web/build-cli.ts [--if-stale]`: builds the web app into web/dist, or with
 * `--if-stale` only when it is missing or older than its sources (what `npm start` runs).
 */
import { buildWebApp, buildWebAppIfStale, WEB_DIST_DIR } from './build-state.ts';

const ifStale = process.argv.includes('--if-stale');
try {
  if (ifStale) {
    process.stdout.write(`${await buildWebAppIfStale()}\n`);
  } else {
    await buildWebApp();
    process.stdout.write(`built ${WEB_DIST_DIR}\n`);
  }
} catch (error) {
  process.stderr.write(`the web app could not be built: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
