import type { Clock } from "../../../src/core/clock.ts";
import type {
  AppState,
  ContainerAppsPort,
  CreateRevisionRequest,
  PullAccessCheck,
  RevisionState,
  TrafficWriteOptions,
} from "../../../src/core/ports.ts";
import { LEASE_TAG, encodeLeaseTags, type Lease } from "../../../src/core/tags.ts";
import type { TrafficWeight } from "../../../src/core/types.ts";

/** The traffic the in-memory app starts with: v1 serves everything under the production label. */
export const STARTING_TRAFFIC: TrafficWeight[] = [
  { revisionName: "shop--v1", weight: 100, label: "blue" },
];

/** A write that met the lock of another write, as Azure answers it. */
export class Conflict extends Error {
  statusCode = 409;
  code = "ContainerAppLockConflict";
}

/**
 * Container app `shop` in memory. Records every write in `writes`, and every traffic write that
 * gave weight to a revision that could not serve in `outages`. Tags sent with a write (a tags
 * write, or the tags a create or traffic write carries) replace the app's tags as a whole, as the
 * service does. An activated revision is
 * `Activating` for `activationMs` on the app's clock, then reads as `activatesAs` (Running and
 * Healthy unless a test says otherwise).
 */
export class FakeApps implements ContainerAppsPort {
  writes: string[] = [];
  created?: CreateRevisionRequest;
  traffic: TrafficWeight[] = STARTING_TRAFFIC.map((e) => ({ ...e }));
  /** A tag of the app's owner: every run must leave it as it found it. */
  tags: Record<string, string> = { team: "shop" };
  revisions = new Map<string, RevisionState>([["shop--v1", revision("shop--v1", true)]]);
  /** How the next created revision behaves. */
  nextRevision: Partial<RevisionState> = {};
  pull: PullAccessCheck = { configured: true, message: "pulls with its identity" };
  /** Runs before a tags-only write is applied; may change the app, or throw to fail the write. */
  onTagsWrite?: () => void;
  /** Runs before the write that creates a revision is applied; may change the app, or throw. */
  onCreate?: () => void;
  /** Runs before a traffic write (tags included) is applied; may change the app, or throw. */
  onTrafficWrite?: (traffic: TrafficWeight[], tags?: Record<string, string>) => void;
  /** Runs before a deactivation is applied; may throw (or reject) to fail it, or never settle. */
  onDeactivate?: (name: string) => void | Promise<void>;
  /** The clock activations run on (engine() sets it). */
  clock?: Clock;
  activationMs = 0;
  /** How an activated revision reads once its activation time has passed. */
  activatesAs: Partial<RevisionState> = { runningState: "Running", healthState: "Healthy" };
  outages: string[] = [];
  readonly #readyAt = new Map<string, number>();

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
    return [...this.revisions.keys()].map((name) => this.#current(name));
  }
  async getRevision(name: string) {
    if (!this.revisions.has(name)) throw new Error(`no revision ${name}`);
    return this.#current(name);
  }
  async createRevision(request: CreateRevisionRequest) {
    this.writes.push("create");
    this.onCreate?.();
    this.created = request;
    const name = `shop--${request.revisionSuffix}`;
    const image = request.template.containers.find((c) => c.name === "shop")?.image;
    this.revisions.set(name, { ...revision(name, true, image), ...this.nextRevision });
    this.traffic = request.traffic;
    // Tags sent with a write replace the app's tags as a whole, as the service does.
    if (request.tags) this.tags = { ...request.tags };
    return this.getApp();
  }
  async updateTraffic(traffic: TrafficWeight[], options?: TrafficWriteOptions) {
    const tags = options?.tags;
    this.writes.push("traffic");
    this.onTrafficWrite?.(traffic, tags);
    for (const entry of traffic) {
      const target = this.revisions.has(entry.revisionName)
        ? this.#current(entry.revisionName)
        : undefined;
      const serving = target?.active && target.runningState === "Running";
      if (entry.weight > 0 && !serving) {
        this.outages.push(`${entry.weight}% to ${entry.revisionName} (${stateOf(target)})`);
      }
    }
    this.traffic = traffic;
    if (tags) this.tags = { ...tags };
    return this.getApp();
  }
  async updateTags(tags: Record<string, string>) {
    this.writes.push("tags");
    this.onTagsWrite?.();
    this.tags = { ...tags };
    return this.getApp();
  }
  describePullAccess() {
    return this.pull;
  }
  async activateRevision(name: string) {
    this.writes.push(`activate ${name}`);
    const found = this.revisions.get(name);
    if (!found) throw new Error(`no revision ${name}`);
    this.revisions.set(name, {
      ...found,
      active: true,
      runningState: "Activating",
      healthState: "None",
    });
    this.#readyAt.set(name, (this.clock?.now() ?? 0) + this.activationMs);
  }
  async deactivateRevision(name: string) {
    this.writes.push(`deactivate ${name}`);
    await this.onDeactivate?.(name);
    const found = this.revisions.get(name);
    if (found) this.revisions.set(name, { ...found, active: false });
    this.#readyAt.delete(name);
  }

  /** Makes `name` read as `state` from now on (what the service would report). */
  setRevision(name: string, state: Partial<RevisionState>): void {
    this.revisions.set(name, { ...this.#current(name), ...state });
  }

  /** The revision as read now: an activation that has had its time has ended. */
  #current(name: string): RevisionState {
    const found = this.revisions.get(name)!;
    const readyAt = this.#readyAt.get(name);
    if (readyAt !== undefined && (this.clock?.now() ?? 0) >= readyAt) {
      this.#readyAt.delete(name);
      const ready = { ...found, ...this.activatesAs };
      this.revisions.set(name, ready);
      return { ...ready };
    }
    return { ...found };
  }
}

function stateOf(revision: RevisionState | undefined): string {
  if (!revision) return "no such revision";
  return revision.active ? `${revision.runningState}, ${revision.healthState}` : "inactive";
}

export function revision(
  name: string,
  active: boolean,
  image = "registry.test/shop:1",
): RevisionState {
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

/** The lease tags of another run, valid until `until`, as that run writes them. */
export function leaseOfAnotherRun(
  until: string,
  extra: Partial<Lease> = {},
): Record<string, string> {
  return encodeLeaseTags({
    runId: "other:7",
    holder: "pipeline Release run 7",
    since: "2026-11-27T09:59:00Z",
    until,
    ...extra,
  });
}

/**
 * `tags` after another run wrote `lease` over them: its write replaces every chunk of the lease
 * that was there, and keeps everyone else's tags.
 */
export function withLease(
  tags: Record<string, string>,
  lease: Record<string, string>,
): Record<string, string> {
  const kept = Object.entries(tags).filter(
    ([name]) => name !== LEASE_TAG && !name.startsWith(`${LEASE_TAG}.`),
  );
  return { ...Object.fromEntries(kept), ...lease };
}
