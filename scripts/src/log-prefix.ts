/**
 * Log prefixes of `npm start`: every line a service writes is shown as `name | line`, names
 * padded to one width and coloured when the output is a terminal.
 */

const PALETTE = [36, 35, 33, 32, 34, 96, 95, 93, 92, 94];

/** Turns (source, line) into the line shown. */
export type Prefixer = (source: string, line: string) => string;

/**
 * A prefixer for these source names (services and `supervisor`): padded to the longest,
 * each with its own colour when `color` is true (the supervisor's own lines are bold).
 */
export const createPrefixer = (sources: readonly string[], { color = false } = {}): Prefixer => {
  const width = Math.max(...sources.map((source) => source.length), 0);
  const colours = new Map(
    sources.map((source, index) => [source, PALETTE[index % PALETTE.length] as number]),
  );
  return (source, line) => {
    const padded = source.padEnd(width);
    if (!color) return `${padded} | ${line}`;
    const code = source === 'supervisor' ? 1 : (colours.get(source) ?? 37);
    return `\u001b[${code}m${padded} |\u001b[0m ${line}`;
  };
};
