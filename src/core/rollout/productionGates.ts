/**
 * The production gates at one look: what real users got from the candidate and from the stable
 * revision over the step's window, read from Azure Monitor — the `Requests` metric in whole
 * minutes, and `ContainerAppHTTPLogs` — and judged on complete data only. A window counts as
 * complete up to the start of the latest minute with data of the stable revision, or up to the
 * ingestion allowance ago, whichever is later.
 */
import {
  compareErrorRates,
  compareLatencies,
  compareWithCeiling,
  type Outcome,
} from "../judge/compare.ts";
import { completeUntil, minuteStart } from "../judge/budget.ts";
import { quantile } from "../judge/stats.ts";
import type {
  ComparisonName,
  ComparisonVerdict,
  JudgeSettings,
  SideSummary,
} from "../judge/types.ts";
import type { TrafficMonitor } from "../ports.ts";

/** Request durations sampled per revision for the rank test. */
const LOG_SAMPLE_SIZE = 1000;

export interface ProductionLook {
  monitor: TrafficMonitor;
  candidate: string;
  stable: string;
  /** Whether the stable revision has production weight at this step (else it is not compared). */
  stableServes: boolean;
  /** When the step's traffic was written. */
  stepStart: number;
  now: number;
  allowanceMs: number;
  alpha: number;
  settings: JudgeSettings;
  environmentId?: string;
  signal?: AbortSignal;
}

/** The verdicts of production-errors, and until when its data were complete. */
export async function lookAtRequests(
  look: ProductionLook,
): Promise<{ verdicts: ComparisonVerdict[]; completeTo: number }> {
  const { monitor, candidate, stable, settings, alpha } = look;
  const from = minuteStart(look.stepStart);
  const minutes = await monitor.requestsByMinute(
    { from, to: look.now },
    [candidate, stable],
    look.signal ? { signal: look.signal } : {},
  );
  const stableMinutes = minutes.filter((m) => m.revision === stable && m.requests > 0);
  const latestStable = stableMinutes.length
    ? Math.max(...stableMinutes.map((m) => m.minute))
    : undefined;
  const to = Math.min(look.now, completeUntil(look.now, look.allowanceMs, latestStable));
  const window = { from, to };
  const counted = (revision: string) => {
    const inWindow = minutes.filter((m) => m.revision === revision && m.minute <= to);
    return {
      trials: inWindow.reduce((sum, m) => sum + m.requests, 0),
      errors: inWindow.reduce((sum, m) => sum + m.serverErrors, 0),
    };
  };
  const c = to >= from ? counted(candidate) : { trials: 0, errors: 0 };
  const s = to >= from ? counted(stable) : { trials: 0, errors: 0 };
  const candidateSide = side(candidate, c);
  const stableSide = side(stable, s);
  const ceiling = compareWithCeiling(
    c,
    { minSamples: settings.minRequests, maxRate: settings.maxErrorRate },
    alpha,
  );
  const verdicts: ComparisonVerdict[] = [
    verdict("production 5xx rate", ceiling, alpha, candidateSide, undefined, window),
  ];
  if (look.stableServes) {
    const relative = compareErrorRates(
      c,
      s,
      { minSamples: settings.minRequests, margin: settings.errorRateMargin },
      alpha,
    );
    verdicts.push(
      verdict("production 5xx vs stable", relative, alpha, candidateSide, stableSide, window),
    );
  } else {
    verdicts.push(skipped("production 5xx vs stable", alpha, candidateSide, stableSide, window));
  }
  return { verdicts, completeTo: to };
}

