/**
 * `action: rollback` on the engine, against the in-memory app. A rollback with traffic-steps goes
 * through the same shift-and-bake step as a deploy, so it stops for the same reasons and in the
 * same way, and its steps report the checks they ran.
 */
import { rollback } from "../../src/core/actions/rollback.ts";
import { LAST_TAG, LEASE_TAG } from "../../src/core/tags.ts";
import type { TrafficWeight } from "../../src/core/types.ts";
import { engine, healthy, inputs, probeWith } from "./support/engine.ts";
import { FakeApps, leaseOfAnotherRun, withLease } from "./support/fakeApps.ts";
import { STEPPED, givenPromoted } from "./support/given.ts";

const ROLLBACK = { action: "rollback" };

/** shop--v2 promoted, with shop--v1 kept active under the previous label: the rollback target. */
const PROMOTED: TrafficWeight[] = [
  { revisionName: "shop--v2", weight: 100, label: "blue" },
  { revisionName: "shop--v1", weight: 0, label: "previous" },
];
const FIRST_STEP: TrafficWeight[] = [
  { revisionName: "shop--v2", weight: 90, label: "blue" },
  { revisionName: "shop--v1", weight: 10, label: "green" },
];

async function givenPreviousActive(apps: FakeApps): Promise<Record<string, string>> {
  await givenPromoted(apps, { "deactivate-previous": "false" });
  expect(apps.traffic).toEqual(PROMOTED);
  return { ...apps.tags };
}

/** The third request is the second check round of step 1's bake (the first is the smoke check). */
const MID_BAKE = 3;

describe("rollback with traffic-steps", () => {
  test("bakes and checks every step but the last, then gives the target 100% and retires the rest", async () => {
    const apps = new FakeApps();
    await givenPreviousActive(apps);
    const probe = probeWith(() => {});
    const { deps, clock } = engine(apps, probe);
    const started = clock.now();
    const report = await rollback(inputs({ ...ROLLBACK, ...STEPPED }), deps);

    expect(report.result).toBe("rolled-back");
    expect(report.candidate).toBe("shop--v1");
    expect(report.steps.map((s) => [s.weight, s.ok, s.checksRun, s.checksPassed])).toEqual([
      [10, true, 4, 4],
      [50, true, 4, 4],
      [100, true, 0, 0],
    ]);
    expect(clock.now() - started).toBe(2 * 60_000);
    expect(apps.traffic).toEqual([{ revisionName: "shop--v1", weight: 100, label: "blue" }]);
    expect(apps.revisions.get("shop--v2")?.active).toBe(false);
    expect(apps.writes).toEqual(["tags", "traffic", "traffic", "traffic", "deactivate shop--v2"]);
    expect(apps.tags[LEASE_TAG]).toBeUndefined();
    expect(apps.tags.team).toBe("shop");
    expect(JSON.parse(apps.tags[LAST_TAG])).toMatchObject({
      revision: "shop--v1",
      previous: "shop--v2",
    });
    expect(apps.outages).toEqual([]);
  });

  test("a target that turns unhealthy mid-bake stops the rollback and restores the traffic", async () => {
    const apps = new FakeApps();
    const tags = await givenPreviousActive(apps);
    const probe = probeWith((request) => {
      if (request === MID_BAKE) {
        apps.setRevision("shop--v1", { runningState: "Degraded", healthState: "Unhealthy" });
      }
    });
    const { deps } = engine(apps, probe);
    const report = await rollback(inputs({ ...ROLLBACK, ...STEPPED }), deps);

    expect(report.result).toBe("failed");
    expect(report.errorCode).toBe("RevisionUnhealthy");
    expect(report.steps).toEqual([
      expect.objectContaining({ index: 1, weight: 10, ok: false, checksRun: 4, checksPassed: 4 }),
    ]);
    expect(report.steps[0].failure).toContain("Degraded");
    expect(apps.traffic).toEqual(PROMOTED);
    expect(report.finalTraffic).toEqual(PROMOTED);
    expect(apps.tags).toEqual(tags);
    // The target was active before the rollback: it is not the rollback's to deactivate.
    expect(apps.writes).toEqual(["tags", "traffic", "traffic"]);
    expect(apps.revisions.get("shop--v2")?.active).toBe(true);
  });

  test("a rollback that loses its lease mid-bake leaves the app as found and the lease to its holder", async () => {
    const apps = new FakeApps();
    await givenPreviousActive(apps);
    const other = leaseOfAnotherRun("2026-11-27T12:00:00.000Z");
    let writesBefore = -1;
    const probe = probeWith((request) => {
      if (request === MID_BAKE) {
        apps.tags = withLease(apps.tags, other);
        writesBefore = apps.writes.length;
      }
    });
    const { deps } = engine(apps, probe);
    const report = await rollback(inputs({ ...ROLLBACK, ...STEPPED }), deps);

    expect(report.result).toBe("failed");
    expect(report.errorCode).toBe("LeaseLost");
    expect(report.reason).toContain("pipeline Release run 7");
    expect(report.steps).toEqual([
      expect.objectContaining({ index: 1, weight: 10, ok: false, checksRun: 4 }),
    ]);
    expect(apps.writes.slice(writesBefore)).toEqual([]);
    expect(apps.traffic).toEqual(FIRST_STEP);
    expect(report.finalTraffic).toEqual(FIRST_STEP);
    expect(apps.tags[LEASE_TAG]).toBe(other[LEASE_TAG]);
  });

  test("a rollback whose traffic is changed by someone else mid-bake leaves it as they set it and releases its lease", async () => {
    const apps = new FakeApps();
    const tags = await givenPreviousActive(apps);
    const theirs: TrafficWeight[] = [
      { revisionName: "shop--v2", weight: 70, label: "blue" },
      { revisionName: "shop--v1", weight: 30, label: "green" },
    ];
    let writesBefore = -1;
    const probe = probeWith((request) => {
      if (request === MID_BAKE) {
        apps.traffic = theirs;
        writesBefore = apps.writes.length;
      }
    });
    const { deps } = engine(apps, probe);
    const report = await rollback(inputs({ ...ROLLBACK, ...STEPPED }), deps);

    expect(report.result).toBe("failed");
    expect(report.errorCode).toBe("TrafficChangedExternally");
    expect(report.steps).toEqual([
      expect.objectContaining({ index: 1, weight: 10, ok: false, checksRun: 4 }),
    ]);
    expect(report.steps[0].failure).toBe("traffic was changed by someone else");
    expect(apps.traffic).toEqual(theirs);
    expect(report.finalTraffic).toEqual(theirs);
    // The only write after their change gives our lease back.
    expect(apps.writes.slice(writesBefore)).toEqual(["tags"]);
    expect(apps.tags).toEqual(tags);
  });

  test("a check failing mid-bake restores the traffic, like a deploy's", async () => {
    const apps = new FakeApps();
    await givenPreviousActive(apps);
    let sent = 0;
    const { deps } = engine(apps, {
      send: async (request) =>
        ++sent >= MID_BAKE
          ? { status: 500, headers: {}, body: "broken", latencyMs: 5 }
          : healthy.send(request),
    });
    const report = await rollback(inputs({ ...ROLLBACK, ...STEPPED }), deps);

    expect(report.result).toBe("failed");
    expect(report.errorCode).toBe("ChecksFailedDuringShift");
    expect(report.steps).toEqual([
      expect.objectContaining({ index: 1, ok: false, checksRun: 2, checksPassed: 1 }),
    ]);
    expect(apps.traffic).toEqual(PROMOTED);
    expect(apps.tags[LEASE_TAG]).toBeUndefined();
  });
});

