/** The store service: wiring only (see service.ts). */
import { createLogger, createMetricsRegistry, runMain, startTelemetry } from '@magasin/service-kit';
import { loadStoreConfig, SERVICE } from './config.ts';
import { runStore } from './service.ts';

startTelemetry({ serviceName: SERVICE });
runMain(async () => {
  const config = loadStoreConfig();
  const logger = createLogger(SERVICE, { level: config.LOG_LEVEL });
  await runStore({ config, logger, registry: createMetricsRegistry(SERVICE) });
});
