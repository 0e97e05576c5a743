/**
 * Short human renderings of durations, traffic and step progress, shared by logs and the summary.
 */
import type { TrafficWeight } from "../types.ts";

/** `850 ms`, `12.3 s`, `4m 05s`, `1h 02m 05s`. */
export function formatDuration(ms: number): string {
  const rounded = Math.max(0, Math.round(ms));
  if (rounded < 1000) return `${rounded} ms`;
  if (rounded < 59_950) return `${(rounded / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(rounded / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const ss = String(seconds).padStart(2, "0");
  if (hours === 0) return `${minutes}m ${ss}s`;
  return `${hours}h ${String(minutes).padStart(2, "0")}m ${ss}s`;
}

/** As a user writes it in an input: `250ms`, `60s`, `90s`, `15m`, `12m 30s`, `2h`. */
export function formatShortDuration(ms: number): string {
  const rounded = Math.max(0, Math.round(ms));
  if (rounded < 1000) return `${rounded}ms`;
  const seconds = rounded / 1000;
  if (seconds < 600) return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)}s`;
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  const parts = [hours && `${hours}h`, minutes && `${minutes}m`, rest && `${rest}s`];
  return parts.filter(Boolean).join(" ");
}

/** `app--v1 90% (blue), app--v2 10% (green)`. */
export function formatTraffic(traffic: readonly TrafficWeight[]): string {
  if (traffic.length === 0) return "no traffic entries";
  return traffic
    .map(
      (entry) =>
        `${entry.revisionName} ${entry.weight}%${entry.label === undefined ? "" : ` (${entry.label})`}`,
    )
    .join(", ");
}

export interface StepProgress {
  /** 1-based. */
  index: number;
  total: number;
  /** Percentage of traffic to the candidate. */
  weight: number;
  /** The candidate's label. */
  label: string;
  bakeMs: number;
  checksPassed: number;
  checksRun: number;
}

/** `[2/3] 50% -> green, baking 60s, checks 6/6 ok`. */
export function formatStepProgress(step: StepProgress): string {
  const bake = step.bakeMs > 0 ? `baking ${formatShortDuration(step.bakeMs)}` : "no bake";
  let checks: string;
  if (step.checksRun === 0) checks = "checks pending";
  else if (step.checksPassed === step.checksRun)
    checks = `checks ${step.checksPassed}/${step.checksRun} ok`;
  else {
    checks = `checks ${step.checksPassed}/${step.checksRun}, ${step.checksRun - step.checksPassed} failed`;
  }
  return `[${step.index}/${step.total}] ${step.weight}% -> ${step.label}, ${bake}, ${checks}`;
}
