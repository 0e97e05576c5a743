/**
 * The vocabulary of the judges: which gates there are, what each comparison concluded and why,
 * and the record of a step's gates for the log, the summary and the `gates` output. Pure types.
 */

/** A gate a user turns on in `gates`. */
export type GateName = "side-by-side" | "production-errors" | "production-latency";

export const GATE_NAMES: readonly GateName[] = [
  "side-by-side",
  "production-errors",
  "production-latency",
];

/** What to do with a step whose gates still lack data when its bake may be extended no more. */
export type InconclusivePolicy = "fail" | "pass" | "hold";

export const INCONCLUSIVE_POLICIES: readonly InconclusivePolicy[] = ["fail", "pass", "hold"];

/**
 * One statistical comparison a gate makes. Side-by-side compares error rates and latencies;
 * production-errors compares the 5xx rate with `max-error-rate` and with the stable revision's;
 * production-latency compares latencies from the HTTP logs.
 */
export type ComparisonName =
  | "side-by-side errors"
  | "side-by-side latency"
  | "production 5xx rate"
  | "production 5xx vs stable"
  | "production latency";

/** The comparisons each gate makes, in the order they are reported. */
export const GATE_COMPARISONS: Record<GateName, readonly ComparisonName[]> = {
  "side-by-side": ["side-by-side errors", "side-by-side latency"],
  "production-errors": ["production 5xx rate", "production 5xx vs stable"],
  "production-latency": ["production latency"],
};

/**
 * - pass: enough data and no significant regression beyond the floor;
 * - fail: a significant regression beyond the floor;
 * - inconclusive: too little data to tell (no data is never taken for good);
 * - skipped: nothing to compare with at this step (e.g. the stable revision serves no traffic).
 */
export type Verdict = "pass" | "fail" | "inconclusive" | "skipped";

/** The thresholds every comparison is held to, from the inputs. */
export interface JudgeSettings {
  /** Side-by-side: samples each revision needs, after the warm-up. */
  minSamples: number;
  /** Production gates: requests each revision needs in the step's window. */
  minRequests: number;
  /** Latency floor: the candidate fails only when at least this many times slower (e.g. 1.2). */
  latencyRatio: number;
  /** Error floor: the candidate fails only when its error rate is at least this much higher (0.02 = 2 points). */
  errorRateMargin: number;
  /** Production: the candidate's 5xx rate must not be significantly above this (0.05 = 5%). */
  maxErrorRate: number;
}

/** What one revision showed in a comparison. */
export interface SideSummary {
  revision: string;
  samples: number;
  errors?: number;
  errorRate?: number;
  p50?: number;
  p95?: number;
  p99?: number;
}

export interface ComparisonVerdict {
  comparison: ComparisonName;
  verdict: Verdict;
  /** Why, in one sentence a reader acts on. */
  reason: string;
  /** The significance level this look was held to (its share of `false-alarm-rate`). */
  alpha: number;
  pValue?: number;
  /** Rate difference (errors), Hodges–Lehmann ratio (latency) or the candidate's rate (threshold). */
  effect?: number;
  /** The floor or threshold the effect was compared with. */
  floor?: number;
  candidate: SideSummary;
  stable?: SideSummary;
  /** Production gates: the window the data covers (epoch ms), whole minutes for metrics. */
  window?: { from: number; to: number };
}

/** A step's gates, as the log, the summary and the outputs show them. */
export interface StepGates {
  verdict: Verdict;
  /** How the step's gates ended, in one sentence. */
  reason: string;
  /** Looks taken during the bake and its extension. */
  looks: number;
  /** How much longer the bake ran because a gate lacked data. */
  extendedMs: number;
  /** How long the step waited for late data to complete its window. */
  waitedMs: number;
  /** Side-by-side requests sent to each revision. */
  requestsSent?: number;
  /** The last verdict of every comparison. */
  comparisons: ComparisonVerdict[];
}
