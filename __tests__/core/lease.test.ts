/**
 * The lease, for every verb that changes traffic: a live lease of another run stops the verb before
 * its first write, an expired one is taken over, and a lease write that meets another write's lock
 * reads the app again before it tries again.
 */
import { deploy } from "../../src/core/actions/deploy.ts";
import { promote } from "../../src/core/actions/promote.ts";
import { reject } from "../../src/core/actions/reject.ts";
import { rollback } from "../../src/core/actions/rollback.ts";
import type { EngineDeps } from "../../src/core/ports.ts";
import { LEASE_TAG } from "../../src/core/tags.ts";
import type { DeploymentReport, DeployResult, Inputs } from "../../src/core/types.ts";
import { engine, healthy, inputs, probeWith } from "./support/engine.ts";
import { Conflict, FakeApps, leaseOfAnotherRun, withLease } from "./support/fakeApps.ts";
import { givenHeld, givenPromoted } from "./support/given.ts";

interface Verb {
  name: string;
  run: (inputs: Inputs, deps: EngineDeps) => Promise<DeploymentReport>;
  /** Brings the app to where the verb has something to do. */
  given: (apps: FakeApps) => Promise<unknown>;
  succeeds: DeployResult;
  /** The write that takes the lease: a deploy's rides on the write that creates its candidate. */
  takesLeaseWith: string;
}

const VERBS: Verb[] = [
  {
    name: "deploy",
    run: deploy,
    given: async () => {},
    succeeds: "promoted",
    takesLeaseWith: "create",
  },
  {
    name: "promote",
    run: promote,
    given: givenHeld,
    succeeds: "promoted",
    takesLeaseWith: "tags",
  },
  {
    name: "reject",
    run: reject,
    given: givenHeld,
    succeeds: "rolled-back",
    takesLeaseWith: "tags",
  },
  {
    name: "rollback",
    run: rollback,
    given: (apps) => givenPromoted(apps, { "deactivate-previous": "false" }),
    succeeds: "rolled-back",
    takesLeaseWith: "tags",
  },
];

describe.each(VERBS)("$name", (verb) => {
  test("stops before its first write while another run's lease is live", async () => {
    const apps = new FakeApps();
    await verb.given(apps);
    apps.tags = withLease(apps.tags, leaseOfAnotherRun("2026-11-27T12:00:00.000Z"));
    const tags = { ...apps.tags };
    const traffic = [...apps.traffic];
    const { deps } = engine(apps, healthy);
    const report = await verb.run(inputs({ action: verb.name }), deps);

    expect(report.result).toBe("failed");
    expect(report.errorCode).toBe("LeaseHeld");
    expect(report.reason).toContain("pipeline Release run 7");
    expect(apps.writes).toEqual([]);
    expect(apps.tags).toEqual(tags);
    expect(apps.traffic).toEqual(traffic);
  });

  test("takes over a lease that expired and runs to the end", async () => {
    const apps = new FakeApps();
    await verb.given(apps);
    apps.tags = withLease(apps.tags, leaseOfAnotherRun("2026-11-27T09:30:00.000Z"));
    const { deps } = engine(apps, healthy);
    const report = await verb.run(inputs({ action: verb.name }), deps);

    expect(report.result).toBe(verb.succeeds);
    expect(apps.writes[0]).toBe(verb.takesLeaseWith);
    expect(apps.tags[LEASE_TAG]).toBeUndefined();
    expect(apps.tags.team).toBe("shop");
  });
});

describe("a lease write that meets another write's lock", () => {
  test("promote reads the app again and takes the lease once the lock is gone", async () => {
    const apps = new FakeApps();
    await givenHeld(apps);
    apps.onTagsWrite = () => {
      apps.onTagsWrite = undefined;
      throw new Conflict("lock held by another operation");
    };
    const { deps } = engine(apps, healthy);
    const report = await promote(inputs({ action: "promote" }), deps);

    expect(report.result).toBe("promoted");
    expect(apps.writes.slice(0, 3)).toEqual(["tags", "tags", "traffic"]);
    expect(apps.traffic).toEqual([{ revisionName: "shop--v2", weight: 100, label: "blue" }]);
    expect(apps.tags[LEASE_TAG]).toBeUndefined();
  });

  test("rollback reads the app again and stops at the lease of the run that held the lock", async () => {
    const apps = new FakeApps();
    await givenPromoted(apps, { "deactivate-previous": "false" });
    const traffic = [...apps.traffic];
    const other = leaseOfAnotherRun("2026-11-27T12:00:00.000Z");
    apps.onTagsWrite = () => {
      apps.onTagsWrite = undefined;
      apps.tags = withLease(apps.tags, other);
      throw new Conflict("lock held by another operation");
    };
    const { deps } = engine(apps, healthy);
    const report = await rollback(inputs({ action: "rollback" }), deps);

    expect(report.result).toBe("failed");
    expect(report.errorCode).toBe("LeaseHeld");
    // The one write is the lease write that met the lock.
    expect(apps.writes).toEqual(["tags"]);
    expect(apps.traffic).toEqual(traffic);
    expect(apps.tags[LEASE_TAG]).toBe(other[LEASE_TAG]);
  });
});

describe("giving the lease back", () => {
  test("keeps a tag someone else set on the app during the run", async () => {
    const apps = new FakeApps();
    const probe = probeWith((request) => {
      if (request === 2) apps.tags = { ...apps.tags, owner: "ops" };
    });
    const { deps } = engine(apps, probe);
    const report = await deploy(inputs({}), deps);

    expect(report.result).toBe("promoted");
    expect(apps.tags[LEASE_TAG]).toBeUndefined();
    expect(apps.tags.owner).toBe("ops");
    expect(apps.tags.team).toBe("shop");
  });
});
