/**
 * The emulated resources and where they are kept: subscriptions, resource groups, managed
 * environments, container apps with their revisions, and long-running operations, looked up as
 * ARM does (names case-insensitive, 404s with ARM's codes). What a write does to them is decided
 * elsewhere (writes.ts, revisions.ts); this module only holds and finds them.
 */
import type { RevisionProcess } from "./contracts.ts";
import { HttpError } from "./http.ts";
import type { RevisionFault } from "./types.ts";

export type Json = Record<string, unknown>;

export interface ResourceGroup {
  id: string;
  subscriptionId: string;
  name: string;
  location: string;
  tags: Record<string, string>;
}

export interface ManagedEnvironment {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  tags: Record<string, string>;
  /** Writable properties as last sent. */
  properties: Json;
  defaultDomain: string;
  staticIp: string;
  provisioningState: string;
  createdAt: string;
  lastModifiedAt: string;
}

export interface ContainerApp {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  tags: Record<string, string>;
  environmentId: string;
  identity?: Json;
  workloadProfileName?: string;
  configuration: Json;
  template: Json;
  provisioningState: string;
  latestRevisionName: string;
  latestReadyRevisionName?: string;
  /** Oldest first. */
  revisions: Revision[];
  operation?: Operation;
  createdAt: string;
  lastModifiedAt: string;
}

/** The one replica an active revision runs (the emulator does not scale). */
export interface Replica {
  name: string;
  createdTime: string;
  /** starting: up, not ready yet; ready: serving; crashing: its container keeps exiting. */
  state: "starting" | "ready" | "crashing";
  /** When it became ready. */
  readyTime?: string;
}

export interface Revision {
  name: string;
  template: Json;
  /** The first container runs as the revision's process. */
  image: string;
  container: string;
  createdTime: string;
  /** Only an inactive revision carries it: when it was last active. */
  lastActiveTime?: string;
  active: boolean;
  provisioningState: string;
  runningState: string;
  healthState: string;
  provisioningError?: string;
  runningStateDetails?: string;
  /** Set once the revision has been Provisioned: later failures leave that state alone. */
  provisioned: boolean;
  fault?: RevisionFault["mode"];
  process?: RevisionProcess;
  replica?: Replica;
  /**
   * The replicas beyond the first that `scale.minReplicas` asks for: they come up one after
   * another once the first is ready (the first one's process serves them all).
   */
  moreReplicas?: Replica[];
  /** Bumped on every start and stop, so a late callback from an older start changes nothing. */
  generation: number;
}

export interface Operation {
  id: string;
  resourceId: string;
  status: "InProgress" | "Succeeded" | "Failed";
  startTime: string;
  error?: { code: string; message: string };
}

export class ResourceStore {
  readonly #subscriptions = new Set<string>();
  readonly #groups = new Map<string, ResourceGroup>();
  readonly #environments = new Map<string, ManagedEnvironment>();
  readonly #apps = new Map<string, ContainerApp>();
  readonly #operations = new Map<string, Operation>();

  constructor(subscriptionId: string) {
    this.addSubscription(subscriptionId);
  }

  // Subscriptions

  addSubscription(subscriptionId: string): void {
    this.#subscriptions.add(subscriptionId.toLowerCase());
  }

  hasSubscription(subscriptionId: string): boolean {
    return this.#subscriptions.has(subscriptionId.toLowerCase());
  }

  // Resource groups

  setResourceGroup(group: ResourceGroup): void {
    this.#groups.set(keyOf(group.subscriptionId, group.name), group);
  }

  findResourceGroup(subscriptionId: string, name: string): ResourceGroup | undefined {
    return this.#groups.get(keyOf(subscriptionId, name));
  }

  requireResourceGroup(subscriptionId: string, name: string): ResourceGroup {
    const group = this.findResourceGroup(subscriptionId, name);
    if (!group) {
      throw new HttpError(
        404,
        "ResourceGroupNotFound",
        `Resource group '${name}' could not be found.`,
      );
    }
    return group;
  }

  // Managed environments

