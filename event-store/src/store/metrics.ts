/** The event store's metrics (prefix `magasin_eventstore_`). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Metrics of appends and of the relay, registered once per registry. */
export interface EventStoreMetrics {
  appendDuration: Histogram<'outcome'>;
  eventsAppended: Counter<'type'>;
  concurrencyConflicts: Counter;
  relayLag: Gauge;
  publishFailures: Counter;
}

const cache = new WeakMap<Registry, EventStoreMetrics>();

const existing = <T>(registry: Registry, name: string): T | undefined =>
  registry.getSingleMetric(name) as T | undefined;

/** The event store metrics of `registry` (created on first use, shared afterwards). */
export const eventStoreMetrics = (registry: Registry): EventStoreMetrics => {
  const cached = cache.get(registry);
  if (cached) return cached;
  const registers = [registry];
  const metrics: EventStoreMetrics = {
    appendDuration:
      existing(registry, 'magasin_eventstore_append_duration_seconds') ??
      new Histogram({
        name: 'magasin_eventstore_append_duration_seconds',
        help: 'Time from receiving an append to its commit (or refusal), by outcome',
        labelNames: ['outcome'],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers,
      }),
    eventsAppended:
      existing(registry, 'magasin_eventstore_events_appended_total') ??
      new Counter({
        name: 'magasin_eventstore_events_appended_total',
        help: 'Events committed to the log, by type',
        labelNames: ['type'],
        registers,
      }),
    concurrencyConflicts:
      existing(registry, 'magasin_eventstore_concurrency_conflicts_total') ??
      new Counter({
        name: 'magasin_eventstore_concurrency_conflicts_total',
        help: 'Appends refused because the stream was not at the expected version',
        registers,
      }),
    relayLag:
      existing(registry, 'magasin_eventstore_relay_lag') ??
      new Gauge({
        name: 'magasin_eventstore_relay_lag',
        help: 'Positions committed but not yet confirmed by RabbitMQ',
        registers,
      }),
    publishFailures:
      existing(registry, 'magasin_eventstore_publish_failures_total') ??
      new Counter({
        name: 'magasin_eventstore_publish_failures_total',
        help: 'Relay publications that failed (retried with backoff)',
        registers,
      }),
  };
  cache.set(registry, metrics);
  return metrics;
};

/** Name of the gauge of the last committed position. */
export const HEAD_POSITION = 'magasin_eventstore_head_position';

/**
 * `magasin_eventstore_head_position`: the last committed global position, read from the log at
 * each scrape. Projection lag is this minus each projector's `magasin_projection_position`.
 * A failed read keeps the last value (a scrape never fails for it).
 */
export const registerHeadPosition = (registry: Registry, read: () => Promise<number>): void => {
  if (registry.getSingleMetric(HEAD_POSITION)) return;
  new Gauge({
    name: HEAD_POSITION,
    help: 'Last committed global position of the log (projection lag: this minus magasin_projection_position)',
    registers: [registry],
    async collect() {
      try {
        this.set(await read());
      } catch {
        // The database is unreachable: /readyz says so; the gauge keeps its last value.
      }
    },
  });
};
