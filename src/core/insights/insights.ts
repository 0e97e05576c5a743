/**
 * `action: insights` as data: the four keys of the window, their indicative DORA bands, the trend
 * against the window before, weekly series for the charts, and the rollouts behind each number.
 * This is what the summary renders and the `insights` output holds as JSON. Pure.
 */
import { bandOf, type Band, type KeyName } from "./bands.ts";
import { DORA_2024, type ClusterTable } from "./dora2024.ts";
import type { History, Rollout, RolloutOutcome } from "./history.ts";
import { computeKeys, type Keys, type ReleasedCommit, type TimeWindow } from "./keys.ts";
import { median } from "./stats.ts";

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

/** `better` and `worse` follow each key's own direction: fewer failures, more deploys. */
export type Trend = "better" | "worse" | "same" | "new" | "none";

/** A rollout, as the report names it and links to it. */
export interface RolloutRef {
  app: string;
  revision?: string;
  commit?: string;
  outcome: RolloutOutcome;
  startedAt: string;
  firstTrafficAt?: string;
  promotedAt?: string;
  /** Pages of the runs that made it: the deploy's, and the promote's or reject's. */
  links: string[];
}

export interface KeyReport {
  /** The value in the key's unit (deploys per day, ms, or a rate 0..1); absent without data. */
  value?: number;
  previous?: number;
  trend: Trend;
  band?: Band;
  /** The rollouts the value was computed from. */
  rollouts: RolloutRef[];
}

export interface InsightsReport {
  apps: { app: string; resourceGroup: string }[];
  /** Where the records came from, in words (e.g. `GitHub deployments of contoso/shop`). */
  source: string;
  window: { from: string; to: string; days: number };
  previousWindow: { from: string; to: string };
  bands: { year: number; source: string; url: string };
  deploymentFrequency: KeyReport & { perWeek?: number; deploys: number };
  leadTime: KeyReport & { p90?: number; commits: number };
  changeFailureRate: KeyReport & { failures: number; reachedTraffic: number };
  recoveryTime: KeyReport & { recovered: number; unrecovered: number };
  /** Weeks of the window, oldest first; the last may be shorter. */
  weeks: { from: string; deploys: number; medianLeadTimeMs?: number }[];
  /** Every rollout that started in the window, oldest first. */
  rollouts: (RolloutRef & { changeFailure?: string; recoveryMs?: number })[];
}

export interface InsightsInput {
  history: History;
  commits: ReadonlyMap<string, readonly ReleasedCommit[]>;
  /** The end of the window (now), epoch ms. */
  now: number;
  windowMs: number;
  apps: { app: string; resourceGroup: string }[];
  source: string;
  table?: ClusterTable;
}

