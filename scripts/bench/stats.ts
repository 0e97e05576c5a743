/** Median, min and max of a figure over the runs of a scenario. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: number[]): Spread {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

/** Seconds with `digits` decimals. */
export function seconds(ms: number, digits = 2): string {
  return Number.isFinite(ms) ? (ms / 1000).toFixed(digits) : "n/a";
}

/** `median (min–max)` in seconds. */
export function secondsSpread(s: Spread, digits = 2): string {
  return `${seconds(s.median, digits)} (${seconds(s.min, digits)}–${seconds(s.max, digits)})`;
}

/** `median (min–max)` as plain numbers. */
export function countSpread(s: Spread, digits = 0): string {
  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}
