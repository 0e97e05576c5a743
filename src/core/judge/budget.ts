/**
 * How the significance budget is spent. The judges look several times per bake, at every step that
 * bakes, with several comparisons each: tested at the full level every time, a healthy candidate
 * would fail a rollout far more often than the level says. So `false-alarm-rate` is split evenly
 * (Bonferroni) over every look the rollout may take: steps × comparisons × looks per step. By the
 * union bound the chance that any look of a healthy candidate fails stays within the budget,
 * however the looks depend on each other.
 */

/** Looks spread evenly over each bake, the last at its end. */
export const LOOKS_PER_BAKE = 5;
/** Looks spread evenly over the longest extension of a bake, when extensions are allowed. */
export const LOOKS_PER_EXTENSION = 5;

export interface LookPlan {
  /** The whole rollout's budget of false alarms, e.g. 0.01. */
  falseAlarmRate: number;
  /** Steps of this run that bake with gates on. */
  steps: number;
  /** Comparisons each look makes. */
  comparisons: number;
  /** Whether a bake may be extended while a gate lacks data. */
  extends: boolean;
}

/** The most looks one step can take. */
export function looksPerStep(plan: Pick<LookPlan, "extends">): number {
  return LOOKS_PER_BAKE + (plan.extends ? LOOKS_PER_EXTENSION : 0);
}

/** The significance level of each comparison at each look. */
export function alphaPerLook(plan: LookPlan): number {
  const looks = Math.max(1, plan.steps) * Math.max(1, plan.comparisons) * looksPerStep(plan);
  return plan.falseAlarmRate / looks;
}

/**
 * When the looks of a step happen, as offsets (ms) from the start of its bake: every fifth of the
 * bake, then every fifth of the longest extension. Only the first five are taken unless a gate
 * still lacks data at the end of the bake.
 */
export function lookOffsets(bakeMs: number, extensionMs: number): number[] {
  const offsets: number[] = [];
  for (let i = 1; i <= LOOKS_PER_BAKE; i++) offsets.push((bakeMs * i) / LOOKS_PER_BAKE);
  if (extensionMs > 0) {
    for (let i = 1; i <= LOOKS_PER_EXTENSION; i++) {
      offsets.push(bakeMs + (extensionMs * i) / LOOKS_PER_EXTENSION);
    }
  }
  return offsets.map((offset) => Math.round(offset));
}

const MINUTE_MS = 60_000;

/** The start of the minute that holds `time`: metrics come in whole minutes. */
export function minuteStart(time: number): number {
  return Math.floor(time / MINUTE_MS) * MINUTE_MS;
}

/**
 * Until when data are complete, `now`. A missing minute cannot tell "late" from "no requests", so a
 * window counts as complete once a later minute has data of the stable revision (data arrive in
 * order), or once the ingestion allowance has passed since the window ended.
 */
export function completeUntil(
  now: number,
  allowanceMs: number,
  latestStableMinute: number | undefined,
): number {
  return Math.max(now - allowanceMs, latestStableMinute ?? Number.NEGATIVE_INFINITY);
}
