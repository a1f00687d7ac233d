import type { DashboardSpec } from './grafana.ts';
import { quantile, ratio, sumRate } from './promql.ts';

const PAYMENTS = '{type=~"PaymentCaptured|PaymentDeclined"}';

/** Order and return sagas: outcomes, duration, compensations, payments. */
export const sagas: DashboardSpec = {
  uid: 'magasin-sagas',
  title: 'Magasin / Sagas',
  description: 'Order and return sagas: started, completed, compensated, timed out; duration; payments.',
  rows: [
    {
      title: 'Overview',
      panels: [
        {
          title: 'Sagas started',
          description: 'Sagas started per second.',
          kind: 'stat',
          unit: 'ops',
          queries: [{ expr: sumRate('magasin_sagas_started_total') }],
          width: 6,
        },
        {
          title: 'Active sagas',
          description: 'Sagas running or compensating, by kind.',
          kind: 'stat',
          queries: [{ expr: 'sum by (kind) (magasin_sagas_active)', legend: '{{kind}}' }],
          width: 6,
        },
        {
          title: 'Compensated (1 h)',
          description: 'Share of the sagas started in the last hour that ended compensated.',
          kind: 'stat',
          unit: 'percentunit',
          queries: [
            {
              expr: ratio(
                'sum(increase(magasin_sagas_compensated_total[1h]))',
                'sum(increase(magasin_sagas_started_total[1h]))',
              ),
            },
          ],
          width: 6,
          redFrom: 0.25,
        },
        {
          title: 'Timed out (1 h)',
          description: 'Share of the sagas started in the last hour that timed out.',
          kind: 'stat',
          unit: 'percentunit',
          queries: [
            {
              expr: ratio(
                'sum(increase(magasin_sagas_timed_out_total[1h]))',
                'sum(increase(magasin_sagas_started_total[1h]))',
              ),
            },
          ],
          width: 6,
          redFrom: 0.05,
        },
      ],
    },
    {
      title: 'Outcomes',
      panels: [
        {
          title: 'Sagas started by kind',
          description: 'Sagas started per second.',
          unit: 'ops',
          queries: [{ expr: sumRate('magasin_sagas_started_total', ['kind']), legend: '{{kind}}' }],
        },
        {
          title: 'Sagas ended by outcome',
          description: 'Sagas that ended per second: completed, compensated (cancelled), timed out.',
          unit: 'ops',
          queries: [
            { expr: sumRate('magasin_sagas_completed_total', ['kind']), legend: '{{kind}} completed' },
            { expr: sumRate('magasin_sagas_compensated_total', ['kind']), legend: '{{kind}} compensated' },
            { expr: sumRate('magasin_sagas_timed_out_total', ['kind']), legend: '{{kind}} timed out' },
          ],
        },
        {
          title: 'Failure and timeout ratios',
          description: 'Compensated and timed-out sagas over started ones (alerts: 25% and 5%).',
          unit: 'percentunit',
          queries: [
            {
              expr: ratio(
                sumRate('magasin_sagas_compensated_total', ['kind']),
                sumRate('magasin_sagas_started_total', ['kind']),
              ),
              legend: '{{kind}} compensated',
            },
            {
              expr: ratio(
                sumRate('magasin_sagas_timed_out_total', ['kind']),
                sumRate('magasin_sagas_started_total', ['kind']),
              ),
              legend: '{{kind}} timed out',
            },
          ],
        },
        {
          title: 'Active sagas',
          description: 'Sagas running or compensating, from the saga read model.',
          queries: [{ expr: 'sum by (kind) (magasin_sagas_active)', legend: '{{kind}}' }],
        },
      ],
    },
    {
      title: 'Duration',
      panels: [
        {
          title: 'Completed saga duration',
          description: 'Time from start to completion, median and 95th percentile, by kind.',
          unit: 's',
          queries: [
            {
              expr: quantile(0.5, 'magasin_saga_duration_seconds', ['kind'], '{status="COMPLETED"}'),
              legend: '{{kind}} p50',
            },
            {
              expr: quantile(0.95, 'magasin_saga_duration_seconds', ['kind'], '{status="COMPLETED"}'),
              legend: '{{kind}} p95',
            },
          ],
        },
        {
          title: 'Saga duration p95 by final status',
          description: 'Time from start to end by how the saga ended.',
          unit: 's',
          queries: [
            { expr: quantile(0.95, 'magasin_saga_duration_seconds', ['status']), legend: '{{status}}' },
          ],
        },
      ],
    },
    {
      title: 'Orchestration',
      panels: [
        {
          title: 'Compensations requested by reason',
          description:
            'Compensating commands the orchestrator sent (timeouts, late captures, late reservations).',
          unit: 'ops',
          queries: [
            { expr: sumRate('magasin_saga_compensations_requested_total', ['reason']), legend: '{{reason}}' },
          ],
        },
        {
          title: 'Step retries by step',
          description: 'Orchestrated steps sent again after their deadline.',
          unit: 'ops',
          queries: [{ expr: sumRate('magasin_saga_step_retries_total', ['step']), legend: '{{step}}' }],
        },
      ],
    },
    {
      title: 'Payments',
      panels: [
        {
          title: 'Payments by outcome',
          description: 'Payments captured, declined and refunded per second (events in the log).',
          unit: 'ops',
          queries: [
            {
              expr: sumRate(
                'magasin_eventstore_events_appended_total',
                ['type'],
                '{type=~"PaymentCaptured|PaymentDeclined|PaymentRefunded"}',
              ),
              legend: '{{type}}',
            },
          ],
        },
        {
          title: 'Decline ratio',
          description:
            'Declined over captured and declined payments (alert above 30% with at least 5 declines).',
          unit: 'percentunit',
          queries: [
            {
              expr: ratio(
                sumRate('magasin_eventstore_events_appended_total', [], '{type="PaymentDeclined"}'),
                sumRate('magasin_eventstore_events_appended_total', [], PAYMENTS),
              ),
              legend: 'declined',
            },
          ],
        },
      ],
    },
  ],
};
