/** The Grafana dashboards and their provisioning, as docker-compose mounts them. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DASHBOARDS_DIR, renderDashboards } from '../src/dashboards/index.ts';
import { OBSERVABILITY_DIR } from '../src/prometheus-config.ts';

const PROVISIONING = join(OBSERVABILITY_DIR, 'grafana', 'provisioning');
const compose = parse(readFileSync(join(OBSERVABILITY_DIR, '..', 'docker-compose.yml'), 'utf8'), {
  merge: true,
}) as {
  services: Record<string, { volumes?: string[] }>;
};

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Array<{ expr: string; datasource?: { uid: string } }>;
}

const written = () =>
  readdirSync(DASHBOARDS_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) }));

describe('Grafana dashboards', () => {
  it('are the rendering of their definitions (npm run dashboards -w @magasin/observability)', () => {
    const rendered = renderDashboards();
    expect(written().map(({ file }) => file)).toEqual(rendered.map(({ file }) => file).sort());
    for (const { file, json } of rendered) {
      expect(JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')), file).toEqual(JSON.parse(json));
    }
  });

  it('cover the event flow, sagas, the gateway, the event store and RabbitMQ', () => {
    expect(written().map(({ dashboard }) => dashboard.title)).toEqual(
      expect.arrayContaining([
        'Magasin / Event flow',
        'Magasin / Sagas',
        'Magasin / Gateway',
        'Magasin / Event store',
        'Magasin / RabbitMQ',
      ]),
    );
  });

  it('query only the provisioned Prometheus datasource, with panels inside the grid', () => {
    const datasources = parse(readFileSync(join(PROVISIONING, 'datasources', 'magasin.yml'), 'utf8')) as {
      datasources: Array<{ uid: string; type: string; url: string }>;
    };
    const prometheus = datasources.datasources.find((datasource) => datasource.type === 'prometheus');
    expect(prometheus?.url).toBe('http://prometheus:9090');
    for (const { file, dashboard } of written()) {
      const panels = dashboard.panels as Panel[];
      expect(new Set(panels.map((panel) => panel.id)).size, file).toBe(panels.length);
      for (const panel of panels.filter((candidate) => candidate.type !== 'row')) {
        expect(panel.datasource?.uid, `${file}: ${panel.title}`).toBe(prometheus?.uid);
        expect(panel.targets?.length, `${file}: ${panel.title}`).toBeGreaterThan(0);
        expect(panel.gridPos.x + panel.gridPos.w, `${file}: ${panel.title}`).toBeLessThanOrEqual(24);
      }
    }
  });

  it('are provisioned from the folder docker-compose mounts into Grafana', () => {
    const providers = parse(readFileSync(join(PROVISIONING, 'dashboards', 'magasin.yml'), 'utf8')) as {
      providers: Array<{ options: { path: string } }>;
    };
    const path = providers.providers[0]?.options.path;
    expect(compose.services.grafana?.volumes).toEqual(
      expect.arrayContaining([
        `./observability/grafana/dashboards:${path}:ro`,
        './observability/grafana/provisioning:/etc/grafana/provisioning:ro',
      ]),
    );
  });
});
