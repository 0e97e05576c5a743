/**
 * The one retry loop for Azure calls: every client in src/azure sends through it, so a transient
 * fault is judged by one predicate (`isRetryable`) and waited out with one backoff.
 */
import type { Clock } from "../core/clock.ts";
import { isRetryable } from "../core/failure.ts";
import { toAzureError } from "./errors.ts";

/** What a call gives the SDK operation it sends: the caller's signal and the request timeout. */
export interface SdkCallOptions {
  abortSignal?: AbortSignal;
  requestOptions: { timeout: number };
}

export interface RetryPolicy {
  clock: Clock;
  /** Each retry, said where the user sees it: what failed, how long it has tried, until when. */
  onRetry?: (message: string) => void;
  /** Longest a single HTTP request may take. */
  requestTimeoutMs: number;
  /** How long transient failures are retried before the call gives up. */
  retryForMs: number;
  signal?: AbortSignal;
}

/** A client's policy for one call: its defaults, with the call's signal and retry budget. */
export function policyFor(
  defaults: RetryPolicy,
  call?: { signal?: AbortSignal; retryForMs?: number },
): RetryPolicy {
  return {
    ...defaults,
    signal: call?.signal,
    retryForMs: call?.retryForMs ?? defaults.retryForMs,
  };
}

/** Request timeout and retry budget of a call that asks for nothing else. */
export const RETRY_DEFAULTS = { requestTimeoutMs: 60_000, retryForMs: 120_000 };

/**
 * Sends an Azure call until it succeeds, fails for good, or the retry budget runs out. Retries
 * what the SDK leaves to us: lock conflicts (409), throttling without Retry-After, server errors
 * past the SDK's own retries, and connections that break or hang. A Retry-After from the service
 * sets the wait. Whatever it throws is an AzureError naming `what`.
 */
export async function callWithRetries<T>(
  what: string,
  policy: RetryPolicy,
  send: (options: SdkCallOptions) => PromiseLike<T>,
): Promise<T> {
  const { clock, signal } = policy;
  const started = clock.now();
  const deadline = started + policy.retryForMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await send({
        abortSignal: signal,
        requestOptions: { timeout: policy.requestTimeoutMs },
      });
    } catch (thrown) {
      const error = toAzureError(thrown, what);
      if (signal?.aborted || !isRetryable(error)) throw error;
      const delay = Math.min(error.retryAfterMs ?? backoff(attempt), 30_000);
      if (clock.now() + delay > deadline) throw error;
      const tried = Math.round((clock.now() - started) / 1000);
      policy.onRetry?.(
        `${what}: ${error.code ?? error.statusCode ?? "no answer"} (${firstLine(error.message)}); trying again in ${Math.ceil(delay / 1000)} s — attempt ${attempt + 1}, ${tried} s so far, until ${new Date(deadline).toISOString()}`,
      );
      await clock.sleep(delay, signal);
    }
  }
}

function firstLine(message: string): string {
  const line = message.split("\n")[0];
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}

/** 1 s, 2 s, 4 s … capped at 16 s, with jitter so parallel runs do not retry in step. */
function backoff(attempt: number): number {
  const base = Math.min(1000 * 2 ** (attempt - 1), 16_000);
  return Math.round(base * (0.75 + Math.random() * 0.5));
}
