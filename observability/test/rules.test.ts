/**
 * The Prometheus and Alertmanager configurations as promtool and amtool read them, and the
 * alert rules against their unit tests (prometheus/tests/*.test.yml).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { allExpressions, rules } from '../src/expressions.ts';
import {
  ALERTMANAGER_CONFIG,
  localPrometheusConfig,
  localTargets,
  OBSERVABILITY_DIR,
  PROMETHEUS_CONFIG,
} from '../src/prometheus-config.ts';
import { runTool } from './tools.ts';

const TESTS_DIR = join(OBSERVABILITY_DIR, 'prometheus', 'tests');
const testFiles = readdirSync(TESTS_DIR)
  .filter((file) => file.endsWith('.test.yml'))
  .sort();
const scratch = mkdtempSync(join(tmpdir(), 'magasin-promtool-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface UnitTests {
  tests: Array<{ name: string; alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
}

describe('Prometheus configuration', () => {
  it('passes promtool check config, rule files included', async () => {
    const result = await runTool('promtool', ['check', 'config', PROMETHEUS_CONFIG]);
    expect(result.output).toContain('SUCCESS');
    expect(result.code, result.output).toBe(0);
  });

  it('passes promtool check config once derived for services on this machine', async () => {
    const file = join(scratch, 'prometheus.yml');
    writeFileSync(file, localPrometheusConfig({ targets: localTargets(), alertmanager: '127.0.0.1:9093' }));
    const result = await runTool('promtool', ['check', 'config', file]);
    expect(result.code, result.output).toBe(0);
    const local = parse(readFileSync(file, 'utf8')) as {
      scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>;
    };
    expect(local.scrape_configs.flatMap((scrape) => scrape.static_configs[0]?.targets)).toContain(
      '127.0.0.1:4001',
    );
  });

  it('refuses to scrape a service prometheus.yml has no job for', () => {
    expect(() =>
      localPrometheusConfig({ targets: { unknown: '127.0.0.1:1' }, alertmanager: '127.0.0.1:9093' }),
    ).toThrow(/has no job for unknown/);
  });
});

describe('alert rules', () => {
  it('pass every promtool unit test', async () => {
    const result = await runTool('promtool', ['test', 'rules', ...testFiles], TESTS_DIR);
    expect(result.code, result.output).toBe(0);
    expect(result.output).not.toContain('FAILED');
  });

  it('each have a unit test that sees them fire and one that sees them stay quiet', () => {
    const cases = testFiles.flatMap((file) =>
      (parse(readFileSync(join(TESTS_DIR, file), 'utf8')) as UnitTests).tests.flatMap(
        (test) => test.alert_rule_test ?? [],
      ),
    );
    const alerts = rules().flatMap((rule) => (rule.alert ? [rule.alert] : []));
    expect(alerts.length).toBeGreaterThanOrEqual(14);
    for (const alert of alerts) {
      const own = cases.filter((check) => check.alertname === alert);
      expect(
        own.some((check) => (check.exp_alerts ?? []).length > 0),
        `${alert} is never seen firing`,
      ).toBe(true);
      expect(
        own.some((check) => (check.exp_alerts ?? []).length === 0),
        `${alert} is never seen quiet`,
      ).toBe(true);
    }
  });

  it('carry a severity Alertmanager routes on, and a summary', () => {
    for (const rule of rules()) {
      const full = rule as unknown as {
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
      };
      expect(['critical', 'warning'], rule.alert).toContain(full.labels?.severity);
      expect(full.annotations?.summary, rule.alert).toBeTruthy();
    }
  });
});

describe('every PromQL expression of the rules and the dashboards', () => {
  it('parses (promtool check rules over all of them)', async () => {
    const expressions = allExpressions();
    const file = join(scratch, 'expressions.rules.yml');
    writeFileSync(
      file,
      JSON.stringify({
        groups: [
          {
            name: 'every-expression',
            rules: expressions.map(({ expr }, index) => ({
              record: `magasin_check:expression_${index}`,
              expr,
            })),
          },
        ],
      }),
    );
    const result = await runTool('promtool', ['check', 'rules', '--lint=none', file]);
    // promtool names the failing rule by index: say which expression it is.
    const failed = [...result.output.matchAll(/expression_(\d+)/g)].map(
      (match) => expressions[Number(match[1])],
    );
    expect(result.code, `${result.output}\n${JSON.stringify(failed, null, 2)}`).toBe(0);
    expect(result.output).toContain(`SUCCESS: ${expressions.length} rules found`);
  });
});

describe('Alertmanager configuration', () => {
  it('passes amtool check-config', async () => {
    const result = await runTool('amtool', ['check-config', ALERTMANAGER_CONFIG]);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });

  it.each([
    ['critical', 'oncall'],
    ['warning', 'team'],
  ])('routes %s alerts to %s', async (severity, receiver) => {
    const result = await runTool('amtool', [
      'config',
      'routes',
      'test',
      `--config.file=${ALERTMANAGER_CONFIG}`,
      `severity=${severity}`,
      'alertname=MagasinRelayLagging',
      'service=event-store',
    ]);
    expect(result.code, result.output).toBe(0);
    expect(result.stdout.trim()).toBe(receiver);
  });
});
