/** Magasin's Grafana dashboards, rendered to grafana/dashboards/<uid>.json (`npm run dashboards -w @magasin/observability`). */
import { join } from 'node:path';
import { OBSERVABILITY_DIR } from '../prometheus-config.ts';
import { eventFlow } from './event-flow.ts';
import { eventStore } from './event-store.ts';
import { gateway } from './gateway.ts';
import { type DashboardSpec, renderDashboard } from './grafana.ts';
import { rabbitmq } from './rabbitmq.ts';
import { sagas } from './sagas.ts';

export { dashboardExpressions, PROMETHEUS_DATASOURCE } from './grafana.ts';

/** Where Grafana's provider reads the dashboards from (mounted in docker-compose). */
export const DASHBOARDS_DIR = join(OBSERVABILITY_DIR, 'grafana', 'dashboards');

/** Every dashboard: event flow, sagas, gateway, event store, RabbitMQ. */
export const DASHBOARDS: readonly DashboardSpec[] = [eventFlow, sagas, gateway, eventStore, rabbitmq];

/** File name (in DASHBOARDS_DIR) and JSON text of every dashboard. */
export const renderDashboards = (): Array<{ file: string; json: string }> =>
  DASHBOARDS.map((spec) => ({
    file: `${spec.uid}.json`,
    json: `${JSON.stringify(renderDashboard(spec), null, 2)}\n`,
  }));
