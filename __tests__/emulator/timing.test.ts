/**
 * The timing profiles: the fast profile's fixed delays, and the azure profile's durations drawn
 * from the ranges recorded on the real service (response `date` headers of the Azure CLI test
 * recordings: traffic-only PATCHes 12–50 s, mean 25 s; PATCHes with a template 6–50 s, mean 16 s),
 * repeatable with a seed and scaled by a time scale, end to end through the emulator.
 */
import { createTiming, sample, type Timing } from "../../emulator/timing.ts";
import { startEmulator } from "../../emulator/index.ts";
import { armRequest, eventually } from "./support.ts";

const draws = (timing: Timing, count: number, draw: (timing: Timing) => number) =>
  Array.from({ length: count }, () => draw(timing));

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

describe("the azure profile", () => {
  const azure = (seed = "1", timeScale = 1) => createTiming({ profile: "azure", timeScale, seed });

  it("draws traffic-only write durations in 12–50 s with a mean near 25 s (recorded traffic-only PATCHes)", () => {
    const values = draws(azure(), 4_000, (timing) => timing.operationMs("configuration"));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(12_000);
    expect(Math.max(...values)).toBeLessThanOrEqual(50_000);
    expect(mean(values)).toBeGreaterThan(24_000);
    expect(mean(values)).toBeLessThan(26_000);
  });

  it("draws template write durations in 6–50 s with a mean near 16 s (recorded PATCHes with a template)", () => {
    const values = draws(azure(), 4_000, (timing) => timing.operationMs("revision"));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(6_000);
    expect(Math.max(...values)).toBeLessThanOrEqual(50_000);
    expect(mean(values)).toBeGreaterThan(15_000);
    expect(mean(values)).toBeLessThan(17_000);
  });

  it("keeps a new revision Provisioning past its operation, then Activating for seconds (test_containerapp_ingress_traffic_e2e)", () => {
    const timing = azure();
    for (let i = 0; i < 200; i += 1) {
      const operationMs = timing.operationMs("revision");
      expect(timing.provisioningMs(operationMs)).toBeGreaterThanOrEqual(operationMs);
      expect(timing.activationMs()).toBeGreaterThanOrEqual(2_000);
    }
  });

  it("retires the previous Single-mode revision after about a minute and expires after PT15M (test_containerapp_scale_revision_copy; x-ms-async-operation-timeout of every recorded PUT)", () => {
    expect(azure().retireDelayMs()).toBe(60_000);
    expect(azure().operationExpiryMs()).toBe(900_000);
    const given = createTiming({ profile: "azure", timeScale: 0.1, seed: "1", retireDelayMs: 5 });
    expect(given.retireDelayMs()).toBe(5);
  });

  it("repeats the same durations for the same seed, and others for another seed", () => {
    const run = (seed: string) =>
      draws(azure(seed), 20, (timing) => timing.operationMs("revision"));
    expect(run("7")).toEqual(run("7"));
    expect(run("7")).not.toEqual(run("8"));
  });

  it("scales every duration by the time scale", () => {
    const full = draws(azure("3"), 50, (timing) => timing.operationMs("configuration"));
    const scaled = draws(azure("3", 0.05), 50, (timing) => timing.operationMs("configuration"));
    // Both are rounded to whole milliseconds, so they agree within one.
    scaled.forEach((value, index) => expect(Math.abs(value - full[index] * 0.05)).toBeLessThan(1));
    expect(azure("3", 0.05).retireDelayMs()).toBe(3_000);
  });

  it("refuses the fast profile's options and a time scale that is not positive", () => {
    expect(() =>
      createTiming({ profile: "azure", timeScale: 1, seed: "1", operationDelayMs: 5 }),
    ).toThrow(/operationDelayMs sets the fast profile/);
    expect(() => createTiming({ profile: "azure", timeScale: 0, seed: "1" })).toThrow(/timeScale/);
    expect(() => createTiming({ profile: "slow" as "fast", timeScale: 1, seed: "1" })).toThrow(
      /timing must be "fast" or "azure"/,
    );
  });
});

describe("the fast profile", () => {
  it("runs operations for operationDelayMs, Activating for provisioningDelayMs, and Provisioning only while the process starts", () => {
    const timing = createTiming({
      profile: "fast",
      timeScale: 1,
      seed: "1",
      operationDelayMs: 100,
      provisioningDelayMs: 150,
    });
    expect([timing.operationMs("revision"), timing.operationMs("configuration")]).toEqual([
      100, 100,
    ]);
    expect(timing.activationMs()).toBe(150);
    expect(timing.provisioningMs(100)).toBe(0);
    expect([timing.retireDelayMs(), timing.operationExpiryMs()]).toEqual([300, 2_000]);
  });
});

describe("sample", () => {
  it("spans the range from its minimum to its maximum", () => {
    const spread = { minMs: 6_000, meanMs: 16_000, maxMs: 50_000 };
    expect(sample(spread, 0)).toBe(6_000);
    expect(sample(spread, 1 - 1e-12)).toBeCloseTo(50_000, -2);
  });
});

describe("the azure profile in a running emulator", () => {
  it("runs a traffic-only write for at least 12 s scaled (here 1/100: 120 ms) and reports the profile", async () => {
    const emulator = await startEmulator({ timing: "azure", timeScale: 0.01, seed: 42 });
    try {
      expect(emulator.info.timing).toEqual({ profile: "azure", timeScale: 0.01 });
      await emulator.seed({
        resourceGroup: "rg-timing",
        environment: "env-timing",
        app: "web",
        revisions: [{ suffix: "v1", image: "emulator.test/app:healthy" }],
        traffic: [{ revisionName: "web--v1", weight: 100 }],
      });
      const started = Date.now();
      const patch = await armRequest(
        emulator.info,
        "PATCH",
        `/subscriptions/${emulator.info.subscriptionId}/resourceGroups/rg-timing/providers/Microsoft.App/containerApps/web?api-version=2026-07-01`,
        { body: { tags: { step: "1" } } },
      );
      const status = new URL(patch.headers.get("azure-asyncoperation") ?? "");
      await eventually(async () => {
        const answer = await armRequest(emulator.info, "GET", status.pathname + status.search);
        return answer.body.status === "Succeeded" ? true : undefined;
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(120);
    } finally {
      await emulator.stop();
    }
  });
});
