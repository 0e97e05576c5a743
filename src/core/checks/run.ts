/**
 * Runs smoke checks: one round in parallel, or rounds repeated until one passes or a deadline.
 */
import type { Clock } from "../clock.ts";
import type { CheckRound, SmokeCheck } from "../types.ts";
import { evaluateCheck, type HttpOutcome } from "./evaluate.ts";

export interface HttpRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Aborts the request early, e.g. when the run is cancelled. */
  signal?: AbortSignal;
}

export interface HttpProbe {
  /**
   * Rejects with an Error saying what went wrong on a network failure or timeout (a ProbeFailure
   * when it knows how long it waited).
   */
  send(request: HttpRequest): Promise<HttpOutcome>;
}

/** A request that got no answer, and how long it waited for one. */
export class ProbeFailure extends Error {
  readonly latencyMs: number;

  constructor(message: string, latencyMs: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProbeFailure";
    this.latencyMs = latencyMs;
  }
}

/** `https://app---green.example.io` + `/health?deep=1`, whatever slashes either side carries. */
export function checkUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, "")}${path}`;
}

export async function runCheckRound(
  baseUrl: string,
  checks: readonly SmokeCheck[],
  probe: HttpProbe,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<CheckRound> {
  const results = await Promise.all(
    checks.map(async (check) => {
      const url = checkUrl(baseUrl, check.path);
      try {
        const outcome = await probe.send({
          url,
          method: check.method,
          headers: { ...check.headers },
          ...(check.body !== undefined && { body: check.body }),
          timeoutMs,
          ...(signal && { signal }),
        });
        return evaluateCheck(check, url, outcome);
      } catch (error) {
        const latencyMs = (error as { latencyMs?: unknown } | null)?.latencyMs;
        return evaluateCheck(check, url, {
          error: errorText(error),
          ...(typeof latencyMs === "number" && { latencyMs }),
        });
      }
    }),
  );
  return { ok: results.every((result) => result.ok), results };
}

export interface WaitForPassingRoundOptions {
  baseUrl: string;
  checks: readonly SmokeCheck[];
  probe: HttpProbe;
  clock: Clock;
  /** Epoch milliseconds after which no request is sent and no request outlives. */
  deadline: number;
  /** Gap between the start of one round and the start of the next. */
  intervalMs: number;
  /** Upper bound of one request; shortened to the time left before the deadline. */
  requestTimeoutMs: number;
  signal?: AbortSignal;
  onRound?(round: CheckRound, attempt: number): void;
}

export interface WaitForPassingRoundResult {
  ok: boolean;
  /** The passing round, or the last one when none passed. */
  round: CheckRound;
  attempts: number;
}

/**
 * Repeats check rounds until one passes or the deadline comes. Rejects with the signal's reason
 * when it aborts.
 */
export async function waitForPassingRound(
  options: WaitForPassingRoundOptions,
): Promise<WaitForPassingRoundResult> {
  const { baseUrl, checks, probe, clock, deadline, intervalMs, requestTimeoutMs, signal } = options;
  let attempts = 0;
  let round: CheckRound = {
    ok: false,
    results: checks.map((check) => ({
      check: check.name,
      url: checkUrl(baseUrl, check.path),
      ok: false,
      failure: "not run: the deadline had passed",
    })),
  };

  for (;;) {
    signal?.throwIfAborted();
    const startedAt = clock.now();
    const remaining = deadline - startedAt;
    if (remaining <= 0) return { ok: false, round, attempts };

    attempts += 1;
    round = await runCheckRound(
      baseUrl,
      checks,
      probe,
      Math.min(requestTimeoutMs, remaining),
      signal,
    );
    signal?.throwIfAborted();
    options.onRound?.(round, attempts);
    if (round.ok) return { ok: true, round, attempts };

    const nextStart = startedAt + Math.max(intervalMs, 0);
    const now = clock.now();
    if (nextStart >= deadline) return { ok: false, round, attempts };
    if (nextStart > now) await clock.sleep(nextStart - now, signal);
  }
}

/** Duck-typed, because a probe's errors may come from another realm than this module's Error. */
function errorText(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : String(error);
}
