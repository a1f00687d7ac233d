/** @magasin/bench: helpers shared by the benchmark scripts (figures, /proc, /metrics). */

export * from './inspector.ts';
export * from './prometheus.ts';
export * from './stats.ts';
export * from './system.ts';
