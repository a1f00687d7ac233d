/**
 * The playground's files: GraphiQL, React and Monaco bundled by esbuild from node_modules (no
 * CDN), plus Monaco's three workers. `npm run build -w @magasin/gateway` writes them to
 * dist/playground (what a production image ships); without that folder the gateway bundles them
 * in memory at start-up (about a second), which needs esbuild (a dev dependency).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** One file of the playground, with its gzip form. */
export interface PlaygroundAsset {
  contentType: string;
  body: Buffer;
  gzip: Buffer;
}

/** The playground's files by name (`app.js`, `app.css`, `editor.worker.js`, ...). */
export type PlaygroundAssets = ReadonlyMap<string, PlaygroundAsset>;

const here = dirname(fileURLToPath(import.meta.url));

/** Where `npm run build` puts the bundle. */
export const PLAYGROUND_DIST = resolve(here, '..', '..', 'dist', 'playground');

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
};

const asset = (name: string, body: Buffer): PlaygroundAsset => ({
  contentType: CONTENT_TYPES[extname(name)] ?? 'application/octet-stream',
  body,
  gzip: gzipSync(body),
});

/** Bundles the playground with esbuild, in memory. Throws when esbuild is not installed. */
export const bundlePlayground = async (): Promise<PlaygroundAssets> => {
  const esbuild = await import('esbuild');
  const require = createRequire(import.meta.url);
  const common = {
    bundle: true,
    write: false,
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.ttf': 'file' },
    assetNames: '[name]',
  } as const;
  const [app, ...workers] = await Promise.all([
    esbuild.build({
      ...common,
      entryPoints: { app: join(here, 'app', 'main.jsx') },
      outdir: '/playground',
      format: 'esm',
      jsx: 'automatic',
      target: 'es2022',
    }),
    ...Object.entries({
      'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
      'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
      'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
    }).map(([name, entry]) =>
      esbuild.build({
        ...common,
        entryPoints: { [name]: require.resolve(entry) },
        outdir: '/playground',
        format: 'iife',
        target: 'es2022',
      }),
    ),
  ]);
  const assets = new Map<string, PlaygroundAsset>();
  for (const result of [app, ...workers]) {
    for (const file of result.outputFiles) {
      const name = file.path.slice('/playground/'.length);
      assets.set(name, asset(name, Buffer.from(file.contents)));
    }
  }
  return assets;
};

/** Reads a bundle written by {@link writePlayground}, or undefined when there is none. */
export const readPlayground = (directory = PLAYGROUND_DIST): PlaygroundAssets | undefined => {
  if (!existsSync(join(directory, 'app.js'))) return undefined;
  const assets = new Map<string, PlaygroundAsset>();
  for (const name of readdirSync(directory))
    assets.set(name, asset(name, readFileSync(join(directory, name))));
  return assets;
};

/** Writes the bundle to `directory` (default dist/playground). */
export const writePlayground = (assets: PlaygroundAssets, directory = PLAYGROUND_DIST): void => {
  mkdirSync(directory, { recursive: true });
  for (const [name, file] of assets) writeFileSync(join(directory, name), file.body);
};

/** The bundle from dist/playground when built, else bundled now. */
export const loadPlayground = async (): Promise<PlaygroundAssets> => readPlayground() ?? bundlePlayground();
