/** The event store service: wiring only (see service.ts). */
import { createLogger, createMetricsRegistry, runMain, startTelemetry } from '@magasin/service-kit';
import { loadEventStoreConfig } from './config.ts';
import { runEventStore } from './service.ts';

startTelemetry({ serviceName: 'event-store' });
runMain(async () => {
  const config = loadEventStoreConfig();
  const logger = createLogger('event-store', { level: config.LOG_LEVEL });
  await runEventStore({ config, logger, registry: createMetricsRegistry('event-store') });
});
