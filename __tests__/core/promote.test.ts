/**
 * `action: promote` on the engine, against the in-memory app: it continues a held deployment from
 * the step it was held at, acts only on the state that was held, and when it fails (or is
 * cancelled) goes back to the held split, so that the operator can promote or reject again.
 */
import { promote } from "../../src/core/actions/promote.ts";
import type { HttpProbe } from "../../src/core/checks/run.ts";
import { RunJournal } from "../../src/core/journal.ts";
import { LAST_TAG, LEASE_TAG, decodeHeldTags } from "../../src/core/tags.ts";
import { engine, healthy, inputs, probeWith } from "./support/engine.ts";
import { FakeApps, STARTING_TRAFFIC } from "./support/fakeApps.ts";
import { givenHeld } from "./support/given.ts";

/** Promote's own bake and check cadence; its steps are the held deploy's. */
const PROMOTE = { action: "promote", "step-wait": "1m", "check-interval": "20s" };
const failing: HttpProbe = {
  send: async () => ({ status: 503, headers: {}, body: "down", latencyMs: 5 }),
};

/** The app's tags written by this tool for a held deployment. */
function heldTags(tags: Record<string, string>): string[] {
  return Object.keys(tags).filter((name) => name.startsWith("aca-blue-green.held"));
}

describe("promote", () => {
  test("continues a deploy held at 50% through its remaining step, baked and checked, to promotion", async () => {
    const apps = new FakeApps();
    await givenHeld(apps);
    expect(apps.traffic).toEqual([
      { revisionName: "shop--v1", weight: 50, label: "blue" },
      { revisionName: "shop--v2", weight: 50, label: "green" },
    ]);
    const { deps, clock } = engine(apps, healthy);
    const started = clock.now();
    const report = await promote(inputs(PROMOTE), deps);

    expect(report.result).toBe("promoted");
    expect(report.candidate).toBe("shop--v2");
    expect(report.steps).toEqual([
      expect.objectContaining({ index: 3, weight: 100, ok: true, checksRun: 4, checksPassed: 4 }),
    ]);
    // Only the held deploy's last step remains: one bake of step-wait.
    expect(clock.now() - started).toBe(60_000);
    expect(apps.traffic).toEqual([{ revisionName: "shop--v2", weight: 100, label: "blue" }]);
    expect(report.finalTraffic).toEqual(apps.traffic);
    expect(report.initialTraffic).toEqual(STARTING_TRAFFIC);
    expect(apps.revisions.get("shop--v1")?.active).toBe(false);
    // The last step's write gives the lease back and records the promotion.
    expect(apps.writes).toEqual(["tags", "traffic", "deactivate shop--v1"]);
    expect(heldTags(apps.tags)).toEqual([]);
    expect(apps.tags[LEASE_TAG]).toBeUndefined();
    expect(apps.tags.team).toBe("shop");
    expect(JSON.parse(apps.tags[LAST_TAG])).toMatchObject({
      revision: "shop--v2",
      previous: "shop--v1",
    });
    expect(apps.outages).toEqual([]);
  });

  test("a check failing during promote goes back to the held split and keeps the held record", async () => {
    const apps = new FakeApps();
    await givenHeld(apps);
    const held = [...apps.traffic];
    const tags = { ...apps.tags };
    const { deps } = engine(apps, failing);
    const report = await promote(inputs(PROMOTE), deps);

    expect(report.result).toBe("failed");
    expect(report.errorCode).toBe("ChecksFailedDuringShift");
    expect(report.steps).toEqual([
      expect.objectContaining({ index: 3, weight: 100, ok: false, checksPassed: 0 }),
    ]);
    expect(report.steps[0].failure).toContain("503");
    expect(apps.traffic).toEqual(held);
    expect(report.finalTraffic).toEqual(held);
    expect(apps.tags).toEqual(tags);
    expect(apps.revisions.get("shop--v1")?.active).toBe(true);
    expect(apps.revisions.get("shop--v2")?.active).toBe(true);
    expect(apps.writes).toEqual(["tags", "traffic", "traffic"]);
    expect(apps.outages).toEqual([]);
  });

  test("a cancelled promote goes back to the held split with the held record kept, and can run again", async () => {
    const apps = new FakeApps();
    await givenHeld(apps);
    const held = [...apps.traffic];
    const tags = { ...apps.tags };
    const cancel = new AbortController();
    // The second check round of the last step's bake.
    const probe = probeWith((request) => {
      if (request === 2) cancel.abort(new Error("received SIGTERM"));
    });
    const { deps, state } = engine(apps, probe, { signal: cancel.signal });
    const report = await promote(inputs(PROMOTE), deps);

    expect(report.result).toBe("failed");
    expect(report.errorCode).toBe("Cancelled");
    expect(apps.traffic).toEqual(held);
    expect(report.finalTraffic).toEqual(held);
    expect(apps.tags).toEqual(tags);
    expect(decodeHeldTags(apps.tags)?.traffic).toEqual(held);
    expect(apps.revisions.get("shop--v2")?.active).toBe(true);
    expect(apps.writes).toEqual(["tags", "traffic", "traffic"]);
    expect(RunJournal.load(state)?.settled).toBe(true);

    apps.writes = [];
    const again = await promote(inputs(PROMOTE), engine(apps, healthy).deps);
    expect(again.result).toBe("promoted");
    expect(apps.traffic).toEqual([{ revisionName: "shop--v2", weight: 100, label: "blue" }]);
    expect(heldTags(apps.tags)).toEqual([]);
    expect(apps.tags[LEASE_TAG]).toBeUndefined();
  });

  test("refuses without a write when the traffic changed since the hold", async () => {
    const apps = new FakeApps();
    await givenHeld(apps);
    const changed = [
      { revisionName: "shop--v1", weight: 80, label: "blue" },
      { revisionName: "shop--v2", weight: 20, label: "green" },
    ];
    apps.traffic = changed;
    const tags = { ...apps.tags };
    const { deps } = engine(apps, healthy);
    const report = await promote(inputs(PROMOTE), deps);

    expect(report.result).toBe("failed");
    expect(report.errorCode).toBe("HeldStateChanged");
    expect(report.reason).toContain("found shop--v1 80% (blue), shop--v2 20% (green)");
    expect(apps.writes).toEqual([]);
    expect(apps.traffic).toEqual(changed);
    expect(apps.tags).toEqual(tags);
  });

  test("refuses without a write when the held revision is no longer ready", async () => {
    const apps = new FakeApps();
    await givenHeld(apps);
    apps.setRevision("shop--v2", { runningState: "Degraded", healthState: "Unhealthy" });
    const traffic = [...apps.traffic];
    const { deps } = engine(apps, healthy);
    const report = await promote(inputs(PROMOTE), deps);

    expect(report.result).toBe("failed");
    expect(report.errorCode).toBe("RevisionNotReady");
    expect(report.reason).toContain("Degraded");
    expect(report.nextSteps).toContain("Reject the held deployment");
    expect(apps.writes).toEqual([]);
    expect(apps.traffic).toEqual(traffic);
  });

  test("refuses without a write when nothing is held", async () => {
    const apps = new FakeApps();
    const { deps } = engine(apps, healthy);
    const report = await promote(inputs(PROMOTE), deps);

    expect(report.result).toBe("failed");
    expect(report.errorCode).toBe("NothingHeld");
    expect(report.nextSteps).toContain("auto-promote: false");
    expect(apps.writes).toEqual([]);
    expect(apps.traffic).toEqual(STARTING_TRAFFIC);
  });
});
