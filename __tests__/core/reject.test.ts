/**
 * `action: reject` on the engine, against the in-memory app: the held deployment's pre-deploy
 * traffic comes back, weights and labels, and nothing the deploy left is kept.
 */
import { reject } from "../../src/core/actions/reject.ts";
import { LEASE_TAG } from "../../src/core/tags.ts";
import { engine, healthy, inputs } from "./support/engine.ts";
import { FakeApps, STARTING_TRAFFIC, revision } from "./support/fakeApps.ts";
import { givenHeld } from "./support/given.ts";

const REJECT = { action: "reject" };

describe("reject", () => {
  test("restores the held deployment's pre-deploy traffic, removes its tags and deactivates its candidate", async () => {
    const apps = new FakeApps();
    await givenHeld(apps);
    expect(Object.keys(apps.tags).some((t) => t.startsWith("aca-blue-green.held"))).toBe(true);
    const { deps } = engine(apps, healthy);
    const report = await reject(inputs(REJECT), deps);

    expect(report.result).toBe("rolled-back");
    expect(report.errorCode).toBeUndefined();
    expect(report.candidate).toBe("shop--v2");
    expect(apps.traffic).toEqual(STARTING_TRAFFIC);
    expect(report.finalTraffic).toEqual(STARTING_TRAFFIC);
    // The owner's tag stays; the held record and the lease are gone.
    expect(apps.tags).toEqual({ team: "shop" });
    expect(apps.revisions.get("shop--v2")?.active).toBe(false);
    expect(apps.revisions.get("shop--v1")?.active).toBe(true);
    expect(apps.writes).toEqual(["tags", "traffic", "deactivate shop--v2"]);
    expect(apps.outages).toEqual([]);
  });

  test("keeps a candidate the held deploy did not create (a rerun that reused the revision)", async () => {
    const apps = new FakeApps();
    apps.revisions.set("shop--v2", revision("shop--v2", true, "registry.test/shop:2"));
    await givenHeld(apps);
    const { deps } = engine(apps, healthy);
    const report = await reject(inputs(REJECT), deps);

    expect(report.result).toBe("rolled-back");
    expect(apps.traffic).toEqual(STARTING_TRAFFIC);
    expect(apps.tags).toEqual({ team: "shop" });
    expect(apps.revisions.get("shop--v2")?.active).toBe(true);
    expect(apps.writes).toEqual(["tags", "traffic"]);
  });

  test("refuses without a write when the traffic changed since the hold", async () => {
    const apps = new FakeApps();
    await givenHeld(apps);
    const changed = [{ revisionName: "shop--v2", weight: 100, label: "blue" }];
    apps.traffic = changed;
    const tags = { ...apps.tags };
    const { deps } = engine(apps, healthy);
    const report = await reject(inputs(REJECT), deps);

    expect(report.result).toBe("failed");
    expect(report.errorCode).toBe("HeldStateChanged");
    expect(apps.writes).toEqual([]);
    expect(apps.traffic).toEqual(changed);
    expect(apps.tags).toEqual(tags);
    expect(apps.tags[LEASE_TAG]).toBeUndefined();
    expect(apps.revisions.get("shop--v2")?.active).toBe(true);
  });
});
