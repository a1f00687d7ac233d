/** The transaction service: wiring only (see service.ts). */
import { createLogger, createMetricsRegistry, runMain, startTelemetry } from '@magasin/service-kit';
import { loadTransactionConfig, SERVICE } from './config.ts';
import { runTransaction } from './service.ts';

startTelemetry({ serviceName: SERVICE });
runMain(async () => {
  const config = loadTransactionConfig();
  const logger = createLogger(SERVICE, { level: config.LOG_LEVEL });
  await runTransaction({ config, logger, registry: createMetricsRegistry(SERVICE) });
});
