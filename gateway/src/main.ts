/** The gateway: wiring only (see server.ts). */
import { createLogger, createMetricsRegistry, runMain, startTelemetry } from '@magasin/service-kit';
import { loadGatewayConfig } from './config.ts';
import { startGateway } from './server.ts';

startTelemetry({ serviceName: 'gateway' });
runMain(async () => {
  const config = loadGatewayConfig();
  const logger = createLogger('gateway', { level: config.logLevel });
  await startGateway({ config, logger, registry: createMetricsRegistry('gateway') });
});
