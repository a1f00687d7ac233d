/**
 * Every PromQL expression Magasin's observability evaluates: the alert rules and the
 * dashboards' queries (Grafana variables replaced by values Prometheus accepts), each with
 * where it comes from, for the checks that they parse and read only exposed metrics.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DASHBOARDS_DIR, dashboardExpressions } from './dashboards/index.ts';
import { OBSERVABILITY_DIR } from './prometheus-config.ts';
import { withGrafanaVariables } from './promql.ts';

/** Folder of the alert rule files (`*.rules.yml`). */
export const RULES_DIR = join(OBSERVABILITY_DIR, 'prometheus', 'rules');

/** An expression and where it is written. */
export interface SourcedExpression {
  /** `rules/magasin.rules.yml: MagasinRelayLagging` or `dashboards/magasin-sagas.json: Decline ratio`. */
  source: string;
  expr: string;
}

interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ alert?: string; record?: string; expr: string }> }>;
}

/** Rule files of RULES_DIR, in name order. */
export const ruleFiles = (): string[] =>
  readdirSync(RULES_DIR)
    .filter((file) => file.endsWith('.rules.yml'))
    .sort()
    .map((file) => join(RULES_DIR, file));

/** Every rule of every rule file. */
export const rules = (): Array<{ file: string; alert?: string; record?: string; expr: string }> =>
  ruleFiles().flatMap((file) =>
    (parse(readFileSync(file, 'utf8')) as RuleFile).groups.flatMap((group) =>
      group.rules.map((rule) => ({ file, ...rule })),
    ),
  );

/** Expressions of the alert (and recording) rules. */
export const ruleExpressions = (): SourcedExpression[] =>
  rules().map((rule) => ({
    source: `rules/${rule.file.split('/').at(-1)}: ${rule.alert ?? rule.record}`,
    expr: rule.expr,
  }));

/** Expressions of the dashboards as written in grafana/dashboards, variables replaced. */
export const dashboardQueries = (): SourcedExpression[] =>
  readdirSync(DASHBOARDS_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .flatMap((file) => {
      const dashboard = JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as Record<
        string,
        unknown
      >;
      return dashboardExpressions(dashboard).map((expr) => ({
        source: `dashboards/${file}`,
        expr: withGrafanaVariables(expr),
      }));
    });

/** Every expression: rules, then dashboards. */
export const allExpressions = (): SourcedExpression[] => [...ruleExpressions(), ...dashboardQueries()];
