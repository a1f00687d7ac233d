/** Small PromQL builders shared by the dashboards (Grafana's `$__rate_interval` as the window). */

/** `rate(<metric><selector>[$__rate_interval])`. */
export const rate = (metric: string, selector = ''): string => `rate(${metric}${selector}[$__rate_interval])`;

/** `sum by (<by>) (rate(...))`, or `sum(rate(...))` without labels. */
export const sumRate = (metric: string, by: string[] = [], selector = ''): string =>
  `sum${by.length > 0 ? ` by (${by.join(', ')})` : ''} (${rate(metric, selector)})`;

/** The `q` quantile of histogram `metric` (its `_bucket` series), per `by`. */
export const quantile = (q: number, metric: string, by: string[] = [], selector = ''): string =>
  `histogram_quantile(${q}, ${sumRate(`${metric}_bucket`, [...by, 'le'], selector)})`;

/** `numerator / denominator`, the denominator filtered with `> 0` so an idle system shows no ratio. */
export const ratio = (numerator: string, denominator: string): string =>
  `${numerator} / (${denominator} > 0)`;
