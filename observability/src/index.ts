/**
 * @magasin/observability: Prometheus configuration derived for this machine, local Prometheus
 * and Alertmanager, the dashboards and every PromQL expression they and the rules evaluate.
 */
export { DASHBOARDS, DASHBOARDS_DIR, renderDashboards } from './dashboards/index.ts';
export {
  allExpressions,
  dashboardQueries,
  RULES_DIR,
  ruleExpressions,
  rules,
  type SourcedExpression,
} from './expressions.ts';
export {
  findBinary,
  type LocalObservability,
  LocalObservabilityError,
  type LocalObservabilityOptions,
  startLocalObservability,
} from './local-observability.ts';
export {
  ALERTMANAGER_CONFIG,
  type LocalPrometheusOptions,
  localPrometheusConfig,
  localTargets,
  OBSERVABILITY_DIR,
  PROMETHEUS_CONFIG,
  type ScrapeJob,
  scrapeJobs,
} from './prometheus-config.ts';
export { metricNames, withGrafanaVariables } from './promql.ts';
