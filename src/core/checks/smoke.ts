import { SmokeChecksFailed } from "../failure.ts";
import type { EngineDeps } from "../ports.ts";
import { formatDuration } from "../report/format.ts";
import type { CheckResult, CheckRound, Inputs } from "../types.ts";
import { runCheckRound, waitForPassingRound } from "./run.ts";

/** Longest a single smoke-check request may take. */
const CHECK_REQUEST_TIMEOUT_MS = 10_000;

/**
 * Runs the smoke checks against `baseUrl` until a round passes or smoke-timeout runs out, logging
 * each result. Throws SmokeChecksFailed, with the failing round, when none passed; returns the
 * passing round.
 */
export async function smokeCheck(
  baseUrl: string,
  inputs: Pick<Inputs, "smokeChecks" | "smokeTimeoutMs" | "checkIntervalMs">,
  deps: Pick<EngineDeps, "clock" | "log" | "probe" | "signal">,
  nextSteps: string,
): Promise<CheckRound> {
  const { clock, log, probe, signal } = deps;
  log.info(
    `Checking ${baseUrl} (${inputs.smokeChecks.length} checks, up to ${formatDuration(inputs.smokeTimeoutMs)})`,
  );
  const outcome = await waitForPassingRound({
    baseUrl,
    checks: inputs.smokeChecks,
    probe,
    clock,
    signal,
    deadline: clock.now() + inputs.smokeTimeoutMs,
    intervalMs: Math.min(inputs.checkIntervalMs, 2_000),
    requestTimeoutMs: CHECK_REQUEST_TIMEOUT_MS,
    onRound: (round, attempt) => {
      if (!round.ok) log.info(`attempt ${attempt}: ${describeFailures(round)}`);
    },
  });
  for (const result of outcome.round.results) log.info(describeResult(result));
  if (!outcome.ok) {
    throw new SmokeChecksFailed(
      `Smoke checks on ${baseUrl} did not pass within \`smoke-timeout\` (${formatDuration(inputs.smokeTimeoutMs)}): ${describeFailures(outcome.round)}.`,
      outcome.round,
      nextSteps,
    );
  }
  return outcome.round;
}

/**
 * Keeps the checks running against `baseUrl` every check-interval for `durationMs` (at least one
 * round), while a traffic step bakes. Returns the first failing round, or undefined when all passed.
 */
export async function bakeWithChecks(
  baseUrl: string,
  durationMs: number,
  inputs: Pick<Inputs, "smokeChecks" | "checkIntervalMs">,
  deps: Pick<EngineDeps, "clock" | "probe" | "signal">,
  onRound?: (round: CheckRound) => void,
): Promise<CheckRound | undefined> {
  const { clock, probe, signal } = deps;
  const end = clock.now() + durationMs;
  for (;;) {
    const round = await runCheckRound(
      baseUrl,
      inputs.smokeChecks,
      probe,
      CHECK_REQUEST_TIMEOUT_MS,
      signal,
    );
    onRound?.(round);
    if (!round.ok) return round;
    const left = end - clock.now();
    if (left <= 0) return undefined;
    await clock.sleep(Math.min(inputs.checkIntervalMs, left), signal);
  }
}

export function describeFailures(round: CheckRound): string {
  const failed = round.results.filter((r) => !r.ok);
  return failed.map((r) => `${r.check}: ${r.failure ?? "failed"}`).join("; ") || "no check passed";
}

function describeResult(result: CheckResult): string {
  const status = result.status ? ` -> ${result.status}` : "";
  const latency = result.latencyMs !== undefined ? ` in ${result.latencyMs} ms` : "";
  const failure = result.failure ? `: ${result.failure}` : "";
  return `${result.ok ? "ok  " : "FAIL"} ${result.check}${status}${latency}${failure}`;
}
