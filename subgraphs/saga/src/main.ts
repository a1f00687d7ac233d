/** The saga orchestrator: wiring only (see service.ts). */
import { createLogger, createMetricsRegistry, runMain, startTelemetry } from '@magasin/service-kit';
import { loadSagaConfig, SERVICE } from './config.ts';
import { runSaga } from './service.ts';

startTelemetry({ serviceName: SERVICE });
runMain(async () => {
  const config = loadSagaConfig();
  const logger = createLogger(SERVICE, { level: config.LOG_LEVEL });
  await runSaga({ config, logger, registry: createMetricsRegistry(SERVICE) });
});
