import type { TrafficWeight } from "../types.ts";

export interface RolloutLabels {
  candidate: string;
  production: string;
  previous: string;
}

export interface RolloutPlanOptions {
  /** The app's traffic before the rollout, pinned to revision names; sums to 100. */
  initial: TrafficWeight[];
  candidate: string;
  /** Ascending candidate weights ending at 100. */
  steps: number[];
  labels: RolloutLabels;
  /** Whether the revisions that lose their weight are deactivated right after the last step. */
  retireAtOnce: boolean;
}

export interface RolloutPlan {
  /** Sent with the template change: the initial traffic plus the candidate at 0% with its label. */
  create: TrafficWeight[];
  /** One traffic array per step; the last one is the promoted state. */
  steps: TrafficWeight[][];
  /** The revision that held the production label (or most weight) before the rollout. */
  previousProduction?: string;
  /** Revisions whose weight the rollout moved to the candidate. */
  retiring: string[];
}

/**
 * Plans every traffic array of a rollout. The candidate's share grows step by step; the rest keeps
 * the initial proportions between the revisions that served before. The last step moves the
 * production label to the candidate and leaves the previous production revision reachable under
 * the previous label, unless it is about to be deactivated (traffic must never name an inactive
 * revision).
 */
export function planRollout(options: RolloutPlanOptions): RolloutPlan {
  const { candidate, labels } = options;
  const base = options.initial
    .filter((entry) => entry.revisionName !== candidate)
    .map((entry) => (entry.label === labels.candidate ? withoutLabel(entry) : { ...entry }))
    .filter((entry) => entry.weight > 0 || entry.label !== undefined);
  const create = [...base, { revisionName: candidate, weight: 0, label: labels.candidate }];
  const previousProduction = findProduction(options.initial, labels.production, candidate);
  const retiring = unique(base.filter((entry) => entry.weight > 0).map((e) => e.revisionName));

  const steps = options.steps.map((weight, index) =>
    index === options.steps.length - 1 && weight === 100
      ? promoted(base, options, previousProduction, retiring)
      : [
          ...scaleBase(base, 100 - weight),
          { revisionName: candidate, weight, label: labels.candidate },
        ],
  );
  return { create, steps, previousProduction, retiring };
}

/** The state after the rollout: candidate at 100% with the production label. */
function promoted(
  base: TrafficWeight[],
  options: RolloutPlanOptions,
  previousProduction: string | undefined,
  retiring: string[],
): TrafficWeight[] {
  const { labels, candidate } = options;
  const result: TrafficWeight[] = [
    { revisionName: candidate, weight: 100, label: labels.production },
  ];
  const kept = base.filter(
    (entry) =>
      entry.label !== undefined &&
      entry.label !== labels.production &&
      entry.label !== labels.previous &&
      !(options.retireAtOnce && retiring.includes(entry.revisionName)),
  );
  result.push(...kept.map((entry) => ({ ...entry, weight: 0 })));
  if (previousProduction && !options.retireAtOnce) {
    result.push({ revisionName: previousProduction, weight: 0, label: labels.previous });
  }
  return result;
}

/** Traffic after the previous revisions are retired: entries naming them are dropped. */
export function withoutRevisions(traffic: TrafficWeight[], revisions: string[]): TrafficWeight[] {
  return traffic.filter((entry) => entry.weight > 0 || !revisions.includes(entry.revisionName));
}

function findProduction(
  initial: TrafficWeight[],
  productionLabel: string,
  candidate: string,
): string | undefined {
  const labelled = initial.find((e) => e.label === productionLabel && e.revisionName !== candidate);
  if (labelled) return labelled.revisionName;
  const serving = initial.filter((e) => e.revisionName !== candidate && e.weight > 0);
  return serving.sort((a, b) => b.weight - a.weight)[0]?.revisionName;
}

/**
 * Scales the weighted entries to `total` with the largest-remainder method, so the result is
 * integral, sums exactly to `total`, and keeps the entries' proportions as closely as possible.
 */
export function scaleBase(base: TrafficWeight[], total: number): TrafficWeight[] {
  const sum = base.reduce((acc, entry) => acc + entry.weight, 0);
  if (sum === 0) return base.map((entry) => ({ ...entry }));
  const exact = base.map((entry) => (entry.weight * total) / sum);
  const floors = exact.map(Math.floor);
  let left = total - floors.reduce((acc, n) => acc + n, 0);
  const order = exact
    .map((value, index) => ({ index, fraction: value - Math.floor(value) }))
    .sort((a, b) => b.fraction - a.fraction || a.index - b.index);
  for (const { index } of order) {
    if (left === 0) break;
    if (base[index].weight === 0) continue;
    floors[index] += 1;
    left -= 1;
  }
  return base.map((entry, index) => ({ ...entry, weight: floors[index] }));
}

/** Sum of weights per revision, for comparing what was asked with what the app reports. */
export function weightsByRevision(traffic: TrafficWeight[]): Map<string, number> {
  const weights = new Map<string, number>();
  for (const entry of traffic) {
    weights.set(entry.revisionName, (weights.get(entry.revisionName) ?? 0) + entry.weight);
  }
  return weights;
}

/** Whether two traffic arrays route the same weights and the same labels, in any order. */
export function sameTraffic(a: TrafficWeight[], b: TrafficWeight[]): boolean {
  const key = (t: TrafficWeight[]) =>
    t
      .filter((entry) => entry.weight > 0 || entry.label !== undefined)
      .map((entry) => `${entry.revisionName}|${entry.weight}|${entry.label ?? ""}`)
      .sort()
      .join(",");
  return key(a) === key(b);
}

function withoutLabel(entry: TrafficWeight): TrafficWeight {
  return { revisionName: entry.revisionName, weight: entry.weight };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
