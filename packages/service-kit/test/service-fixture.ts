/** Starts a service on an ephemeral port with a silent logger, for tests. */
import { Writable } from 'node:stream';
import {
  createLogger,
  createMetricsRegistry,
  type RunningService,
  type ServiceOptions,
  startService,
} from '../src/index.ts';

/** Log lines the service wrote, parsed. */
export type LogLines = Record<string, unknown>[];

/** A running test service with the log lines it wrote. */
export type TestService = RunningService & { logs: LogLines };

export const startTestService = async (options: Partial<ServiceOptions> = {}): Promise<TestService> => {
  const logs: LogLines = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      callback();
    },
  });
  const name = options.name ?? 'test-service';
  const service = await startService({
    name,
    port: 0,
    host: '127.0.0.1',
    logger: createLogger(name, { destination, level: 'debug' }),
    registry: createMetricsRegistry(name),
    readiness: [],
    handleSignals: false,
    ...options,
  });
  return Object.assign(service, { logs });
};
