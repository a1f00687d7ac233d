/**
 * Reads a service's `/metrics` (Prometheus text format) and compares two readings: the
 * increase of a counter, and count, mean and approximate quantiles of a histogram's
 * observations between them (interpolated within buckets, as Prometheus' histogram_quantile).
 */

/** One sample: metric name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (comments and blank lines skipped). */
export const parseMetrics = (text: string): Sample[] => {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[label[1] as string] = (label[2] as string).replace(/\\(.)/g, '$1');
    }
    const value = match[3] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[3]);
    samples.push({ name: match[1] as string, labels, value });
  }
  return samples;
};

/** The samples of a service's `/metrics` (empty when it does not answer). */
export const scrape = async (baseUrl: string): Promise<Sample[]> => {
  try {
    const response = await fetch(new URL('/metrics', baseUrl));
    return response.ok ? parseMetrics(await response.text()) : [];
  } catch {
    return [];
  }
};

const matches = (sample: Sample, name: string, where: Record<string, string>) =>
  sample.name === name && Object.entries(where).every(([key, value]) => sample.labels[key] === value);

/** Sum of the samples of `name` with the labels `where`. */
export const total = (samples: readonly Sample[], name: string, where: Record<string, string> = {}): number =>
  samples.filter((sample) => matches(sample, name, where)).reduce((sum, sample) => sum + sample.value, 0);

/** Increase of counter `name` (labels `where`, summed) between two readings. */
export const increase = (
  before: readonly Sample[],
  after: readonly Sample[],
  name: string,
  where: Record<string, string> = {},
): number => total(after, name, where) - total(before, name, where);

/** Distinct values of label `label` of metric `name` in a reading. */
export const labelValues = (samples: readonly Sample[], name: string, label: string): string[] => [
  ...new Set(
    samples
      .filter((sample) => sample.name === name && sample.labels[label] !== undefined)
      .map((sample) => sample.labels[label] as string),
  ),
];

/** Observations of a histogram between two readings. */
export interface HistogramDelta {
  count: number;
  /** Mean in the histogram's unit (seconds for *_seconds). */
  mean: number;
  /** Approximate quantile (0..1), in the histogram's unit. */
  quantile(q: number): number;
}

/** What histogram `name` (labels `where`, every other label summed) observed between two readings. */
export const histogramDelta = (
  before: readonly Sample[],
  after: readonly Sample[],
  name: string,
  where: Record<string, string> = {},
): HistogramDelta => {
  const count = increase(before, after, `${name}_count`, where);
  const sum = increase(before, after, `${name}_sum`, where);
  const buckets = new Map<number, number>();
  for (const sample of after) {
    if (!matches(sample, `${name}_bucket`, where)) continue;
    const le = Number(sample.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : sample.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + sample.value);
  }
  for (const sample of before) {
    if (!matches(sample, `${name}_bucket`, where)) continue;
    const le = Number(sample.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : sample.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) - sample.value);
  }
  const bounds = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  return {
    count,
    mean: count > 0 ? sum / count : Number.NaN,
    quantile(q) {
      if (count <= 0) return Number.NaN;
      const rank = q * count;
      let lower = 0;
      let below = 0;
      for (const [upper, cumulative] of bounds) {
        if (cumulative >= rank) {
          if (!Number.isFinite(upper)) return lower;
          const inBucket = cumulative - below;
          return inBucket > 0 ? lower + ((upper - lower) * (rank - below)) / inBucket : upper;
        }
        lower = upper;
        below = cumulative;
      }
      return lower;
    },
  };
};
