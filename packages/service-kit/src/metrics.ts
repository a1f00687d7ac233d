/**
 * Prometheus metrics with prom-client: one registry per service, default Node metrics, and
 * the default label `service` on every series.
 */
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** A prom-client Registry with default Node metrics and default label `{ service }`. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Name of the HTTP request duration histogram every service exposes. */
export const HTTP_REQUEST_DURATION = 'magasin_http_request_duration_seconds';

/** The HTTP request duration histogram of `registry`, registered on first use. */
export function httpRequestDuration(registry: Registry): Histogram<'method' | 'route' | 'status'> {
  const existing = registry.getSingleMetric(HTTP_REQUEST_DURATION);
  if (existing) return existing as Histogram<'method' | 'route' | 'status'>;
  return new Histogram({
    name: HTTP_REQUEST_DURATION,
    help: 'Duration of HTTP requests served, by method, matched route and status code.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
}
