/**
 * The engine with its edges replaced by plain values: an in-memory container app, a clock that
 * only moves when the engine waits, and a probe that answers what the test says. Proves the waits,
 * deadlines and conflict handling without real time or processes.
 */
import { deploy } from "../../src/core/actions/deploy.ts";
import type { Clock } from "../../src/core/clock.ts";
import type { HttpProbe } from "../../src/core/checks/run.ts";
import { readInputs } from "../../src/core/inputs/validate.ts";
import { LEASE_TAG } from "../../src/core/tags.ts";
import { DEFAULT_TIMING } from "../../src/core/timing.ts";
import type {
  AppState,
  ContainerAppsPort,
  CreateRevisionRequest,
  EngineDeps,
  Log,
  PullAccessCheck,
  RevisionState,
} from "../../src/core/ports.ts";
import type { Inputs, TrafficWeight } from "../../src/core/types.ts";

class VirtualClock implements Clock {
  time = Date.parse("2026-11-27T10:00:00Z");
  now = () => this.time;
  sleep = async (ms: number, signal?: AbortSignal) => {
    if (signal?.aborted) throw signal.reason;
    this.time += ms;
    await Promise.resolve();
    if (signal?.aborted) throw signal.reason;
  };
}

class Conflict extends Error {
  statusCode = 409;
  code = "ContainerAppLockConflict";
}

/** One container app in memory; records every write. */
class FakeApps implements ContainerAppsPort {
  writes: string[] = [];
  created?: CreateRevisionRequest;
  traffic: TrafficWeight[] = [{ revisionName: "shop--v1", weight: 100, label: "blue" }];
  tags: Record<string, string> = {};
  revisions = new Map<string, RevisionState>([["shop--v1", revision("shop--v1", true)]]);
  /** How the next created revision behaves. */
  nextRevision: Partial<RevisionState> = {};
  pull: PullAccessCheck = { configured: true, message: "pulls with its identity" };
  onTagsWrite?: () => void;
  onCreate?: () => void;

  async getApp(): Promise<AppState> {
    return {
      name: "shop",
      resourceGroup: "rg",
      provisioningState: "Succeeded",
      activeRevisionsMode: "Multiple",
      latestRevisionName: [...this.revisions.keys()].at(-1),
      environmentId:
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/env",
      ingress: {
        fqdn: "shop.env.test",
        external: true,
        traffic: this.traffic.map((e) => ({ ...e })),
      },
      containers: [{ name: "shop", image: "registry.test/shop:1" }],
      template: { containers: [{ name: "shop", image: "registry.test/shop:1" }] },
      configuration: { activeRevisionsMode: "Multiple" },
      tags: { ...this.tags },
    };
  }
  async getWorkloadProfiles() {
    return [];
  }
  async listSecrets() {
    return [];
  }
  async listReplicas() {
    return [];
  }
  async getDefaultDomain() {
    return "env.test";
  }
  async listRevisions() {
    return [...this.revisions.values()];
  }
  async getRevision(name: string) {
    const found = this.revisions.get(name);
    if (!found) throw new Error(`no revision ${name}`);
    return found;
  }
  async createRevision(request: CreateRevisionRequest) {
    this.writes.push("create");
    this.onCreate?.();
    if (request.tags) this.tags = request.tags;
    this.created = request;
    const name = `shop--${request.revisionSuffix}`;
    const image = request.template.containers.find((c) => c.name === "shop")?.image;
    this.revisions.set(name, { ...revision(name, true, image), ...this.nextRevision });
    this.traffic = request.traffic;
    return this.getApp();
  }
  async updateTraffic(traffic: TrafficWeight[], options?: { tags?: Record<string, string> }) {
    const tags = options?.tags;
    this.writes.push("traffic");
    this.traffic = traffic;
    if (tags) this.tags = tags;
    return this.getApp();
  }
  async updateTags(tags: Record<string, string>) {
    this.writes.push("tags");
    this.onTagsWrite?.();
    this.tags = tags;
    return this.getApp();
  }
  describePullAccess() {
    return this.pull;
  }
  async activateRevision(name: string) {
    this.writes.push(`activate ${name}`);
  }
  async deactivateRevision(name: string) {
    this.writes.push(`deactivate ${name}`);
    const found = this.revisions.get(name);
    if (found) this.revisions.set(name, { ...found, active: false });
  }
}

function revision(name: string, active: boolean, image = "registry.test/shop:1"): RevisionState {
  return {
    name,
    active,
    provisioningState: "Provisioned",
    runningState: "Running",
    healthState: "Healthy",
    trafficWeight: 0,
    containers: [{ name: "shop", image }],
  };
}

const silent: Log = {
  debug() {},
  info() {},
  warning() {},
  error() {},
  group: (_title, fn) => fn(),
};

function inputs(given: Record<string, string>): Inputs {
  const parsed = readInputs(
    (name) =>
      ({
        "subscription-id": "00000000-0000-0000-0000-000000000001",
        "resource-group": "rg",
        "container-app": "shop",
        image: "registry.test/shop:2",
        "revision-suffix": "v2",
        ...given,
      })[name],
  );
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join("; "));
  return parsed.inputs;
}

function engine(apps: FakeApps, probe: HttpProbe, extra: Partial<EngineDeps> = {}) {
  const clock = new VirtualClock();
  const deps: EngineDeps = {
    apps,
    probe,
    clock,
    log: silent,
    state: { save() {}, load: () => undefined },
    run: { runId: "test:1", holder: "the test run" },
    timing: {
      operation: DEFAULT_TIMING.operation,
      readiness: { firstMs: 500, factor: 1.5, maxMs: 5_000 },
    },
    ...extra,
  };
  return { deps, clock };
}

const healthy: HttpProbe = {
  send: async () => ({ status: 200, headers: {}, body: "ok", latencyMs: 5 }),
};

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
    const until = new Date(Date.parse("2026-11-27T11:00:00Z")).toISOString();
    apps.onCreate = () => {
      apps.onCreate = undefined;
      apps.tags = {
        [LEASE_TAG]: JSON.stringify({
          runId: "other:7",
          holder: "pipeline Release run 7",
          since: "2026-11-27T09:59:00Z",
          until,
        }),
      };
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
});
