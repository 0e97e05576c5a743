/**
 * The comparisons, as pure functions of the data of one look: each says pass, fail or
 * inconclusive, and why. A candidate fails only when the difference is both significant at the
 * look's level and larger than its floor, so noise on a loaded machine never fails a release;
 * too little data is inconclusive, never good.
 */
import { binomialGreater, fisherGreater, hodgesLehmannRatio, mannWhitneyGreater } from "./stats.ts";
import type { Counts } from "./stats.ts";
import type { Verdict } from "./types.ts";

export interface Outcome {
  verdict: Exclude<Verdict, "skipped">;
  reason: string;
  pValue?: number;
  effect?: number;
  floor: number;
}

/** Error rates side by side: Fisher's exact test, one-sided, with a floor on the rate difference. */
export function compareErrorRates(
  candidate: Counts,
  stable: Counts,
  settings: { minSamples: number; margin: number },
  alpha: number,
): Outcome {
  const floor = settings.margin;
  const short = tooFew(candidate.trials, stable.trials, settings.minSamples, "requests");
  if (short) return { verdict: "inconclusive", reason: short, floor };
  const difference = rate(candidate) - rate(stable);
  const pValue = fisherGreater(candidate, stable);
  const rates = `${percent(rate(candidate))} errors against ${percent(rate(stable))}`;
  if (pValue < alpha && difference >= floor) {
    return {
      verdict: "fail",
      reason: `${rates}: ${points(difference)} more, significant (p = ${formatP(pValue)} < ${formatP(alpha)}) and above the ${points(floor)} margin`,
      pValue,
      effect: difference,
      floor,
    };
  }
  return {
    verdict: "pass",
    reason: `${rates}: ${pValue < alpha ? `within the ${points(floor)} margin` : `not significantly more (p = ${formatP(pValue)})`}`,
    pValue,
    effect: difference,
    floor,
  };
}

/** The candidate's error rate against a fixed ceiling: the exact binomial test, one-sided. */
export function compareWithCeiling(
  candidate: Counts,
  settings: { minSamples: number; maxRate: number },
  alpha: number,
): Outcome {
  const floor = settings.maxRate;
  if (candidate.trials < settings.minSamples) {
    return {
      verdict: "inconclusive",
      reason: `the candidate had ${candidate.trials} requests; ${settings.minSamples} are needed`,
      floor,
    };
  }
  const observed = rate(candidate);
  const pValue = binomialGreater(candidate, floor);
  if (pValue < alpha) {
    return {
      verdict: "fail",
      reason: `${percent(observed)} of ${candidate.trials} requests failed, significantly above the ${percent(floor)} ceiling (p = ${formatP(pValue)} < ${formatP(alpha)})`,
      pValue,
      effect: observed,
      floor,
    };
  }
  return {
    verdict: "pass",
    reason: `${percent(observed)} of ${candidate.trials} requests failed, not significantly above the ${percent(floor)} ceiling`,
    pValue,
    effect: observed,
    floor,
  };
}

/**
 * Latencies side by side: the Mann–Whitney U test, one-sided, of the candidate's latencies divided
 * by the floor against the stable revision's — that is, whether the candidate is significantly
 * more than `ratio` times slower (e.g. 1.2×), not merely slower — with the Hodges–Lehmann ratio as
 * the effect. Testing beyond the floor, rather than comparing a noisy estimate with it, keeps a
 * candidate a few percent slower from ever failing by chance.
 */
export function compareLatencies(
  candidate: readonly number[],
  stable: readonly number[],
  settings: { minSamples: number; ratio: number },
  alpha: number,
): Outcome {
  const floor = settings.ratio;
  const short = tooFew(candidate.length, stable.length, settings.minSamples, "timed responses");
  if (short) return { verdict: "inconclusive", reason: short, floor };
  const effect = hodgesLehmannRatio(candidate, stable);
  const { pValue } = mannWhitneyGreater(
    candidate.map((value) => value / floor),
    stable,
  );
  const shown = `${effect.toFixed(2)}× the stable revision's latency`;
  if (pValue < alpha && effect >= floor) {
    return {
      verdict: "fail",
      reason: `${shown}, significantly above the ${floor}× floor (p = ${formatP(pValue)} < ${formatP(alpha)})`,
      pValue,
      effect,
      floor,
    };
  }
  return {
    verdict: "pass",
    reason: `${shown}: not significantly above the ${floor}× floor (p = ${formatP(pValue)})`,
    pValue,
    effect,
    floor,
  };
}

/** The worst of several verdicts: a failure, else a lack of data, else a pass. */
export function worstVerdict(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.includes("fail")) return "fail";
  if (verdicts.includes("inconclusive")) return "inconclusive";
  if (verdicts.includes("pass")) return "pass";
  return "skipped";
}

function tooFew(
  candidate: number,
  stable: number,
  needed: number,
  what: string,
): string | undefined {
  if (candidate >= needed && stable >= needed) return undefined;
  return `${candidate} ${what} from the candidate and ${stable} from the stable revision; ${needed} each are needed`;
}

function rate(counts: Counts): number {
  return counts.trials === 0 ? 0 : counts.errors / counts.trials;
}

export function percent(value: number): string {
  const shown = value * 100;
  return `${Number.isInteger(shown) ? shown : shown.toFixed(shown < 1 ? 2 : 1)}%`;
}

function points(value: number): string {
  return `${(value * 100).toFixed(1)} points`;
}

/** A p-value or a significance level, short: `0.031`, `2.1e-6`. */
export function formatP(value: number): string {
  if (value === 0) return "0";
  if (value >= 0.001) return value.toFixed(3);
  return value.toExponential(1);
}
