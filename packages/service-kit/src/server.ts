/**
 * The HTTP server every service runs: `/healthz`, `/readyz`, `/metrics`, internal request
 * authentication, request metrics, correlation ids and graceful shutdown.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, extractTraceContext, SpanKind, shutdownTelemetry, tracer } from '@magasin/telemetry';
import express, { type Express as ExpressApp, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { trackConnections } from './connections.ts';
import { withCorrelation } from './logger.ts';
import { httpRequestDuration } from './metrics.ts';
import { describeError, type ReadinessCheck } from './readiness.ts';
import { CORRELATION_HEADER, type Identity, verifyInternalRequest } from './signing.ts';

declare global {
  namespace Express {
    interface Request {
      /** The request body exactly as received (empty when there was none). */
      rawBody?: Buffer;
      /** The end user the verified caller acts for, when it sent one. */
      identity?: Identity;
      /** The verified calling service. */
      caller?: string;
    }
  }
}

/** Options of `startService`. */
export interface ServiceOptions {
  /** Service name, used in logs. */
  name: string;
  /** Port to listen on; 0 picks a free one (see `RunningService.url`). */
  port: number;
  /** Interface to listen on; default `0.0.0.0`. */
  host?: string;
  logger: Logger;
  registry: Registry;
  /** Every check must pass for `/readyz` to answer 200. */
  readiness: ReadinessCheck[];
  /**
   * Mount the service's routes. Every route but /healthz /readyz /metrics requires a valid
   * internal signature when `internalSecret` is set; `req.identity` / `req.caller` (and
   * `res.locals.identity` / `res.locals.caller`) are then available. `req.body` is parsed JSON
   * for JSON requests, the raw Buffer for others, undefined when empty; `req.rawBody` is the bytes.
   */
  routes?: (app: ExpressApp) => void | Promise<void>;
  /** Shared secret of internal requests; without it no route requires a signature. */
  internalSecret?: string;
  /**
   * Called during shutdown after the server stopped accepting and in-flight requests drained:
   * close consumers, pools, and upgraded connections (WebSockets), which shutdown leaves open until then.
   */
  onShutdown?: () => Promise<void>;
  /** Bound on the whole shutdown; default 10 000 ms. Past it, sockets are destroyed and `stop()` rejects. */
  shutdownTimeoutMs?: number;
  /** Default true: SIGINT/SIGTERM trigger `stop()` then exit (0, or 1 when shutdown failed or overran). */
  handleSignals?: boolean;
  /** Bound on each readiness check, so a hung dependency makes /readyz fail instead of hang; default 3000 ms. */
  readinessTimeoutMs?: number;
  /** Largest request body accepted; default `1mb` (413 beyond). */
  bodyLimit?: string;
}

/** A started service. */
export interface RunningService {
  app: ExpressApp;
  server: Server;
  /** `http://<host>:<port>` with the real port (127.0.0.1 when listening on every interface). */
  url: string;
  /** Stop taking work, /readyz -> 503, drain in-flight requests, run onShutdown, close. Idempotent. */
  stop(): Promise<void>;
}

/** Routes that never require a signature. */
const OPERATIONAL_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/** Error thrown by `stop()` when shutdown did not finish within `shutdownTimeoutMs`. */
export class ShutdownTimeoutError extends Error {
  readonly code = 'SHUTDOWN_TIMEOUT';
  constructor(service: string, timeoutMs: number) {
    super(`${service} did not shut down within ${timeoutMs} ms; open connections were destroyed`);
    this.name = 'ShutdownTimeoutError';
  }
}

const errorBody = (code: string, message: string) => ({ error: { code, message } });

const withTimeout = <T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

async function runChecks(checks: ReadinessCheck[], timeoutMs: number) {
  return Promise.all(
    checks.map(async ({ name, check }) => {
      try {
        await withTimeout(check(), timeoutMs, () => new Error(`no answer within ${timeoutMs} ms`));
        return { name, status: 'up' as const };
      } catch (error) {
        return { name, status: 'down' as const, reason: describeError(error) };
      }
    }),
  );
}

const isJson = (req: Request): boolean => Boolean(req.is(['application/json', 'application/*+json']));

