import type { DashboardSpec } from './grafana.ts';
import { quantile, ratio, sumRate } from './promql.ts';

const APPEND = 'magasin_eventstore_append_duration_seconds';
const HTTP = 'magasin_http_request_duration_seconds';

/** Appends, optimistic concurrency, the relay to RabbitMQ and the HTTP API of the event store. */
export const eventStore: DashboardSpec = {
  uid: 'magasin-event-store',
  title: 'Magasin / Event store',
  description: 'Appends and their latency, concurrency conflicts, the log head, the relay to RabbitMQ.',
  rows: [
    {
      title: 'Overview',
      panels: [
        {
          title: 'Appends',
          description: 'Append requests per second, every outcome.',
          kind: 'stat',
          unit: 'reqps',
          queries: [{ expr: sumRate(`${APPEND}_count`) }],
          width: 5,
        },
        {
          title: 'Append p95',
          description: '95th percentile from receiving an append to its commit.',
          kind: 'stat',
          unit: 's',
          queries: [{ expr: quantile(0.95, APPEND, [], '{outcome="appended"}') }],
          width: 5,
        },
        {
          title: 'Log head',
          description: 'Last committed global position.',
          kind: 'stat',
          queries: [{ expr: 'max(magasin_eventstore_head_position)' }],
          width: 5,
        },
        {
          title: 'Relay lag',
          description: 'Committed events not yet confirmed by RabbitMQ.',
          kind: 'stat',
          queries: [{ expr: 'max(magasin_eventstore_relay_lag)' }],
          width: 4,
          redFrom: 100,
        },
        {
          title: 'Conflict ratio',
          description: 'Share of appends refused for a wrong expected version.',
          kind: 'stat',
          unit: 'percentunit',
          queries: [
            {
              expr: ratio(
                sumRate('magasin_eventstore_concurrency_conflicts_total'),
                sumRate(`${APPEND}_count`),
              ),
            },
          ],
          width: 5,
          redFrom: 0.1,
        },
      ],
    },
    {
      title: 'Appends',
      panels: [
        {
          title: 'Appends by outcome',
          description: 'Appended, conflict, duplicate (idempotent retry), idempotency_conflict, error.',
          unit: 'reqps',
          queries: [{ expr: sumRate(`${APPEND}_count`, ['outcome']), legend: '{{outcome}}' }],
        },
        {
          title: 'Append latency',
          description: 'Receiving to commit of successful appends (group commit included).',
          unit: 's',
          queries: [
            { expr: quantile(0.5, APPEND, [], '{outcome="appended"}'), legend: 'p50' },
            { expr: quantile(0.95, APPEND, [], '{outcome="appended"}'), legend: 'p95' },
            { expr: quantile(0.99, APPEND, [], '{outcome="appended"}'), legend: 'p99' },
          ],
        },
        {
          title: 'Events appended by type',
          description: 'Events committed per second, by type.',
          unit: 'ops',
          queries: [
            { expr: sumRate('magasin_eventstore_events_appended_total', ['type']), legend: '{{type}}' },
          ],
        },
        {
          title: 'Concurrency conflicts',
          description: 'Appends refused for a wrong expected version, per second (each reloads and retries).',
          unit: 'ops',
          queries: [
            {
              expr: sumRate('magasin_eventstore_concurrency_conflicts_total', ['instance']),
              legend: '{{instance}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Relay',
      panels: [
        {
          title: 'Relay lag',
          description: 'Positions committed but not yet confirmed by RabbitMQ.',
          queries: [{ expr: 'max by (instance) (magasin_eventstore_relay_lag)', legend: '{{instance}}' }],
        },
        {
          title: 'Relay publications',
          description:
            'Events published by the relay per second, and failed publications (retried with backoff).',
          unit: 'ops',
          queries: [
            {
              expr: sumRate('magasin_messages_published_total', ['outcome'], '{service="event-store"}'),
              legend: 'published {{outcome}}',
            },
            { expr: sumRate('magasin_eventstore_publish_failures_total'), legend: 'relay failures' },
          ],
        },
        {
          title: 'Log head and read models',
          description: 'The head of the log and the position of every projection following it.',
          queries: [
            { expr: 'max(magasin_eventstore_head_position)', legend: 'head' },
            { expr: 'max by (projection) (magasin_projection_position)', legend: '{{projection}}' },
          ],
        },
      ],
    },
    {
      title: 'HTTP API',
      panels: [
        {
          title: 'Requests by route',
          description: 'Requests to the event store per second.',
          unit: 'reqps',
          queries: [
            {
              expr: sumRate(`${HTTP}_count`, ['method', 'route'], '{service="event-store"}'),
              legend: '{{method}} {{route}}',
            },
          ],
        },
        {
          title: 'p95 by route',
          description: '95th percentile of request time by route.',
          unit: 's',
          queries: [
            {
              expr: quantile(0.95, HTTP, ['method', 'route'], '{service="event-store"}'),
              legend: '{{method}} {{route}}',
            },
          ],
        },
      ],
    },
  ],
};
