/**
 * Grafana dashboards as data: a dashboard is rows of panels, a panel is PromQL queries with a
 * unit. `renderDashboard` lays them out on Grafana's 24-column grid and writes the JSON model
 * Grafana provisions (schema 39, Grafana 10 and 11).
 */

/** The Prometheus datasource provisioned by grafana/provisioning/datasources. */
export const PROMETHEUS_DATASOURCE = { type: 'prometheus', uid: 'prometheus' } as const;

/** One PromQL query of a panel; `legend` is Grafana's legend format (`{{service}}`). */
export interface Query {
  expr: string;
  legend?: string;
}

/** A panel: a time series (default) or a stat showing the last value of each series. */
export interface PanelSpec {
  title: string;
  /** Shown in the panel's (i) tooltip: what to read in it. */
  description: string;
  kind?: 'timeseries' | 'stat';
  /** Grafana unit: `s`, `ops`, `percentunit`, `bytes`, `short`... Default `short`. */
  unit?: string;
  queries: Query[];
  /** Columns out of 24; default 12 for a time series, 4 for a stat. */
  width?: number;
  /** Stat only: the value from which it turns red (default: never). */
  redFrom?: number;
  /** Stat only: red below this value instead (services up). */
  redBelow?: number;
}

export interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  rows: RowSpec[];
}

const HEIGHT = { timeseries: 8, stat: 4 } as const;

const refId = (index: number): string => String.fromCharCode('A'.charCodeAt(0) + index);

const thresholds = (panel: PanelSpec) => {
  if (panel.redBelow !== undefined) {
    return {
      mode: 'absolute',
      steps: [
        { color: 'red', value: null },
        { color: 'green', value: panel.redBelow },
      ],
    };
  }
  return {
    mode: 'absolute',
    steps: [
      { color: 'green', value: null },
      ...(panel.redFrom === undefined ? [] : [{ color: 'red', value: panel.redFrom }]),
    ],
  };
};

const panelModel = (
  panel: PanelSpec,
  id: number,
  gridPos: { h: number; w: number; x: number; y: number },
) => {
  const kind = panel.kind ?? 'timeseries';
  const targets = panel.queries.map((query, index) => ({
    refId: refId(index),
    datasource: PROMETHEUS_DATASOURCE,
    expr: query.expr,
    legendFormat: query.legend ?? '__auto',
    ...(kind === 'stat' ? { instant: true, range: false } : { range: true }),
  }));
  const common = {
    id,
    type: kind,
    title: panel.title,
    description: panel.description,
    datasource: PROMETHEUS_DATASOURCE,
    gridPos,
    targets,
  };
  if (kind === 'stat') {
    return {
      ...common,
      fieldConfig: {
        defaults: { unit: panel.unit ?? 'short', thresholds: thresholds(panel) },
        overrides: [],
      },
      options: {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        colorMode: 'value',
        graphMode: 'none',
        textMode: 'auto',
        justifyMode: 'auto',
        orientation: 'auto',
      },
    };
  }
  return {
    ...common,
    fieldConfig: {
      defaults: {
        unit: panel.unit ?? 'short',
        min: 0,
        custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never', spanNulls: true },
      },
      overrides: [],
    },
    options: {
      legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  };
};

/** The JSON model of a dashboard. */
export const renderDashboard = (spec: DashboardSpec): Record<string, unknown> => {
  const panels: unknown[] = [];
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    panels.push({
      id,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    });
    id += 1;
    y += 1;
    let x = 0;
    let lineHeight = 0;
    for (const panel of row.panels) {
      const kind = panel.kind ?? 'timeseries';
      const w = panel.width ?? (kind === 'stat' ? 4 : 12);
      if (x + w > 24) {
        x = 0;
        y += lineHeight;
        lineHeight = 0;
      }
      const h = HEIGHT[kind];
      panels.push(panelModel(panel, id, { h, w, x, y }));
      id += 1;
      x += w;
      lineHeight = Math.max(lineHeight, h);
    }
    y += lineHeight;
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['magasin'],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    templating: { list: [] },
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    links: [
      {
        type: 'dashboards',
        tags: ['magasin'],
        asDropdown: true,
        title: 'Magasin',
        includeVars: false,
        keepTime: true,
      },
    ],
    panels,
  };
};

/** Every PromQL expression of a rendered dashboard (rows' nested panels included). */
export const dashboardExpressions = (dashboard: Record<string, unknown>): string[] => {
  const walk = (panels: unknown): string[] =>
    ((panels as Array<{ targets?: Array<{ expr?: string }>; panels?: unknown }>) ?? []).flatMap((panel) => [
      ...(panel.targets ?? []).flatMap((target) => (target.expr ? [target.expr] : [])),
      ...walk(panel.panels),
    ]);
  return walk(dashboard.panels);
};
