import { describe, expect, it } from 'vitest';
import { metricNames, withGrafanaVariables } from '../src/promql.ts';

describe('metricNames', () => {
  it('finds the metrics of selectors, under functions and aggregations', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (service, le) (rate(magasin_handler_duration_seconds_bucket{service=~"a|b"}[5m])))',
      ),
    ).toEqual(['magasin_handler_duration_seconds_bucket']);
  });

  it('reads both sides of binary operators and skips matching clauses, keywords and literals', () => {
    expect(
      metricNames(
        'sum without (instance) (rate(a_total[5m] offset 1h)) / on (service) group_left (kind) b > bool 0.5 and on () c unless d or vector(1e3)',
      ),
    ).toEqual(['a_total', 'b', 'c', 'd']);
  });

  it('ignores label names, label values and strings, even when they look like metrics', () => {
    expect(
      metricNames('label_replace(up{job="magasin_fake_total"} == 0, "service", "$1", "job", "(.*)")'),
    ).toEqual(['up']);
    expect(metricNames('count(max by (magasin_label) (magasin_real))')).toEqual(['magasin_real']);
  });

  it('reads metric names given as __name__ matchers', () => {
    expect(metricNames('{__name__="magasin_dlq_depth", queue="x"}')).toEqual(['magasin_dlq_depth']);
  });

  it('skips aggregation operators written before their clause', () => {
    expect(metricNames('max by (queue) (magasin_dlq_depth) > 0')).toEqual(['magasin_dlq_depth']);
    expect(metricNames('topk by (type) (3, x)')).toEqual(['x']);
  });

  it('skips numbers, durations, Inf and NaN, and scalar() / time() calls', () => {
    expect(metricNames('time() - max(process_start_time_seconds) > 1800 or scalar(y) > Inf or NaN')).toEqual([
      'process_start_time_seconds',
      'y',
    ]);
  });
});

describe('withGrafanaVariables', () => {
  it('replaces interval variables by a duration and others by a match-anything regex', () => {
    expect(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${variable} syntax, not a template literal.
      withGrafanaVariables('rate(x{service=~"$service"}[$__rate_interval]) + rate(y[${__interval}])'),
    ).toBe('rate(x{service=~".*"}[5m]) + rate(y[5m])');
  });
});
