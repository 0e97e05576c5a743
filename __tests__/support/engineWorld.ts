/**
 * The engine's edges as plain values, for tests of what happens inside a bake: an in-memory
 * container app, and a clock on which time moves only when every task is waiting, jumping to the
 * earliest wake-up — so concurrent waits (the checks, the looks, the side-by-side traffic) keep
 * their order without any real time passing.
 */
import type { Clock } from "../../src/core/clock.ts";
import type { HttpProbe } from "../../src/core/checks/run.ts";
import { readInputs } from "../../src/core/inputs/validate.ts";
import type {
  AppState,
  ContainerAppsPort,
  CreateRevisionRequest,
  EngineDeps,
  Log,
  RevisionState,
} from "../../src/core/ports.ts";
import { DEFAULT_TIMING } from "../../src/core/timing.ts";
import type { Inputs, TrafficWeight } from "../../src/core/types.ts";

interface Timer {
  at: number;
  seq: number;
  wake: () => void;
}

export class EventClock implements Clock {
  time = Date.parse("2026-11-27T10:00:30Z");
  #timers: Timer[] = [];
  #seq = 0;
  #scheduled = false;

  now = () => this.time;

  sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const timer: Timer = { at: this.time + Math.max(0, ms), seq: this.#seq++, wake: resolve };
      const onAbort = () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal?.reason);
      };
      timer.wake = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#timers.push(timer);
      this.#schedule();
    });

  /** Fires the earliest timer once everything else has run (setImmediate follows the microtasks). */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#timers.shift();
      if (!next) return;
      this.time = Math.max(this.time, next.at);
      next.wake();
      if (this.#timers.length > 0) this.#schedule();
    });
  }
}

/** One container app in memory, serving v1 at 100% under `blue`; records every write. */
export class MemoryApp implements ContainerAppsPort {
  writes: string[] = [];
  traffic: TrafficWeight[] = [{ revisionName: "shop--v1", weight: 100, label: "blue" }];
  tags: Record<string, string> = {};
  revisions = new Map<string, RevisionState>([["shop--v1", revision("shop--v1")]]);

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
    if (request.tags) this.tags = request.tags;
    const name = `shop--${request.revisionSuffix}`;
    this.revisions.set(name, revision(name, request.template.containers[0]?.image));
    this.traffic = request.traffic;
    return this.getApp();
  }
  async updateTraffic(traffic: TrafficWeight[], options?: { tags?: Record<string, string> }) {
    this.writes.push("traffic");
    this.traffic = traffic;
    if (options?.tags) this.tags = options.tags;
    return this.getApp();
  }
  async updateTags(tags: Record<string, string>) {
    this.writes.push("tags");
    this.tags = tags;
    return this.getApp();
  }
  describePullAccess() {
    return { configured: true, message: "pulls with its identity" };
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

function revision(name: string, image = "registry.test/shop:1"): RevisionState {
  return {
    name,
    active: true,
    provisioningState: "Provisioned",
    runningState: "Running",
    healthState: "Healthy",
    trafficWeight: 0,
    containers: [{ name: "shop", image }],
  };
}

/** A log that keeps its lines, for assertions. */
export function recordingLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug() {},
    info: (message) => void lines.push(message),
    warning: (message) => void lines.push(`warning: ${message}`),
    error: (message) => void lines.push(`error: ${message}`),
    group: (_title, fn) => fn(),
  };
}

/** Validated inputs of a deploy of shop--v2, with `given` on top. */
export function deployInputs(given: Record<string, string>): Inputs {
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

export function engineDeps(
  apps: ContainerAppsPort,
  probe: HttpProbe,
  extra: Partial<EngineDeps> = {},
): EngineDeps & { clock: EventClock; log: ReturnType<typeof recordingLog> } {
  return {
    apps,
    probe,
    clock: new EventClock(),
    log: recordingLog(),
    state: { save() {}, load: () => undefined },
    run: { runId: "test:1", holder: "the test run" },
    timing: DEFAULT_TIMING,
    ...extra,
  } as EngineDeps & { clock: EventClock; log: ReturnType<typeof recordingLog> };
}
