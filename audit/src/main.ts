/** The audit service: wiring only (see service.ts). */
import { createLogger, createMetricsRegistry, runMain, startTelemetry } from '@magasin/service-kit';
import { loadAuditConfig, SERVICE } from './config.ts';
import { runAudit } from './service.ts';

startTelemetry({ serviceName: SERVICE });
runMain(async () => {
  const config = loadAuditConfig();
  const logger = createLogger(SERVICE, { level: config.LOG_LEVEL });
  await runAudit({ config, logger, registry: createMetricsRegistry(SERVICE) });
});
