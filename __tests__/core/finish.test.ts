/**
 * Failures after the traffic reached its target: the writes that end a run (retiring the revisions
 * that served before, giving the lease back) can fail too, and the app must still never route to
 * an inactive revision, and the report must still say what the app routes.
 */
import { deploy } from "../../src/core/actions/deploy.ts";
import { rollback } from "../../src/core/actions/rollback.ts";
import { engine, healthy, inputs } from "./support/engine.ts";
import { FakeApps, revision } from "./support/fakeApps.ts";
import { givenPromoted } from "./support/given.ts";

class ServerError extends Error {
  statusCode = 500;
  code = "InternalServerError";
}

/** Which revisions the app's traffic weights that are not active. */
function weightedInactive(apps: FakeApps): string[] {
  return apps.traffic
    .filter((e) => e.weight > 0 && !apps.revisions.get(e.revisionName)?.active)
    .map((e) => `${e.revisionName} ${e.weight}%`);
}

describe("a deploy whose promotion fails while it retires the previous revisions", () => {
  test.failing("never leaves traffic on a revision it already deactivated", async () => {
    const apps = new FakeApps();
    apps.revisions.set("shop--v0", revision("shop--v0", true));
    apps.traffic = [
      { revisionName: "shop--v1", weight: 60, label: "blue" },
      { revisionName: "shop--v0", weight: 40 },
    ];
    apps.onDeactivate = (name) => {
      if (name === "shop--v0") throw new ServerError("The service is unavailable.");
    };
    const { deps } = engine(apps, healthy);
    await deploy(inputs({}), deps);

    expect(weightedInactive(apps)).toEqual([]);
    expect(apps.outages).toEqual([]);
  });
});

describe("a write that fails after the journal is settled", () => {
  test.failing(
    "a deploy whose lease release fails reports the traffic the app routes",
    async () => {
      const apps = new FakeApps();
      let tagWrites = 0;
      apps.onTagsWrite = () => {
        if (++tagWrites === 2) throw new ServerError("The service is unavailable.");
      };
      const { deps } = engine(apps, healthy);
      const report = await deploy(inputs({}), deps);

      expect(apps.traffic).toEqual([{ revisionName: "shop--v2", weight: 100, label: "blue" }]);
      expect(report.finalTraffic).toEqual(apps.traffic);
    },
  );

  test.failing("a rollback whose retirement fails reports the traffic the app routes", async () => {
    const apps = new FakeApps();
    await givenPromoted(apps, { "deactivate-previous": "false" });
    apps.onDeactivate = () => {
      throw new ServerError("The service is unavailable.");
    };
    const { deps } = engine(apps, healthy);
    const report = await rollback(inputs({ action: "rollback" }), deps);

    expect(apps.traffic).toEqual([{ revisionName: "shop--v1", weight: 100, label: "blue" }]);
    expect(report.finalTraffic).toEqual(apps.traffic);
  });
});
