/**
 * Which cluster of a DORA table a measured value sits in. Pure.
 *
 * The value's band is the first cluster (best first) whose range holds it; a value no range
 * holds (a recovery time of three days in 2024's table, or a change failure rate, for which the
 * table gives one typical value per cluster) takes the cluster whose range is nearest. Times and
 * frequencies are compared by ratio, rates by difference.
 */
import type { ClusterName, ClusterRange, ClusterTable } from "./dora2024.ts";

export type KeyName = "deploymentFrequency" | "leadTime" | "changeFailureRate" | "recoveryTime";

export interface Band {
  cluster: ClusterName;
  /** The table's words for the cluster on this key. */
  text: string;
  /** Whether the value lies in the cluster's range, rather than nearest to it. */
  within: boolean;
}

const LINEAR: ReadonlySet<KeyName> = new Set(["changeFailureRate"]);

export function bandOf(
  table: ClusterTable,
  key: KeyName,
  value: number | undefined,
): Band | undefined {
  if (value === undefined || !Number.isFinite(value)) return undefined;
  let best: { band: Band; distance: number } | undefined;
  for (const cluster of table.clusters) {
    const range = cluster[key];
    const distance = distanceTo(range, value, LINEAR.has(key));
    if (!best || distance < best.distance) {
      best = {
        band: { cluster: cluster.name, text: range.text, within: distance === 0 },
        distance,
      };
    }
    if (distance === 0) break;
  }
  return best?.band;
}

function distanceTo(range: ClusterRange, value: number, linear: boolean): number {
  const inside =
    range.min === range.max ? value === range.min : value >= range.min && value < range.max;
  if (inside) return 0;
  const bound = value < range.min ? range.min : range.max;
  if (linear) return Math.abs(value - bound);
  // By ratio: a day is as far from an hour as a week is from a day and a bit. Zero has no ratio.
  const safe = (x: number) => Math.max(x, 1e-9);
  return Math.abs(Math.log(safe(value)) - Math.log(safe(bound)));
}
