/**
 * JSON logs with pino. Every line carries `service`, and `traceId` / `correlationId` when
 * the code that logs runs inside a trace span or a `withCorrelation` scope.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { currentTraceId } from '@magasin/telemetry';
import { type Logger, pino } from 'pino';

const correlation = new AsyncLocalStorage<string>();

/** Runs `fn` with `correlationId` visible to every logger and to `currentCorrelationId()`. */
export function withCorrelation<T>(correlationId: string, fn: () => T): T {
  return correlation.run(correlationId, fn);
}

/** The correlation id of the current `withCorrelation` scope, or `undefined` outside one. */
export function currentCorrelationId(): string | undefined {
  return correlation.getStore();
}

/**
 * A pino logger writing JSON lines to `destination` (default stdout, synchronously so nothing is lost on exit) at `level` (default
 * `info`), with `service` on every line, ISO `time`, textual `level`, and `traceId` /
 * `correlationId` when known.
 */
export function createLogger(
  service: string,
  options: { level?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => {
        const traceId = currentTraceId();
        const correlationId = currentCorrelationId();
        return {
          ...(traceId === undefined ? {} : { traceId }),
          ...(correlationId === undefined ? {} : { correlationId }),
        };
      },
    },
    options.destination ?? pino.destination(1),
  );
  return logger;
}