/** Starts the HTTP server; resolves once it listens. */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  const { logger, registry } = options;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
  const duration = httpRequestDuration(registry);
  const httpTracer = tracer('http');
  const app = express();
  app.disable('x-powered-by');

  // Tracking listens before the app so that it sees every request before any response.
  const server = createServer();
  const connections = trackConnections(server);
  server.on('request', app);
  let stopping = false;

  // --- tracing, correlation and duration of every request
  app.use((req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      // A route, else the mount path of the middleware that answered (app.use('/graphql', ...)).
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : req.baseUrl || 'unmatched';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      duration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
    });
    const correlationHeader = req.headers[CORRELATION_HEADER];
    const correlationId = Array.isArray(correlationHeader) ? correlationHeader[0] : correlationHeader;
    const parent = extractTraceContext(req.headers as Record<string, unknown>);
    context.with(parent, () =>
      httpTracer.startActiveSpan(`${req.method}`, { kind: SpanKind.SERVER }, (span) => {
        res.once('close', () => {
          // Named like the duration metric's route: the route, else the mount path (`POST /graphql`).
          const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : req.baseUrl;
          if (route) span.updateName(`${req.method} ${route}`);
          span.setAttribute('http.response.status_code', res.statusCode);
          span.end();
        });
        if (correlationId) withCorrelation(correlationId, next);
        else next();
      }),
    );
  });

  // --- operational routes
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'alive' });
  });
  app.get('/readyz', async (_req, res) => {
    if (stopping) {
      res.status(503).json({ status: 'shutting_down', checks: [] });
      return;
    }
    const checks = await runChecks(options.readiness, options.readinessTimeoutMs ?? 3_000);
    if (stopping) {
      res.status(503).json({ status: 'shutting_down', checks });
      return;
    }
    const ready = checks.every((check) => check.status === 'up');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  // --- body as bytes, internal authentication, then JSON
  app.use(express.raw({ type: () => true, limit: options.bodyLimit ?? '1mb' }));
  app.use((req: Request, res: Response, next: NextFunction) => {
    req.rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!options.internalSecret || OPERATIONAL_ROUTES.has(req.path)) {
      next();
      return;
    }
    const verification = verifyInternalRequest({
      secret: options.internalSecret,
      method: req.method,
      path: req.originalUrl,
      body: req.rawBody,
      headers: req.headers,
    });
    if (!verification.ok) {
      logger.warn(
        { method: req.method, path: req.path, reason: verification.reason, code: verification.code },
        'refused an unauthenticated internal request',
      );
      res.status(401).json(errorBody('UNAUTHENTICATED', verification.reason));
      return;
    }
    req.caller = verification.caller;
    req.identity = verification.identity;
    res.locals.caller = verification.caller;
    res.locals.identity = verification.identity;
    next();
  });
  app.use((req: Request, res: Response, next: NextFunction) => {
    const raw = req.rawBody ?? Buffer.alloc(0);
    if (raw.length === 0) {
      req.body = undefined;
    } else if (isJson(req)) {
      try {
        req.body = JSON.parse(raw.toString('utf8'));
      } catch (error) {
        res
          .status(400)
          .json(errorBody('BAD_REQUEST', `request body is not valid JSON: ${describeError(error)}`));
        return;
      }
    }
    next();
  });

  await options.routes?.(app);

  app.use((req: Request, res: Response) => {
    res.status(404).json(errorBody('NOT_FOUND', `no route for ${req.method} ${req.path}`));
  });
  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const status = Number(
      (error as { status?: unknown }).status ?? (error as { statusCode?: unknown }).statusCode,
    );
    if (Number.isInteger(status) && status >= 400 && status < 500) {
      res
        .status(status)
        .json(errorBody(status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST', describeError(error)));
      return;
    }
    logger.error({ err: error, method: req.method, path: req.path }, 'request failed');
    res.status(500).json(errorBody('INTERNAL', 'internal error'));
  });

  // --- listen
  const listenHost = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error) =>
      reject(
        new Error(`${options.name} cannot listen on ${listenHost}:${options.port}: ${error.message}`, {
          cause: error,
        }),
      );
    server.once('error', failed);
    server.listen(options.port, listenHost, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = ['0.0.0.0', '::'].includes(address.address)
    ? '127.0.0.1'
    : address.family === 'IPv6'
      ? `[${address.address}]`
      : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info({ url }, `${options.name} listening`);

  // --- shutdown
  let stopped: Promise<void> | undefined;
  const shutdown = async (): Promise<void> => {
    stopping = true;
    logger.info({ inFlight: connections.inFlight }, `${options.name} shutting down`);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const allDrained = connections.drain();
    const work = (async () => {
      await allDrained;
      await options.onShutdown?.();
      await closed;
    })();
    try {
      await withTimeout(
        work,
        shutdownTimeoutMs,
        () => new ShutdownTimeoutError(options.name, shutdownTimeoutMs),
      );
    } catch (error) {
      connections.destroyAll();
      logger.error({ err: error }, `${options.name} did not shut down cleanly`);
      throw error;
    } finally {
      removeSignalHandlers();
    }
    logger.info(`${options.name} stopped`);
  };
  const stop = (): Promise<void> => {
    stopped ??= shutdown();
    return stopped;
  };

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal }, 'signal received');
    setTimeout(() => process.exit(1), shutdownTimeoutMs + 1_000).unref();
    stop().then(
      // The spans of the last requests, still in the exporter's batch, go out before the exit.
      () =>
        shutdownTelemetry().then(
          () => process.exit(0),
          (error: unknown) => {
            logger.warn({ err: error }, 'could not flush traces at shutdown');
            process.exit(0);
          },
        ),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const removeSignalHandlers = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  if (options.handleSignals ?? true) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  return { app, server, url, stop };
}