describe("rollback to an inactive revision", () => {
  test("activates it and waits until it is ready before giving it traffic", async () => {
    const apps = new FakeApps();
    await givenPromoted(apps);
    expect(apps.revisions.get("shop--v1")?.active).toBe(false);
    apps.activationMs = 30_000;
    const { deps, clock } = engine(apps, healthy);
    const started = clock.now();
    const report = await rollback(inputs(ROLLBACK), deps);

    expect(report.result).toBe("rolled-back");
    expect(report.candidate).toBe("shop--v1");
    expect(apps.writes).toEqual(["tags", "activate shop--v1", "traffic", "deactivate shop--v2"]);
    // Readiness polls at most 5 s apart: the wait ends within one gap of the activation.
    expect(clock.now() - started).toBeGreaterThanOrEqual(30_000);
    expect(clock.now() - started).toBeLessThan(35_000);
    expect(apps.outages).toEqual([]);
    expect(apps.traffic).toEqual([{ revisionName: "shop--v1", weight: 100, label: "blue" }]);
    expect(apps.revisions.get("shop--v1")?.active).toBe(true);
    expect(apps.revisions.get("shop--v2")?.active).toBe(false);
    expect(apps.tags[LEASE_TAG]).toBeUndefined();
  });

  test("a revision that fails to activate is put back to sleep and the traffic is left as it was", async () => {
    const apps = new FakeApps();
    await givenPromoted(apps);
    const promoted = [...apps.traffic];
    apps.activatesAs = { runningState: "ActivationFailed", healthState: "Unhealthy" };
    const { deps } = engine(apps, healthy);
    const report = await rollback(inputs(ROLLBACK), deps);

    expect(report.result).toBe("failed");
    expect(report.errorCode).toBe("RevisionFailed");
    expect(apps.traffic).toEqual(promoted);
    expect(apps.revisions.get("shop--v1")?.active).toBe(false);
    expect(apps.writes).toEqual(["tags", "activate shop--v1", "traffic", "deactivate shop--v1"]);
    expect(apps.tags[LEASE_TAG]).toBeUndefined();
    expect(apps.outages).toEqual([]);
  });
});
