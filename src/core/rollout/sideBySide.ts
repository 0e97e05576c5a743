/**
 * The side-by-side judge's traffic: while a step bakes, the same bounded mix of GET and HEAD
 * requests goes to the candidate (its label URL) and to the stable revision (its revision URL),
 * one pair at a time and in alternating order, so that both see the same requests under the same
 * load. What each answered is kept for the look that compares them.
 */
import type { Clock } from "../clock.ts";
import { checkUrl, type HttpProbe } from "../checks/run.ts";
import type { Counts } from "../judge/stats.ts";
import type { SideBySideRequest } from "../types.ts";

/** Longest one side-by-side request may take; a slower answer counts as an error. */
const REQUEST_TIMEOUT_MS = 10_000;

interface Response {
  failed: boolean;
  latencyMs?: number;
}

/** One revision's answers, after the warm-up. */
export interface SideSamples extends Counts {
  /** Latencies of the responses that did not fail. */
  latencies: number[];
}

export interface SideBySideOptions {
  probe: HttpProbe;
  clock: Clock;
  requests: readonly SideBySideRequest[];
  candidateUrl: string;
  stableUrl: string;
  ratePerSecond: number;
  /** Most requests to each revision. */
  budget: number;
  warmUp: number;
}

export class SideBySideTraffic {
  readonly #options: SideBySideOptions;
  readonly #candidate: Response[] = [];
  readonly #stable: Response[] = [];
  #running?: Promise<void>;

  constructor(options: SideBySideOptions) {
    this.#options = options;
  }

  /** Requests sent to each revision so far. */
  get sent(): number {
    return Math.min(this.#candidate.length, this.#stable.length);
  }

  /** Starts sending until `signal` aborts or the budget is spent. */
  start(signal: AbortSignal): void {
    this.#running ??= this.#send(signal).catch(() => undefined);
  }

  /** Resolves once the sending loop has stopped (after its signal aborted). */
  async stopped(): Promise<void> {
    await this.#running;
  }

  /** Both revisions' answers so far, the warm-up of each left out, over the same pairs. */
  samples(): { candidate: SideSamples; stable: SideSamples } {
    const pairs = this.sent;
    const from = Math.min(this.#options.warmUp, pairs);
    return {
      candidate: summarize(this.#candidate.slice(from, pairs)),
      stable: summarize(this.#stable.slice(from, pairs)),
    };
  }

  async #send(signal: AbortSignal): Promise<void> {
    const { clock, requests, budget, ratePerSecond } = this.#options;
    const started = clock.now();
    const gapMs = 1000 / ratePerSecond;
    for (let k = 0; k < budget && !signal.aborted; k++) {
      const request = requests[k % requests.length];
      // Alternating who goes first, so that neither is always the one that meets a warm cache.
      const order: ("candidate" | "stable")[] =
        k % 2 === 0 ? ["candidate", "stable"] : ["stable", "candidate"];
      const answers: Partial<Record<"candidate" | "stable", Response>> = {};
      for (const side of order) answers[side] = await this.#ask(side, request, signal);
      if (signal.aborted) return;
      this.#candidate.push(answers.candidate!);
      this.#stable.push(answers.stable!);
      const wait = started + (k + 1) * gapMs - clock.now();
      if (wait > 0) await clock.sleep(wait, signal);
    }
  }

  async #ask(
    side: "candidate" | "stable",
    request: SideBySideRequest,
    signal: AbortSignal,
  ): Promise<Response> {
    const base = side === "candidate" ? this.#options.candidateUrl : this.#options.stableUrl;
    try {
      const outcome = await this.#options.probe.send({
        url: checkUrl(base, request.path),
        method: request.method,
        headers: { ...request.headers },
        timeoutMs: REQUEST_TIMEOUT_MS,
        signal,
      });
      if (outcome.status >= 500) return { failed: true };
      return { failed: false, latencyMs: outcome.latencyMs };
    } catch {
      // A network failure or a timeout is the revision failing the request.
      return { failed: true };
    }
  }
}

function summarize(responses: readonly Response[]): SideSamples {
  const latencies: number[] = [];
  let errors = 0;
  for (const response of responses) {
    if (response.failed) errors++;
    else if (response.latencyMs !== undefined) latencies.push(response.latencyMs);
  }
  return { trials: responses.length, errors, latencies };
}
