/** The payment subgraph: wiring only (see service.ts). */
import { createLogger, createMetricsRegistry, runMain, startTelemetry } from '@magasin/service-kit';
import { loadPaymentConfig, SERVICE } from './config.ts';
import { runPayment } from './service.ts';

startTelemetry({ serviceName: SERVICE });
runMain(async () => {
  const config = loadPaymentConfig();
  const logger = createLogger(SERVICE, { level: config.LOG_LEVEL });
  await runPayment({ config, logger, registry: createMetricsRegistry(SERVICE) });
});
