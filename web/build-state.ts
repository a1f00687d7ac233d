/**
 * Whether the built web app (web/dist) is there and newer than everything it is built from,
 * and building it with Vite. `npm start` and the browser tests build it only when it is stale.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The web workspace. */
export const WEB_DIR = dirname(fileURLToPath(import.meta.url));
/** Where the app is built; the gateway serves it at `/`. */
export const WEB_DIST_DIR = join(WEB_DIR, 'dist');

/** What the app is built from (files, or folders walked recursively). */
const SOURCES = [
  join(WEB_DIR, 'src'),
  join(WEB_DIR, 'index.html'),
  join(WEB_DIR, 'vite.config.ts'),
  join(WEB_DIR, 'package.json'),
  join(WEB_DIR, '..', 'schema', 'generated', 'graphql.ts'),
];

const newestIn = (path: string): { path: string; mtimeMs: number } | undefined => {
  if (!existsSync(path)) return undefined;
  const stat = statSync(path);
  if (!stat.isDirectory()) return { path, mtimeMs: stat.mtimeMs };
  let newest: { path: string; mtimeMs: number } | undefined;
  for (const entry of readdirSync(path)) {
    const candidate = newestIn(join(path, entry));
    if (candidate && (!newest || candidate.mtimeMs > newest.mtimeMs)) newest = candidate;
  }
  return newest;
};

/** Where the app is built and what from (tests point them elsewhere). */
export interface BuildLayout {
  /** Default WEB_DIST_DIR. */
  distDir?: string;
  /** Files, or folders walked recursively; default web/src, index.html, vite.config.ts, package.json and the generated operations. */
  sources?: readonly string[];
}

/** Why the app needs building, or undefined when its dist is up to date. */
export const staleReason = (layout: BuildLayout = {}): string | undefined => {
  const built = join(layout.distDir ?? WEB_DIST_DIR, 'index.html');
  if (!existsSync(built)) return `${built} is missing`;
  const builtAt = statSync(built).mtimeMs;
  for (const source of layout.sources ?? SOURCES) {
    const newest = newestIn(source);
    if (newest && newest.mtimeMs > builtAt) return `${newest.path} changed since the last build`;
  }
  return undefined;
};

/** Builds the app into web/dist (vite build, production React); rejects with Vite's error. */
export const buildWebApp = async (): Promise<void> => {
  const { build } = await import('vite');
  // Vite keeps a NODE_ENV it finds (vitest sets `test`), which would bundle React's development build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      root: WEB_DIR,
      configFile: join(WEB_DIR, 'vite.config.ts'),
      logLevel: 'warn',
      mode: 'production',
    });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
};

/** Builds the app when it is stale; what happened, in words. */
export const buildWebAppIfStale = async (): Promise<string> => {
  const reason = staleReason();
  if (!reason) return 'web/dist is up to date';
  const started = Date.now();
  await buildWebApp();
  return `built web/dist in ${Date.now() - started} ms (${reason})`;
};