  setEnvironment(environment: ManagedEnvironment): void {
    this.#environments.set(
      keyOf(environment.subscriptionId, environment.resourceGroup, environment.name),
      environment,
    );
  }

  findEnvironment(
    subscriptionId: string,
    resourceGroup: string,
    name: string,
  ): ManagedEnvironment | undefined {
    return this.#environments.get(keyOf(subscriptionId, resourceGroup, name));
  }

  getEnvironment(subscriptionId: string, resourceGroup: string, name: string): ManagedEnvironment {
    this.requireResourceGroup(subscriptionId, resourceGroup);
    const environment = this.findEnvironment(subscriptionId, resourceGroup, name);
    if (!environment) {
      throw resourceNotFound("Microsoft.App/managedEnvironments", name, resourceGroup);
    }
    return environment;
  }

  listEnvironments(subscriptionId: string, resourceGroup: string): ManagedEnvironment[] {
    this.requireResourceGroup(subscriptionId, resourceGroup);
    return [...this.#environments.values()].filter((environment) =>
      inGroup(environment, subscriptionId, resourceGroup),
    );
  }

  environments(): ManagedEnvironment[] {
    return [...this.#environments.values()];
  }

  environmentById(id: string): ManagedEnvironment | undefined {
    const match =
      /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.App\/managedEnvironments\/([^/]+)$/i.exec(
        id,
      );
    return match ? this.findEnvironment(match[1], match[2], match[3]) : undefined;
  }

  environmentOf(app: ContainerApp): ManagedEnvironment {
    const environment = this.environmentById(app.environmentId);
    if (!environment) throw new Error(`The environment of app ${app.name} is gone.`);
    return environment;
  }

  // Container apps

  addApp(app: ContainerApp): void {
    this.#apps.set(keyOf(app.subscriptionId, app.resourceGroup, app.name), app);
  }

  findAppIn(subscriptionId: string, resourceGroup: string, name: string): ContainerApp | undefined {
    return this.#apps.get(keyOf(subscriptionId, resourceGroup, name));
  }

  getApp(subscriptionId: string, resourceGroup: string, name: string): ContainerApp {
    this.requireResourceGroup(subscriptionId, resourceGroup);
    const app = this.findAppIn(subscriptionId, resourceGroup, name);
    if (!app) throw resourceNotFound("Microsoft.App/containerApps", name, resourceGroup);
    return app;
  }

  /** An app by resource group and name in any subscription, as the control API names it. */
  findApp(resourceGroup: string, name: string): ContainerApp {
    const app = this.apps().find(
      (candidate) =>
        candidate.resourceGroup.toLowerCase() === resourceGroup.toLowerCase() &&
        candidate.name.toLowerCase() === name.toLowerCase(),
    );
    if (!app) throw resourceNotFound("Microsoft.App/containerApps", name, resourceGroup);
    return app;
  }

  listApps(subscriptionId: string, resourceGroup: string): ContainerApp[] {
    this.requireResourceGroup(subscriptionId, resourceGroup);
    return this.apps().filter((app) => inGroup(app, subscriptionId, resourceGroup));
  }

  apps(): ContainerApp[] {
    return [...this.#apps.values()];
  }

  // Operations

  addOperation(operation: Operation): void {
    this.#operations.set(operation.id, operation);
  }

  getOperation(id: string): Operation | undefined {
    return this.#operations.get(id);
  }
}

export function findRevision(app: ContainerApp, name: string): Revision | undefined {
  const lower = name.toLowerCase();
  return app.revisions.find((revision) => revision.name === lower);
}

export function getRevision(app: ContainerApp, name: string): Revision {
  const revision = findRevision(app, name);
  if (!revision) {
    throw resourceNotFound(
      "Microsoft.App/containerApps/revisions",
      `${app.name}/${name}`,
      app.resourceGroup,
    );
  }
  return revision;
}

/** ARM's own 404, in ARM's envelope, as recorded for every missing Microsoft.App resource. */
export function resourceNotFound(type: string, name: string, resourceGroup: string): HttpError {
  return new HttpError(
    404,
    "ResourceNotFound",
    `The Resource '${type}/${name}' under resource group '${resourceGroup}' was not found. ` +
      "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
  );
}

function keyOf(...parts: string[]): string {
  return parts.map((part) => part.toLowerCase()).join("/");
}

function inGroup(
  resource: { subscriptionId: string; resourceGroup: string },
  subscriptionId: string,
  resourceGroup: string,
): boolean {
  return (
    resource.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() &&
    resource.resourceGroup.toLowerCase() === resourceGroup.toLowerCase()
  );
}