export function buildInsights(input: InsightsInput): InsightsReport {
  const table = input.table ?? DORA_2024;
  const window: TimeWindow = { from: input.now - input.windowMs, to: input.now };
  const before: TimeWindow = { from: window.from - input.windowMs, to: window.from };
  const current = computeKeys(input.history, window, input.commits);
  const previous = computeKeys(input.history, before, input.commits);
  const key = (
    name: KeyName,
    value: (keys: Keys) => number | undefined,
    rollouts: Rollout[],
  ): KeyReport => {
    const now = value(current);
    const then = value(previous);
    return {
      ...(now !== undefined && { value: now }),
      ...(then !== undefined && { previous: then }),
      trend: trendOf(name, now, then),
      ...(bandOf(table, name, now) && { band: bandOf(table, name, now) }),
      rollouts: rollouts.map(refOf),
    };
  };
  const failureOf = new Map(current.changeFailureRate.failures.map((f) => [f.rollout, f]));
  const recoveryOf = new Map(current.recoveryTime.samples.map((s) => [s.failure.rollout, s]));
  const deploysMeasured =
    current.deploymentFrequency.promoted.length > 0 || current.rollouts.length > 0;
  return {
    apps: input.apps,
    source: input.source,
    window: {
      from: iso(window.from),
      to: iso(window.to),
      days: Math.round((input.windowMs / DAY_MS) * 100) / 100,
    },
    previousWindow: { from: iso(before.from), to: iso(before.to) },
    bands: { year: table.year, source: table.source, url: table.url },
    deploymentFrequency: {
      ...key(
        "deploymentFrequency",
        (k) => k.deploymentFrequency.perDay,
        current.deploymentFrequency.promoted,
      ),
      ...(deploysMeasured && { perWeek: current.deploymentFrequency.perWeek }),
      deploys: current.deploymentFrequency.promoted.length,
    },
    leadTime: {
      ...key(
        "leadTime",
        (k) => k.leadTime.medianMs,
        unique(current.leadTime.samples.map((s) => s.rollout)),
      ),
      ...(current.leadTime.p90Ms !== undefined && { p90: current.leadTime.p90Ms }),
      commits: current.leadTime.samples.length,
    },
    changeFailureRate: {
      ...key(
        "changeFailureRate",
        (k) => k.changeFailureRate.rate,
        current.changeFailureRate.reachedTraffic,
      ),
      failures: current.changeFailureRate.failures.length,
      reachedTraffic: current.changeFailureRate.reachedTraffic.length,
    },
    recoveryTime: {
      ...key(
        "recoveryTime",
        (k) => k.recoveryTime.medianMs,
        current.changeFailureRate.failures.map((f) => f.rollout),
      ),
      recovered: current.recoveryTime.samples.length,
      unrecovered: current.recoveryTime.unrecovered.length,
    },
    weeks: weeksOf(current, window),
    rollouts: current.rollouts.map((rollout) => {
      const failure = failureOf.get(rollout);
      const recovery = recoveryOf.get(rollout);
      return {
        ...refOf(rollout),
        ...(failure && { changeFailure: failure.kind }),
        ...(recovery && { recoveryMs: recovery.recoveryMs }),
      };
    }),
  };
}

/** Deploys and median lead time per week of the window, weeks counted from its start. */
function weeksOf(keys: Keys, window: TimeWindow): InsightsReport["weeks"] {
  const weeks: InsightsReport["weeks"] = [];
  for (let from = window.from; from < window.to; from += WEEK_MS) {
    const to = Math.min(from + WEEK_MS, window.to);
    const inWeek = (r: Rollout) => r.startedAt >= from && r.startedAt < to;
    const leads = keys.leadTime.samples.filter((s) => inWeek(s.rollout)).map((s) => s.leadTimeMs);
    const medianLeadTimeMs = median(leads);
    weeks.push({
      from: iso(from),
      deploys: keys.deploymentFrequency.promoted.filter(inWeek).length,
      ...(medianLeadTimeMs !== undefined && { medianLeadTimeMs }),
    });
  }
  return weeks;
}

/** More deploys is better; for the other keys, less is. */
function trendOf(name: KeyName, now: number | undefined, then: number | undefined): Trend {
  if (now === undefined) return "none";
  if (then === undefined) return "new";
  if (now === then) return "same";
  const higherIsBetter = name === "deploymentFrequency";
  return now > then === higherIsBetter ? "better" : "worse";
}

function refOf(rollout: Rollout): RolloutRef {
  return {
    app: rollout.app,
    ...(rollout.revision !== undefined && { revision: rollout.revision }),
    ...(rollout.commit !== undefined && { commit: rollout.commit }),
    outcome: rollout.outcome,
    startedAt: iso(rollout.startedAt),
    ...(rollout.firstTrafficAt !== undefined && { firstTrafficAt: iso(rollout.firstTrafficAt) }),
    ...(rollout.promotedAt !== undefined && { promotedAt: iso(rollout.promotedAt) }),
    links: rollout.records.map((r) => r.url).filter((url): url is string => url !== undefined),
  };
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
