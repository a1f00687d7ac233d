import type { DashboardSpec } from './grafana.ts';
import { quantile, ratio, sumRate } from './promql.ts';

/** Events from the log to every consumer: publishing, consuming, lag, dead letters. */
export const eventFlow: DashboardSpec = {
  uid: 'magasin-event-flow',
  title: 'Magasin / Event flow',
  description:
    'Events from the log through RabbitMQ to every consumer: rates, failures, handler time, lag, DLQs.',
  rows: [
    {
      title: 'Overview',
      panels: [
        {
          title: 'Targets up',
          description: 'One per scrape job (service or RabbitMQ): 1 when every replica answers /metrics.',
          kind: 'stat',
          queries: [{ expr: 'min by (job) (up)', legend: '{{job}}' }],
          width: 24,
          redBelow: 1,
        },
        {
          title: 'Events appended',
          description: 'Events committed to the log per second.',
          kind: 'stat',
          unit: 'ops',
          queries: [{ expr: sumRate('magasin_eventstore_events_appended_total') }],
          width: 6,
        },
        {
          title: 'Relay lag',
          description: 'Committed events not yet confirmed by RabbitMQ.',
          kind: 'stat',
          queries: [{ expr: 'max(magasin_eventstore_relay_lag)' }],
          width: 6,
          redFrom: 100,
        },
        {
          title: 'Parked messages',
          description: 'Messages in every dead-letter queue (npm run dlq -- list <service>).',
          kind: 'stat',
          queries: [{ expr: 'sum(max by (queue) (magasin_dlq_depth))' }],
          width: 6,
          redFrom: 1,
        },
        {
          title: 'Active sagas',
          description: 'Sagas running or compensating.',
          kind: 'stat',
          queries: [{ expr: 'sum(magasin_sagas_active)' }],
          width: 6,
        },
      ],
    },
    {
      title: 'Publishing',
      panels: [
        {
          title: 'Events appended by type',
          description: 'Events committed to the log per second, by event type.',
          unit: 'ops',
          queries: [
            { expr: sumRate('magasin_eventstore_events_appended_total', ['type']), legend: '{{type}}' },
          ],
        },
        {
          title: 'Publications by service and outcome',
          description:
            'Messages published per second (ok: confirmed by the broker; failed: refused or unconfirmed).',
          unit: 'ops',
          queries: [
            {
              expr: sumRate('magasin_messages_published_total', ['service', 'outcome']),
              legend: '{{service}} {{outcome}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Consuming',
      panels: [
        {
          title: 'Consumed by service and outcome',
          description: 'Messages handled per second: ok, duplicate (inbox), retried, parked.',
          unit: 'ops',
          queries: [
            {
              expr: sumRate('magasin_messages_consumed_total', ['service', 'outcome']),
              legend: '{{service}} {{outcome}}',
            },
          ],
        },
        {
          title: 'Consume failure ratio',
          description: 'Share of consumed messages retried or parked (alert above 10% for 10 minutes).',
          unit: 'percentunit',
          queries: [
            {
              expr: ratio(
                sumRate('magasin_messages_consumed_total', ['service'], '{outcome=~"retried|parked"}'),
                sumRate('magasin_messages_consumed_total', ['service']),
              ),
              legend: '{{service}}',
            },
          ],
        },
        {
          title: 'Handler p95 by service',
          description: '95th percentile of handler time, inbox transaction included (alert above 500 ms).',
          unit: 's',
          queries: [
            { expr: quantile(0.95, 'magasin_handler_duration_seconds', ['service']), legend: '{{service}}' },
          ],
        },
        {
          title: 'Handler p95 by message type',
          description: '95th percentile of handler time per event or command type.',
          unit: 's',
          queries: [
            { expr: quantile(0.95, 'magasin_handler_duration_seconds', ['type']), legend: '{{type}}' },
          ],
        },
      ],
    },
    {
      title: 'Lag and dead letters',
      panels: [
        {
          title: 'Relay lag',
          description: 'Positions committed but not yet confirmed by RabbitMQ, per event store replica.',
          queries: [{ expr: 'max by (instance) (magasin_eventstore_relay_lag)', legend: '{{instance}}' }],
        },
        {
          title: 'Projection lag',
          description: 'Events between the head of the log and each read model.',
          queries: [
            {
              expr: 'scalar(max(magasin_eventstore_head_position)) - max by (projection) (magasin_projection_position)',
              legend: '{{projection}}',
            },
          ],
        },
        {
          title: 'Parked messages by queue',
          description: 'Depth of each dead-letter queue.',
          queries: [{ expr: 'max by (queue) (magasin_dlq_depth)', legend: '{{queue}}' }],
        },
        {
          title: 'Projection failures',
          description: 'Pages of the log that failed to apply to a read model (retried with backoff).',
          unit: 'ops',
          queries: [
            { expr: sumRate('magasin_projection_failures_total', ['projection']), legend: '{{projection}}' },
          ],
        },
      ],
    },
  ],
};
