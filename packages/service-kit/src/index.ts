/**
 * @magasin/service-kit: what every Magasin service runs on — configuration from the
 * environment, JSON logs, metrics, readiness checks, internal request signing and an HTTP
 * server with graceful shutdown.
 */

// Services start tracing from main.ts through the kit they already run on.
export { startTelemetry, type Telemetry } from '@magasin/telemetry';
export {
  ConfigError,
  type ConfigProblem,
  DEFAULT_DATABASE_URL,
  DEV_INTERNAL_SECRET,
  env,
  loadConfig,
  runMain,
  serviceDatabaseUrl,
} from './config.ts';
export { createLogger, currentCorrelationId, withCorrelation } from './logger.ts';
export { createMetricsRegistry, HTTP_REQUEST_DURATION } from './metrics.ts';
export { postgresReadiness, type ReadinessCheck, rabbitmqReadiness } from './readiness.ts';
export { type RunningService, type ServiceOptions, ShutdownTimeoutError, startService } from './server.ts';
export {
  CORRELATION_HEADER,
  DEFAULT_MAX_SKEW_MS,
  type Identity,
  INTERNAL_HEADERS,
  type InternalSigner,
  internalRequestHeaders,
  signedFetch,
  signInternalRequest,
  VERIFICATION_FAILURES,
  type Verification,
  type VerificationFailure,
  verifyInternalRequest,
} from './signing.ts';
