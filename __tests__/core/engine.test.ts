/**
 * The engine with its edges replaced by plain values: an in-memory container app, a clock that
 * only moves when the engine waits, and a probe that answers what the test says. Proves the waits,
 * deadlines and conflict handling without real time or processes.
 */
import { deploy } from "../../src/core/actions/deploy.ts";
import type { HttpProbe } from "../../src/core/checks/run.ts";
import { LEASE_TAG } from "../../src/core/tags.ts";
import { engine, healthy, inputs } from "./support/engine.ts";
import { Conflict, FakeApps, leaseOfAnotherRun } from "./support/fakeApps.ts";

describe("the engine, against an in-memory app and a virtual clock", () => {
  test("a revision that never gets ready fails at readiness-timeout, measured on the injected clock", async () => {
    const apps = new FakeApps();
    apps.nextRevision = {
      provisioningState: "Provisioning",
      runningState: "Processing",
      healthState: "None",
    };
    const { deps, clock } = engine(apps, healthy);
    const started = clock.now();
    const report = await deploy(inputs({ "readiness-timeout": "10m" }), deps);
    expect(report.result).toBe("failed-before-traffic");
    expect(report.errorCode).toBe("RevisionNotReady");
    expect(clock.now() - started).toBeGreaterThanOrEqual(600_000);
    expect(clock.now() - started).toBeLessThan(610_000);
    expect(apps.traffic).toEqual([{ revisionName: "shop--v1", weight: 100, label: "blue" }]);
    // The lease rode on the create write; the restore gave it back with the traffic.
    expect(apps.writes).toEqual(["create", "traffic", "deactivate shop--v2"]);
  });

  test("a revision whose activation failed ends the wait at once, without waiting for the timeout", async () => {
    const apps = new FakeApps();
    apps.nextRevision = { runningState: "ActivationFailed", healthState: "Unhealthy" };
    const { deps, clock } = engine(apps, healthy);
    const started = clock.now();
    const report = await deploy(inputs({ "readiness-timeout": "10m" }), deps);
    expect(report.result).toBe("failed-before-traffic");
    expect(report.errorCode).toBe("RevisionFailed");
    expect(clock.now() - started).toBe(0);
  });

  test("steps bake for step-wait on the injected clock while the checks repeat every check-interval", async () => {
    const apps = new FakeApps();
    let requests = 0;
    const counting: HttpProbe = { send: async (r) => (requests++, healthy.send(r)) };
    const { deps, clock } = engine(apps, counting);
    const started = clock.now();
    const report = await deploy(
      inputs({ "traffic-steps": "10,50,100", "step-wait": "5m", "check-interval": "30s" }),
      deps,
    );
    expect(report.result).toBe("promoted");
    expect(clock.now() - started).toBe(3 * 300_000);
    // One smoke round, then rounds at 0, 30 s, ... 300 s in each of the three bakes.
    expect(requests).toBe(1 + 3 * 11);
    expect(report.steps.map((s) => [s.weight, s.checksPassed])).toEqual([
      [10, 11],
      [50, 11],
      [100, 11],
    ]);
  });

  test("a create write that meets another run's lock re-reads the app and stops at the other run's lease", async () => {
    const apps = new FakeApps();
    apps.onCreate = () => {
      apps.onCreate = undefined;
      apps.tags = leaseOfAnotherRun("2026-11-27T11:00:00.000Z");
      throw new Conflict("lock held by another operation");
    };
    const { deps } = engine(apps, healthy);
    const report = await deploy(inputs({}), deps);
    expect(report.result).toBe("failed");
    expect(report.errorCode).toBe("LeaseHeld");
    expect(report.reason).toContain("pipeline Release run 7");
    expect(apps.writes).toEqual(["create"]);
  });

  test("registry-identity adds managed-identity pull in the same write that creates the revision", async () => {
    const apps = new FakeApps();
    apps.pull = {
      configured: false,
      message: "no entry",
      registries: [{ server: "myacr.azurecr.io", identity: "system" }],
    };
    const built = {
      image: "myacr.azurecr.io/shop@sha256:" + "a".repeat(64),
      digest: "sha256:" + "a".repeat(64),
    };
    const { deps } = engine(apps, healthy, {
      image: { describe: () => "./app", build: async () => built },
    });
    const report = await deploy(
      inputs({
        image: "",
        "build-context": "./app",
        registry: "myacr.azurecr.io",
        "image-name": "shop",
        "image-tag": "v2",
        "registry-identity": "system",
      }),
      deps,
    );
    expect(report.result).toBe("promoted");
    expect(apps.created?.template.containers[0].image).toBe(built.image);
    expect(apps.created?.registries).toEqual([{ server: "myacr.azurecr.io", identity: "system" }]);
  });

  test("an ACR the app cannot pull from stops the deploy before the build and before any write", async () => {
    const apps = new FakeApps();
    apps.pull = {
      configured: false,
      message: "Container app shop has no entry for myacr.azurecr.io",
    };
    let builds = 0;
    const { deps } = engine(apps, healthy, {
      image: {
        describe: () => "./app",
        build: async () => (builds++, { image: "x", digest: "y" }),
      },
    });
    const report = await deploy(
      inputs({
        image: "",
        "build-context": "./app",
        registry: "myacr.azurecr.io",
        "image-name": "shop",
        "image-tag": "v2",
      }),
      deps,
    );
    expect(report.result).toBe("failed");
    expect(report.errorCode).toBe("RegistryAccessMissing");
    expect(builds).toBe(0);
    expect(apps.writes).toEqual([]);
  });

  test("cancellation during a bake restores the snapshot and reports it", async () => {
    const apps = new FakeApps();
    const cancel = new AbortController();
    let rounds = 0;
    const probe: HttpProbe = {
      send: async (r) => {
        if (++rounds === 4) cancel.abort(new Error("received SIGTERM"));
        return healthy.send(r);
      },
    };
    const { deps } = engine(apps, probe, { signal: cancel.signal });
    const report = await deploy(
      inputs({ "traffic-steps": "10,50,100", "step-wait": "5m", "check-interval": "30s" }),
      deps,
    );
    expect(report.result).toBe("rolled-back");
    expect(report.errorCode).toBe("Cancelled");
    expect(apps.traffic).toEqual([{ revisionName: "shop--v1", weight: 100, label: "blue" }]);
    expect(apps.tags[LEASE_TAG]).toBeUndefined();
    expect(apps.writes.at(-1)).toBe("deactivate shop--v2");
  });

  test("an app changed by someone else right before the restore is left as they set it", async () => {
    const apps = new FakeApps();
    const theirs = [
      { revisionName: "shop--v1", weight: 70, label: "blue" },
      { revisionName: "shop--v2", weight: 30, label: "green" },
    ];
    let sent = 0;
    let writesBefore = -1;
    // Request 6 is step 2's first check round: it fails, and at that moment someone sets traffic.
    const probe: HttpProbe = {
      send: async (request) => {
        if (++sent < 6) return healthy.send(request);
        if (sent === 6) {
          apps.traffic = theirs;
          writesBefore = apps.writes.length;
        }
        return { status: 500, headers: {}, body: "broken", latencyMs: 5 };
      },
    };
    const { deps } = engine(apps, probe);
    const report = await deploy(
      inputs({ "traffic-steps": "10,50,100", "step-wait": "1m", "check-interval": "20s" }),
      deps,
    );

    expect(report.result).toBe("failed");
    expect(report.errorCode).toBe("TrafficChangedExternally");
    expect(report.reason).toContain("Someone else changed the traffic of shop before the restore");
    expect(report.reason).toContain("shop--v2 50% → 30% (-20)");
    expect(apps.traffic).toEqual(theirs);
    expect(report.finalTraffic).toEqual(theirs);
    // The only write after their change gives the lease back; their tags and split stay.
    expect(apps.writes.slice(writesBefore)).toEqual(["tags"]);
    expect(apps.tags).toEqual({ team: "shop" });
    expect(apps.revisions.get("shop--v2")?.active).toBe(true);
  });
});
