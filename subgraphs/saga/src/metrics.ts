/**
 * Saga metrics (prefix `magasin_`). Counters and the duration histogram count what this replica
 * decided (each saga event is appended by exactly one replica, so sums across replicas are
 * right); active sagas are read from the shared read model at each scrape.
 */
import type { RecordedEvent } from '@magasin/event-store/client';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { SagaState } from './domain/saga.ts';
import type { SagaPrisma } from './projections/index.ts';

/** The saga metrics of a registry. */
export interface SagaMetrics {
  /** Counts the saga events a replica appended (and observes the duration of ended sagas). */
  recordAppended(events: readonly RecordedEvent[], state: SagaState): void;
}

/** Registers the saga metrics on `registry`. */
export const sagaMetrics = (registry: Registry, prisma: SagaPrisma): SagaMetrics => {
  const started = new Counter({
    name: 'magasin_sagas_started_total',
    help: 'Sagas started, by kind (ORDER, RETURN)',
    labelNames: ['kind'],
    registers: [registry],
  });
  const completed = new Counter({
    name: 'magasin_sagas_completed_total',
    help: 'Sagas that ended COMPLETED, by kind',
    labelNames: ['kind'],
    registers: [registry],
  });
  const compensated = new Counter({
    name: 'magasin_sagas_compensated_total',
    help: 'Sagas that ended CANCELLED: compensated by the services (stock released, order cancelled)',
    labelNames: ['kind'],
    registers: [registry],
  });
  const timedOut = new Counter({
    name: 'magasin_sagas_timed_out_total',
    help: 'Sagas that ended TIMED_OUT: a step passed its deadline (order sagas are compensated by command)',
    labelNames: ['kind'],
    registers: [registry],
  });
  const compensations = new Counter({
    name: 'magasin_saga_compensations_requested_total',
    help: 'Compensating commands requested by the orchestrator, by reason (SAGA_TIMED_OUT, LATE_PAYMENT_CAPTURED, LATE_STOCK_RESERVED)',
    labelNames: ['reason'],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'magasin_saga_step_retries_total',
    help: 'Orchestrated steps sent again after their deadline, by step',
    labelNames: ['step'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'magasin_saga_duration_seconds',
    help: 'Time from the start of a saga to its end, by kind and final status',
    labelNames: ['kind', 'status'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  new Gauge({
    name: 'magasin_sagas_active',
    help: 'Sagas RUNNING or COMPENSATING, by kind (from the read model)',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      const rows = await prisma.$queryRaw<{ kind: string; count: bigint }[]>`
        SELECT kind, count(*) AS count FROM sagas WHERE status IN ('RUNNING', 'COMPENSATING') GROUP BY kind`;
      this.reset();
      for (const kind of ['ORDER', 'RETURN']) {
        this.set({ kind }, Number(rows.find((row) => row.kind === kind)?.count ?? 0));
      }
    },
  });

  return {
    recordAppended: (events, state) => {
      for (const event of events) {
        const data = event.data as { kind?: string; status?: string; reason?: string; step?: string };
        switch (event.type) {
          case 'SagaStarted':
            started.inc({ kind: data.kind });
            break;
          case 'SagaCompleted': {
            const labels = { kind: data.kind };
            if (data.status === 'COMPLETED') completed.inc(labels);
            else if (data.status === 'CANCELLED') compensated.inc(labels);
            else timedOut.inc(labels);
            if (state.status !== 'none' && state.startedAt) {
              const seconds = (Date.parse(event.occurredAt) - Date.parse(state.startedAt)) / 1000;
              duration.observe({ kind: data.kind, status: data.status }, Math.max(0, seconds));
            }
            break;
          }
          case 'SagaCompensationRequested':
            compensations.inc({ reason: data.reason });
            break;
          case 'SagaStepRetried':
            retries.inc({ step: data.step });
            break;
          default:
            break;
        }
      }
    },
  };
};
