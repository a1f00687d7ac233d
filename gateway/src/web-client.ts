/**
 * The web client's routes on the gateway:
 * - `/` serves the built web app (web/dist, or WEB_DIST_DIR) when it has been built, so that
 *   `npm start` needs no second server and the app calls `/graphql` on its own origin;
 * - `GET /dev/token?sub=alice&role=customer` answers `{token, sub, roles, expiresAt}`: a dev
 *   token for the app's sign-in page. Only outside production (NODE_ENV !== 'production') and
 *   only with HS256 tokens: it would hand any role to anyone.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDevToken, DevTokenError } from '@magasin/scripts';
import express, { type Express, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { TokenKeys } from './config.ts';

/** Where the app is built when WEB_DIST_DIR is unset: web/dist of the repository. */
export const DEFAULT_WEB_DIST_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'web',
  'dist',
);

/** Where dev tokens are served. */
export const DEV_TOKEN_PATH = '/dev/token';

/** Lifetime of the tokens of {@link DEV_TOKEN_PATH}. */
const DEV_TOKEN_TTL = '12h';

/** The app's policy: this origin only, and its WebSocket. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** Options of {@link mountWebClient}. */
export interface WebClientOptions {
  /** The gateway's token keys: dev tokens are signed with the HS256 secret. */
  keys: TokenKeys;
  logger: Logger;
  /** NODE_ENV and WEB_DIST_DIR are read from it; default process.env. */
  env?: NodeJS.ProcessEnv;
}

const single = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

const mountDevTokens = (app: Express, secret: string) => {
  app.get(DEV_TOKEN_PATH, async (req: Request, res: Response) => {
    const sub = single(req.query.sub) ?? '';
    const roles = (single(req.query.role) ?? '')
      .split(',')
      .map((role) => role.trim())
      .filter(Boolean);
    try {
      const token = await createDevToken({ sub, roles, secret, ttl: DEV_TOKEN_TTL });
      const { exp } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
        exp: number;
      };
      res
        .set('cache-control', 'no-store')
        .json({ token, sub: sub.trim(), roles, expiresAt: new Date(exp * 1000).toISOString() });
    } catch (error) {
      if (!(error instanceof DevTokenError)) throw error;
      res.status(400).json({ error: { code: 'BAD_USER_INPUT', message: error.message } });
    }
  });
};

const mountApp = (app: Express, distDir: string) => {
  const headers = (res: Response, path: string) => {
    res.setHeader('x-content-type-options', 'nosniff');
    if (path.endsWith('.html')) {
      res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
      res.setHeader('cache-control', 'no-cache');
    } else if (path.includes(`${join(distDir, 'assets')}`)) {
      // Vite names every asset by its content hash.
      res.setHeader('cache-control', 'public, max-age=31536000, immutable');
    }
  };
  app.use(express.static(distDir, { index: 'index.html', fallthrough: true, setHeaders: headers }));
};

/**
 * Mounts the web app (when built) and, outside production, the dev token route. Call it in
 * the gateway's routes, before the GraphQL middleware. Logs what it mounted.
 */
export const mountWebClient = (app: Express, options: WebClientOptions): void => {
  const env = options.env ?? process.env;
  const production = env.NODE_ENV === 'production';
  if (!production && options.keys.kind === 'hs256') {
    mountDevTokens(app, options.keys.secret);
    options.logger.info({ path: DEV_TOKEN_PATH }, 'dev tokens served to anyone (NODE_ENV is not production)');
  }
  const distDir = env.WEB_DIST_DIR || DEFAULT_WEB_DIST_DIR;
  if (existsSync(join(distDir, 'index.html'))) {
    mountApp(app, distDir);
    options.logger.info({ distDir }, 'web app served at /');
  } else {
    options.logger.info({ distDir }, 'web app not built (npm run build -w web): not served');
  }
};
