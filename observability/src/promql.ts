/**
 * What a PromQL expression reads. Parsing proper is promtool's job (see the tests, which
 * check every expression with it); this only finds the metric names an expression selects,
 * so that they can be compared with what the services expose.
 */

/** Aggregation operators: `sum by (x) (...)` is not a metric named `sum`. */
const AGGREGATIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);
/** Clauses followed by a parenthesised list of label names. */
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);

/**
 * Grafana's variables replaced by values promtool accepts: intervals by a duration, any other
 * variable (used inside label matchers) by a match-anything regex.
 */
export const withGrafanaVariables = (expr: string): string =>
  expr
    .replace(/\$(__rate_interval|__interval|__range)\b|\$\{(__rate_interval|__interval|__range)\}/g, '5m')
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, '.*');

/** Index just past the quoted string that starts at `start`. */
const skipString = (expr: string, start: number): number => {
  const quote = expr[start];
  let i = start + 1;
  while (i < expr.length && expr[i] !== quote) i += expr[i] === '\\' && quote !== '`' ? 2 : 1;
  return i + 1;
};

/** Index just past the bracket closing the one at `start` (strings inside skipped). */
const skipBalanced = (expr: string, start: number, open: string, close: string): number => {
  let depth = 0;
  let i = start;
  while (i < expr.length) {
    const c = expr[i] as string;
    if (c === '"' || c === "'" || c === '`') {
      i = skipString(expr, i);
      continue;
    }
    if (c === open) depth += 1;
    if (c === close) {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
    i += 1;
  }
  return i;
};

const nextNonSpace = (expr: string, from: number): number => {
  let i = from;
  while (i < expr.length && /\s/.test(expr[i] as string)) i += 1;
  return i;
};

/** `__name__` matchers inside a `{...}` selector (`{__name__="up"}`). */
const namesInMatchers = (matchers: string): string[] =>
  [...matchers.matchAll(/__name__\s*=\s*(["'`])([A-Za-z_:][A-Za-z0-9_:]*)\1/g)].map(
    (match) => match[2] as string,
  );

/** Metric names selected by `expr`, in order of first appearance. */
export const metricNames = (expr: string): string[] => {
  const names = new Set<string>();
  let i = 0;
  while (i < expr.length) {
    const c = expr[i] as string;
    if (c === '"' || c === "'" || c === '`') {
      i = skipString(expr, i);
    } else if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i += 1;
    } else if (c === '{') {
      const end = skipBalanced(expr, i, '{', '}');
      for (const name of namesInMatchers(expr.slice(i, end))) names.add(name);
      i = end;
    } else if (c === '[') {
      i = skipBalanced(expr, i, '[', ']');
    } else if (/[0-9.]/.test(c)) {
      // Numbers, durations (5m, 1h30m), hex and exponents: never a name.
      while (i < expr.length && /[0-9A-Za-z_.]/.test(expr[i] as string)) i += 1;
    } else if (/[A-Za-z_:]/.test(c)) {
      const start = i;
      while (i < expr.length && /[A-Za-z0-9_:]/.test(expr[i] as string)) i += 1;
      const word = expr.slice(start, i);
      const next = nextNonSpace(expr, i);
      const lower = word.toLowerCase();
      if (LABEL_LISTS.has(lower)) {
        if (expr[next] === '(') i = skipBalanced(expr, next, '(', ')');
      } else if (KEYWORDS.has(lower) || expr[next] === '(') {
        // A function call, an operator or a literal.
      } else if (AGGREGATIONS.has(lower) && /^(by|without)\b/i.test(expr.slice(next))) {
        // `sum by (...)`: the clause is skipped on the next turn.
      } else {
        names.add(word);
      }
    } else {
      i += 1;
    }
  }
  return [...names];
};
