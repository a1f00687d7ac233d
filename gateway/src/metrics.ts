/** The gateway's Prometheus metrics (prefix `magasin_`), beside the service kit's HTTP ones. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Distinct operation names labelled; later ones are counted as `other` (clients choose names). */
const MAX_OPERATION_LABELS = 200;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** What the gateway records. */
export interface GatewayMetrics {
  /** One GraphQL operation served: its name, type (query, mutation, subscription), outcome and duration. */
  observeOperation(name: string | undefined, type: string, outcome: 'ok' | 'error', seconds: number): void;
  /** WebSocket connections open (delta). */
  connections(delta: number): void;
  /** Client subscriptions active (delta). */
  subscriptions(delta: number): void;
  /** Shared subscriptions open on subgraphs (absolute). */
  upstreamSubscriptions(count: number): void;
  /** A subgraph query answered by an identical request already in flight. */
  deduplicated(subgraph: string): void;
}

/** Registers the gateway's metrics on `registry`. */
export const createGatewayMetrics = (registry: Registry): GatewayMetrics => {
  const duration = new Histogram({
    name: 'magasin_graphql_request_duration_seconds',
    help: 'Duration of GraphQL operations served by the gateway, by operation name, type and outcome.',
    labelNames: ['operation', 'type', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const operations = new Counter({
    name: 'magasin_graphql_operations_total',
    help: 'GraphQL operations served by the gateway, by type and outcome.',
    labelNames: ['type', 'outcome'],
    registers: [registry],
  });
  const connections = new Gauge({
    name: 'magasin_gateway_websocket_connections',
    help: 'GraphQL WebSocket connections open on the gateway.',
    registers: [registry],
  });
  const subscriptions = new Gauge({
    name: 'magasin_gateway_subscriptions_active',
    help: 'Client subscriptions active on the gateway.',
    registers: [registry],
  });
  const upstream = new Gauge({
    name: 'magasin_gateway_upstream_subscriptions',
    help: 'Subscriptions the gateway holds on subgraphs (shared by the clients of one operation).',
    registers: [registry],
  });
  const deduplicated = new Counter({
    name: 'magasin_gateway_subgraph_requests_deduplicated_total',
    help: 'Subgraph queries answered by an identical request of the same user already in flight, by subgraph.',
    labelNames: ['subgraph'],
    registers: [registry],
  });
  const labelled = new Set<string>();
  const operationLabel = (name: string | undefined): string => {
    if (!name || !OPERATION_NAME.test(name)) return 'anonymous';
    if (labelled.has(name)) return name;
    if (labelled.size >= MAX_OPERATION_LABELS) return 'other';
    labelled.add(name);
    return name;
  };
  return {
    observeOperation(name, type, outcome, seconds) {
      duration.observe({ operation: operationLabel(name), type, outcome }, seconds);
      operations.inc({ type, outcome });
    },
    connections: (delta) => connections.inc(delta),
    subscriptions: (delta) => subscriptions.inc(delta),
    upstreamSubscriptions: (count) => upstream.set(count),
    deduplicated: (subgraph) => deduplicated.inc({ subgraph }),
  };
};
