/** Prometheus metrics of messaging, registered once per registry (several instances may share one). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Outcome of a consumed message. */
export type ConsumeOutcome = 'ok' | 'retried' | 'parked' | 'duplicate';

/** The metrics a Messaging instance writes. */
export interface MessagingMetrics {
  published: Counter<'type' | 'outcome'>;
  consumed: Counter<'type' | 'outcome'>;
  handlerDuration: Histogram<'type'>;
  /** Register a probe reporting DLQ depths; it is polled on every scrape. Returns an unregister. */
  addDlqProbe(probe: () => Promise<Array<{ queue: string; depth: number }>>): () => void;
}

const cache = new WeakMap<Registry, MessagingMetrics>();

/**
 * `magasin_messages_published_total{type,outcome=ok|failed}`,
 * `magasin_messages_consumed_total{type,outcome=ok|retried|parked|duplicate}`,
 * `magasin_handler_duration_seconds{type}`, `magasin_dlq_depth{queue}` (read from the broker with
 * checkQueue on each scrape; a failed probe leaves the last value and is logged by the probe).
 */
export const messagingMetrics = (registry: Registry): MessagingMetrics => {
  const existing = cache.get(registry);
  if (existing) return existing;
  const probes = new Set<() => Promise<Array<{ queue: string; depth: number }>>>();
  const metrics: MessagingMetrics = {
    published: new Counter({
      name: 'magasin_messages_published_total',
      help: 'Messages published, by type and outcome (ok: confirmed by the broker, failed: rejected to the caller)',
      labelNames: ['type', 'outcome'],
      registers: [registry],
    }),
    consumed: new Counter({
      name: 'magasin_messages_consumed_total',
      help: 'Messages consumed, by type and outcome (ok, retried, parked, duplicate)',
      labelNames: ['type', 'outcome'],
      registers: [registry],
    }),
    handlerDuration: new Histogram({
      name: 'magasin_handler_duration_seconds',
      help: 'Duration of message handlers, inbox transaction included',
      labelNames: ['type'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    addDlqProbe(probe) {
      probes.add(probe);
      return () => probes.delete(probe);
    },
  };
  new Gauge({
    name: 'magasin_dlq_depth',
    help: 'Messages parked in a dead-letter queue',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      for (const probe of probes) {
        for (const { queue, depth } of await probe()) this.set({ queue }, depth);
      }
    },
  });
  cache.set(registry, metrics);
  return metrics;
};
