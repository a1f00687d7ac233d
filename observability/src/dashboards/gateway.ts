import type { DashboardSpec } from './grafana.ts';
import { quantile, ratio, sumRate } from './promql.ts';

const GRAPHQL = 'magasin_graphql_request_duration_seconds';
const HTTP = 'magasin_http_request_duration_seconds';

/** The gateway's GraphQL operations and subscriptions, and the HTTP side of every service. */
export const gateway: DashboardSpec = {
  uid: 'magasin-gateway',
  title: 'Magasin / Gateway',
  description: 'GraphQL operations through the gateway, subscriptions, and HTTP of every service.',
  rows: [
    {
      title: 'Overview',
      panels: [
        {
          title: 'Gateway replicas up',
          description: 'Gateway replicas Prometheus scrapes successfully.',
          kind: 'stat',
          queries: [{ expr: 'sum(up{job="gateway"})' }],
          redBelow: 1,
        },
        {
          title: 'Operations',
          description: 'GraphQL operations served per second.',
          kind: 'stat',
          unit: 'ops',
          queries: [{ expr: sumRate('magasin_graphql_operations_total') }],
        },
        {
          title: 'Error ratio',
          description: 'Share of operations answered with errors (refusals and business errors included).',
          kind: 'stat',
          unit: 'percentunit',
          queries: [
            {
              expr: ratio(
                sumRate('magasin_graphql_operations_total', [], '{outcome="error"}'),
                sumRate('magasin_graphql_operations_total'),
              ),
            },
          ],
          redFrom: 0.1,
        },
        {
          title: 'p95',
          description: '95th percentile of GraphQL operation time (alert above 2 s).',
          kind: 'stat',
          unit: 's',
          queries: [{ expr: quantile(0.95, GRAPHQL) }],
          redFrom: 2,
        },
        {
          title: 'WebSocket connections',
          description: 'GraphQL WebSocket connections open on every replica.',
          kind: 'stat',
          queries: [{ expr: 'sum(magasin_gateway_websocket_connections)' }],
        },
        {
          title: 'Subscriptions',
          description: 'Client subscriptions active on every replica.',
          kind: 'stat',
          queries: [{ expr: 'sum(magasin_gateway_subscriptions_active)' }],
        },
      ],
    },
    {
      title: 'GraphQL operations',
      panels: [
        {
          title: 'Operations by type and outcome',
          description: 'Queries and mutations per second, ok or with errors.',
          unit: 'ops',
          queries: [
            {
              expr: sumRate('magasin_graphql_operations_total', ['type', 'outcome']),
              legend: '{{type}} {{outcome}}',
            },
          ],
        },
        {
          title: 'Error ratio by type',
          description: 'Share of operations answered with errors.',
          unit: 'percentunit',
          queries: [
            {
              expr: ratio(
                sumRate('magasin_graphql_operations_total', ['type'], '{outcome="error"}'),
                sumRate('magasin_graphql_operations_total', ['type']),
              ),
              legend: '{{type}}',
            },
          ],
        },
        {
          title: 'Latency',
          description: 'Median, 95th and 99th percentiles of operation time.',
          unit: 's',
          queries: [
            { expr: quantile(0.5, GRAPHQL), legend: 'p50' },
            { expr: quantile(0.95, GRAPHQL), legend: 'p95' },
            { expr: quantile(0.99, GRAPHQL), legend: 'p99' },
          ],
        },
        {
          title: 'p95 by operation',
          description: 'Slowest operations by name (anonymous ones share one label).',
          unit: 's',
          queries: [{ expr: quantile(0.95, GRAPHQL, ['operation']), legend: '{{operation}}' }],
        },
      ],
    },
    {
      title: 'Subscriptions',
      panels: [
        {
          title: 'WebSocket connections by replica',
          description: 'Connections open on each gateway replica.',
          queries: [
            { expr: 'sum by (instance) (magasin_gateway_websocket_connections)', legend: '{{instance}}' },
          ],
        },
        {
          title: 'Client and upstream subscriptions',
          description:
            'Client subscriptions, and the shared subscriptions the gateway holds on subgraphs for them.',
          queries: [
            { expr: 'sum(magasin_gateway_subscriptions_active)', legend: 'clients' },
            { expr: 'sum(magasin_gateway_upstream_subscriptions)', legend: 'upstream' },
          ],
        },
      ],
    },
    {
      title: 'HTTP of every service',
      panels: [
        {
          title: 'Requests by service',
          description: 'HTTP requests served per second (gateway, subgraphs, event store).',
          unit: 'reqps',
          queries: [{ expr: sumRate(`${HTTP}_count`, ['service']), legend: '{{service}}' }],
        },
        {
          title: 'HTTP p95 by service',
          description: '95th percentile of request time.',
          unit: 's',
          queries: [{ expr: quantile(0.95, HTTP, ['service']), legend: '{{service}}' }],
        },
        {
          title: 'Server errors by service and route',
          description: 'Requests answered 5xx per second.',
          unit: 'reqps',
          queries: [
            {
              expr: sumRate(`${HTTP}_count`, ['service', 'route'], '{status=~"5.."}'),
              legend: '{{service}} {{route}}',
            },
          ],
        },
        {
          title: 'Subgraph batch sizes (p95)',
          description:
            'Entities resolved per DataLoader batch: how well reference resolvers batch the gateway fetches.',
          queries: [
            { expr: quantile(0.95, 'magasin_store_order_batch_size'), legend: 'store orders' },
            { expr: quantile(0.95, 'magasin_inventory_product_batch_size'), legend: 'inventory products' },
          ],
        },
        {
          title: 'Event loop lag p99 by service',
          description: 'Node.js event loop delay: CPU-bound work blocks every request of the process.',
          unit: 's',
          queries: [{ expr: 'max by (service) (nodejs_eventloop_lag_p99_seconds)', legend: '{{service}}' }],
        },
        {
          title: 'Memory by service',
          description: 'Resident memory, summed over replicas.',
          unit: 'bytes',
          queries: [{ expr: 'sum by (service) (process_resident_memory_bytes)', legend: '{{service}}' }],
        },
        {
          title: 'CPU by service',
          description: 'CPU cores used, summed over replicas.',
          queries: [{ expr: sumRate('process_cpu_seconds_total', ['service']), legend: '{{service}}' }],
        },
      ],
    },
  ],
};
