/**
 * The lease, for every verb that changes traffic: a live lease of another run stops the verb before
 * its first write, an expired one is taken over, and a lease write that meets another write's lock
 * reads the app again before it tries again. A deploy's lease rides on its own writes; tags are
 * read-modify-write on this tool's keys only, so tags others set mid-run survive.
 */
import { deploy } from "../../src/core/actions/deploy.ts";
import { promote } from "../../src/core/actions/promote.ts";
import { reject } from "../../src/core/actions/reject.ts";
import { rollback } from "../../src/core/actions/rollback.ts";
import type { EngineDeps } from "../../src/core/ports.ts";
import { LAST_TAG, LEASE_TAG, decodeLeaseTags } from "../../src/core/tags.ts";
import type {
  DeploymentReport,
  DeployResult,
  Inputs,
  TrafficWeight,
} from "../../src/core/types.ts";
import { engine, healthy, inputs, probeWith } from "./support/engine.ts";
import {
  Conflict,
  FakeApps,
  STARTING_TRAFFIC,
  leaseOfAnotherRun,
  withLease,
} from "./support/fakeApps.ts";
import { STEPPED, givenHeld, givenPromoted } from "./support/given.ts";

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

  test("keeps a tag someone else set during the run when the run restores the traffic", async () => {
    const apps = new FakeApps();
    // Request 2 is step 1's first check round; from request 6, step 2's first, the release fails.
    let sent = 0;
    const { deps } = engine(apps, {
      send: async (request) => {
        if (++sent === 2) apps.tags = { ...apps.tags, owner: "ops" };
        return sent >= 6
          ? { status: 500, headers: {}, body: "broken", latencyMs: 5 }
          : healthy.send(request);
      },
    });
    const report = await deploy(inputs(STEPPED), deps);

    expect(report.result).toBe("rolled-back");
    expect(report.errorCode).toBe("ChecksFailedDuringShift");
    expect(report.steps.map((s) => [s.weight, s.ok])).toEqual([
      [10, true],
      [50, false],
    ]);
    expect(apps.traffic).toEqual(STARTING_TRAFFIC);
    expect(apps.tags).toEqual({ team: "shop", owner: "ops" });
  });
});

describe("a deploy's lease, on the deploy's own writes", () => {
  test("a 3-step deploy makes 4 writes: the create and one per step, then the deactivation", async () => {
    const apps = new FakeApps();
    const sent: { traffic: TrafficWeight[]; tags?: Record<string, string>; at: number }[] = [];
    const { deps, clock } = engine(apps, healthy);
    apps.onTrafficWrite = (traffic, tags) => sent.push({ traffic, tags, at: clock.now() });
    const started = clock.now();
    const report = await deploy(
      inputs({ ...STEPPED, "readiness-timeout": "10m", "smoke-timeout": "2m" }),
      deps,
    );

    expect(report.result).toBe("promoted");
    expect(apps.writes).toEqual(["create", "traffic", "traffic", "traffic", "deactivate shop--v1"]);
    // The create write takes the lease until the first step's write: readiness, then the checks.
    const created = decodeLeaseTags(apps.created?.tags ?? {});
    expect(created).toMatchObject({
      runId: deps.run.runId,
      candidate: "shop--v2",
      createdCandidate: true,
      before: STARTING_TRAFFIC,
      last: apps.created?.traffic,
      until: new Date(started + 12 * 60_000 + 5 * 60_000).toISOString(),
    });
    expect(apps.created?.tags?.team).toBe("shop");
    // Steps 1 and 2 renew it until after their bake; step 3 gives it back and records the promotion.
    expect(sent).toHaveLength(3);
    for (const step of sent.slice(0, 2)) {
      expect(decodeLeaseTags(step.tags ?? {})).toMatchObject({
        runId: deps.run.runId,
        before: STARTING_TRAFFIC,
        last: step.traffic,
        until: new Date(step.at + 60_000 + 5 * 60_000).toISOString(),
      });
    }
    const last = sent[2].tags ?? {};
    expect(Object.keys(last).filter((name) => name.startsWith(LEASE_TAG))).toEqual([]);
    expect(JSON.parse(last[LAST_TAG])).toMatchObject({
      revision: "shop--v2",
      previous: "shop--v1",
    });
    expect(sent.every((write) => write.tags?.team === "shop")).toBe(true);
    expect(apps.tags[LEASE_TAG]).toBeUndefined();
  });
});
