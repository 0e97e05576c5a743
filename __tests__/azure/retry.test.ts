/**
 * The retry loop every Azure client sends through: which failures it waits out, how long it waits,
 * and when it gives up.
 */
import {
  createHttpHeaders,
  createPipelineRequest,
  RestError,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import type { Clock } from "../../src/core/clock.ts";
import { AzureError } from "../../src/azure/errors.ts";
import { callWithRetries, type RetryPolicy } from "../../src/azure/retry.ts";

function virtualClock(): Clock & { sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

function restError(statusCode: number, code: string, headers: Record<string, string> = {}) {
  const request = createPipelineRequest({ url: "https://management.azure.com/x" });
  const response: PipelineResponse = {
    request,
    status: statusCode,
    headers: createHttpHeaders(headers),
  };
  return new RestError(`{"error":{"code":"${code}","message":"${code} happened"}}`, {
    code,
    statusCode,
    request,
    response,
  });
}

/** A call that throws the given failures in turn, then answers `done`. */
function failing(...failures: unknown[]) {
  const sent: { timeout: number; signal?: AbortSignal }[] = [];
  const send = async (options: {
    abortSignal?: AbortSignal;
    requestOptions: { timeout: number };
  }) => {
    sent.push({ timeout: options.requestOptions.timeout, signal: options.abortSignal });
    const failure = failures.shift();
    if (failure !== undefined) throw failure;
    return "done";
  };
  return { send, sent };
}

function policy(clock: Clock, more: Partial<RetryPolicy> = {}): RetryPolicy {
  return { clock, requestTimeoutMs: 5_000, retryForMs: 120_000, ...more };
}

describe("callWithRetries", () => {
  test("waits out a lock conflict and a server error, then answers; each request has the timeout", async () => {
    const clock = virtualClock();
    const said: string[] = [];
    const call = failing(
      restError(409, "ContainerAppLockConflict"),
      restError(503, "ServiceUnavailable"),
    );

    const result = await callWithRetries(
      "Updating app web",
      policy(clock, { onRetry: (m) => said.push(m) }),
      call.send,
    );

    expect(result).toBe("done");
    expect(call.sent).toHaveLength(3);
    expect(call.sent.every((request) => request.timeout === 5_000)).toBe(true);
    // Backoff with jitter: about 1 s, then about 2 s.
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(750);
    expect(clock.sleeps[0]).toBeLessThanOrEqual(1250);
    expect(clock.sleeps[1]).toBeGreaterThanOrEqual(1500);
    expect(clock.sleeps[1]).toBeLessThanOrEqual(2500);
    // Each retry is said: what failed, when the next try is, how long so far and until when.
    expect(said[0]).toMatch(
      /^Updating app web: ContainerAppLockConflict \(.+\); trying again in \d+ s — attempt 2, 0 s so far, until \d{4}-\d\d-\d\dT/,
    );
    expect(said[1]).toMatch(/ServiceUnavailable .* attempt 3, 1 s so far/);
  });

  test("a Retry-After from the service sets the wait", async () => {
    const clock = virtualClock();
    const call = failing(restError(429, "TooManyRequests", { "retry-after": "7" }));

    await callWithRetries("Listing registries", policy(clock), call.send);

    expect(clock.sleeps).toEqual([7_000]);
  });

  test("does not retry what cannot succeed again, and names the call in the error", async () => {
    const clock = virtualClock();
    const notFound = failing(restError(404, "ResourceNotFound"));
    const failedOperation = failing(new Error("The long-running operation has failed."));
    const badRequest = failing(restError(400, "ContainerAppInvalidRevisionName"));

    await expect(
      callWithRetries("Reading app web", policy(clock), notFound.send),
    ).rejects.toMatchObject({
      name: "AzureError",
      code: "ResourceNotFound",
      statusCode: 404,
      message: "Reading app web failed: ResourceNotFound happened",
    });
    await expect(
      callWithRetries("Updating app web", policy(clock), failedOperation.send),
    ).rejects.toMatchObject({ code: "OperationFailed" });
    await expect(
      callWithRetries("Updating app web", policy(clock), badRequest.send),
    ).rejects.toMatchObject({ code: "ContainerAppInvalidRevisionName", statusCode: 400 });
    expect(notFound.sent.length + failedOperation.sent.length + badRequest.sent.length).toBe(3);
    expect(clock.sleeps).toEqual([]);
  });

  test("gives up with the last error when the next wait would pass the retry budget", async () => {
    const clock = virtualClock();
    const conflicts = Array.from({ length: 20 }, () => restError(409, "ContainerAppLockConflict"));
    const call = failing(...conflicts);

    const failure = callWithRetries(
      "Updating app web",
      policy(clock, { retryForMs: 10_000 }),
      call.send,
    );

    await expect(failure).rejects.toBeInstanceOf(AzureError);
    await expect(failure).rejects.toMatchObject({
      code: "ContainerAppLockConflict",
      statusCode: 409,
    });
    expect(clock.now()).toBeLessThanOrEqual(10_000);
    expect(call.sent.length).toBeGreaterThan(2);
    expect(call.sent.length).toBeLessThan(20);
  });

  test("stops at once when the caller's signal has aborted, and hands the signal to each request", async () => {
    const clock = virtualClock();
    const controller = new AbortController();
    const call = failing(restError(503, "ServiceUnavailable"));
    controller.abort();

    await expect(
      callWithRetries("Reading app web", policy(clock, { signal: controller.signal }), call.send),
    ).rejects.toMatchObject({ statusCode: 503 });
    expect(call.sent).toEqual([{ timeout: 5_000, signal: controller.signal }]);
    expect(clock.sleeps).toEqual([]);
  });
});