/** The verdict of production-latency, and until when its data were complete. */
export async function lookAtHttpLogs(
  look: ProductionLook,
): Promise<{ verdicts: ComparisonVerdict[]; completeTo: number }> {
  const { monitor, candidate, stable, settings, alpha } = look;
  const environmentId = look.environmentId ?? "";
  const options = look.signal ? { signal: look.signal } : {};
  const from = look.stepStart;
  const seen = await monitor.httpLogs(
    environmentId,
    { from, to: look.now },
    [candidate, stable],
    options,
  );
  const latest = seen.find((s) => s.revision === stable)?.latest;
  const to = Math.min(
    look.now,
    completeUntil(
      look.now,
      look.allowanceMs,
      latest === undefined ? undefined : minuteStart(latest),
    ),
  );
  const window = { from, to };
  if (!look.stableServes) {
    const summary = seen.find((s) => s.revision === candidate);
    return {
      verdicts: [
        skipped(
          "production latency",
          alpha,
          { revision: candidate, samples: summary?.requests ?? 0 },
          { revision: stable, samples: 0 },
          window,
        ),
      ],
      completeTo: to,
    };
  }
  const range = { from, to };
  const [summaries, candidateDurations, stableDurations] =
    to > from
      ? await Promise.all([
          monitor.httpLogs(environmentId, range, [candidate, stable], options),
          monitor.httpLogDurations(environmentId, range, candidate, LOG_SAMPLE_SIZE, options),
          monitor.httpLogDurations(environmentId, range, stable, LOG_SAMPLE_SIZE, options),
        ])
      : [[], [], []];
  const summaryOf = (revision: string): SideSummary => {
    const found = summaries.find((s) => s.revision === revision);
    return {
      revision,
      samples: found?.requests ?? 0,
      ...(found?.p50 !== undefined && { p50: found.p50 }),
      ...(found?.p95 !== undefined && { p95: found.p95 }),
      ...(found?.p99 !== undefined && { p99: found.p99 }),
    };
  };
  const candidateSide = summaryOf(candidate);
  const stableSide = summaryOf(stable);
  const enough = Math.min(candidateSide.samples, stableSide.samples) >= settings.minRequests;
  const outcome = enough
    ? compareLatencies(
        candidateDurations,
        stableDurations,
        {
          minSamples: Math.min(settings.minRequests, LOG_SAMPLE_SIZE),
          ratio: settings.latencyRatio,
        },
        alpha,
      )
    : ({
        verdict: "inconclusive",
        reason: `${candidateSide.samples} logged requests of the candidate and ${stableSide.samples} of the stable revision; ${settings.minRequests} each are needed`,
        floor: settings.latencyRatio,
      } satisfies Outcome);
  return {
    verdicts: [verdict("production latency", outcome, alpha, candidateSide, stableSide, window)],
    completeTo: to,
  };
}

/** What a side's latencies say, for the side-by-side judge's summary. */
export function latencySummary(
  revision: string,
  samples: number,
  errors: number,
  latencies: readonly number[],
): SideSummary {
  return {
    revision,
    samples,
    errors,
    errorRate: samples === 0 ? 0 : errors / samples,
    ...(latencies.length > 0 && {
      p50: round(quantile(latencies, 0.5)),
      p95: round(quantile(latencies, 0.95)),
      p99: round(quantile(latencies, 0.99)),
    }),
  };
}

export function verdict(
  comparison: ComparisonName,
  outcome: Outcome,
  alpha: number,
  candidate: SideSummary,
  stable: SideSummary | undefined,
  window?: { from: number; to: number },
): ComparisonVerdict {
  return {
    comparison,
    verdict: outcome.verdict,
    reason: outcome.reason,
    alpha,
    ...(outcome.pValue !== undefined && { pValue: outcome.pValue }),
    ...(outcome.effect !== undefined && { effect: outcome.effect }),
    floor: outcome.floor,
    candidate,
    ...(stable && { stable }),
    ...(window && { window }),
  };
}

function skipped(
  comparison: ComparisonName,
  alpha: number,
  candidate: SideSummary,
  stable: SideSummary,
  window: { from: number; to: number },
): ComparisonVerdict {
  return {
    comparison,
    verdict: "skipped",
    reason:
      "the stable revision serves no production traffic at this step, so there is nothing to compare with",
    alpha,
    candidate,
    stable,
    window,
  };
}

function side(revision: string, counts: { trials: number; errors: number }): SideSummary {
  return {
    revision,
    samples: counts.trials,
    errors: counts.errors,
    errorRate: counts.trials === 0 ? 0 : counts.errors / counts.trials,
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
