/**
 * Waiting for a revision, on a virtual clock, through the states the real service reports
 * (AZURE-RECORDED-FACTS.md, "Revisions"): only Provisioned / Running / Healthy is ready; a crash at
 * start ends the wait at once with the service's words; nothing waits past the deadline.
 */
import type { Clock } from "../../src/core/clock.ts";
import type { ContainerAppsPort, RevisionState, CallOptions } from "../../src/core/ports.ts";
import { isReady, waitForRevisionReady } from "../../src/core/rollout/readiness.ts";
import {
  DEFAULT_TIMING,
  pollGaps,
  scaleTiming,
  timingFromEnvironment,
} from "../../src/core/timing.ts";
import { silent } from "./support/engine.ts";
import { VirtualClock } from "./support/virtualClock.ts";

function state(
  provisioningState: string,
  runningState: string,
  healthState: string,
  extra: Partial<RevisionState> = {},
): RevisionState {
  return {
    name: "web--v2",
    active: true,
    provisioningState,
    runningState,
    healthState,
    trafficWeight: 0,
    containers: [{ name: "web", image: "registry.test/web:2" }],
    ...extra,
  };
}

/** A port whose revision goes through `states`, one per read; the last one stays. */
function scripted(states: RevisionState[]) {
  const reads: { at: number; retryForMs?: number }[] = [];
  const clock = new VirtualClock(0);
  const apps = {
    getRevision: async (_name: string, options?: CallOptions) => {
      reads.push({ at: clock.now(), retryForMs: options?.retryForMs });
      return states[Math.min(reads.length - 1, states.length - 1)];
    },
  } as unknown as ContainerAppsPort;
  return { apps, clock, reads };
}

function wait(apps: ContainerAppsPort, clock: Clock, timeoutMs: number) {
  return waitForRevisionReady(apps, "web--v2", {
    app: "web",
    resourceGroup: "rg",
    clock,
    log: silent,
    deadline: clock.now() + timeoutMs,
    timeoutText: "readiness-timeout",
    schedule: DEFAULT_TIMING.readiness,
  });
}

describe("readiness, as the service reports a new revision", () => {
  test("the recorded lifecycle Processing → Activating → Running is ready only at its end", async () => {
    const { apps, clock, reads } = scripted([
      state("Provisioning", "Processing", "None", { replicas: 0 }),
      state("Provisioned", "Activating", "None", { replicas: 1 }),
      state("Provisioned", "Running", "Healthy", { replicas: 1 }),
    ]);
    const ready = await wait(apps, clock, 60_000);
    expect(ready.runningState).toBe("Running");
    expect(reads).toHaveLength(3);
    // Quick first polls: the third read comes well within a second.
    expect(reads[2].at).toBeLessThan(1_000);
  });

  test.each([
    ["Activating (not in the SDK's enum)", state("Provisioned", "Activating", "None")],
    ["an active revision in Deprovisioning", state("Provisioned", "Deprovisioning", "Healthy")],
    ["a running state it does not know", state("Provisioned", "Warming", "Healthy")],
    ["an unknown health", state("Provisioned", "Running", "Unknown")],
  ])("%s is not ready, and the wait ends exactly at the deadline", async (_what, revision) => {
    expect(isReady(revision)).toBe(false);
    const { apps, clock, reads } = scripted([revision]);
    const error = await wait(apps, clock, 30_000).catch((e: unknown) => e as Error);
    expect((error as { code?: string }).code).toBe("RevisionNotReady");
    expect(clock.now()).toBe(30_000);
    // Every read is bounded by what is left of the wait, so a failing read cannot stretch it.
    for (const read of reads) expect(read.retryForMs).toBeLessThanOrEqual(30_000 - read.at);
  });

  test("a container that crashes at start ends the wait at once, with the service's reason", async () => {
    const { apps, clock } = scripted([
      state("Provisioning", "Processing", "None"),
      state("Failed", "Failed", "Unhealthy", {
        provisioningError: "Container crashing: web",
        runningStateDetails: "1/1 Container crashing: web",
        replicas: 1,
      }),
    ]);
    const error = (await wait(apps, clock, 600_000).catch((e: unknown) => e)) as Error & {
      code?: string;
    };
    expect(error.code).toBe("RevisionFailed");
    expect(error.message).toContain("Container crashing: web");
    expect(error.message).toContain("1/1 Container crashing: web");
    expect(clock.now()).toBeLessThan(1_000);
  });
});

describe("poll schedules", () => {
  test("gaps start short, grow by the factor and stop at the maximum", () => {
    const next = pollGaps({ firstMs: 200, factor: 2, maxMs: 1_000 });
    expect([next(), next(), next(), next(), next()]).toEqual([200, 400, 800, 1_000, 1_000]);
  });

  test("a time scale shrinks every gap, and a bad scale is refused with the variable's name", () => {
    const scaled = scaleTiming(DEFAULT_TIMING, 0.05);
    expect(scaled.operation.maxMs).toBe(Math.round(DEFAULT_TIMING.operation.maxMs * 0.05));
    expect(timingFromEnvironment({ ACA_BLUE_GREEN_TIME_SCALE: "0.05" })).toEqual(scaled);
    expect(timingFromEnvironment({})).toBe(DEFAULT_TIMING);
    expect(() => timingFromEnvironment({ ACA_BLUE_GREEN_TIME_SCALE: "fast" })).toThrow(
      /ACA_BLUE_GREEN_TIME_SCALE/,
    );
  });
});
