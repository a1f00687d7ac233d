/** The inventory subgraph: wiring only (see service.ts). */
import { createLogger, createMetricsRegistry, runMain, startTelemetry } from '@magasin/service-kit';
import { loadInventoryConfig, SERVICE } from './config.ts';
import { runInventory } from './service.ts';

startTelemetry({ serviceName: SERVICE });
runMain(async () => {
  const config = loadInventoryConfig();
  const logger = createLogger(SERVICE, { level: config.LOG_LEVEL });
  await runInventory({ config, logger, registry: createMetricsRegistry(SERVICE) });
});
