/**
 * The emulated Azure Container Apps world: resource groups, managed environments, container apps
 * and their revisions, what a write does to them (new revisions, traffic, revision modes, pruning)
 * and each revision's lifecycle as a real local process. Whether a write is allowed at all is
 * decided by the rules in validation.ts. ARM (arm.ts) and the control API (control.ts) are two
 * doors into this one state.
 */
import { randomUUID } from "node:crypto";
import type {
  Route,
  RouteTarget,
  RevisionProcess,
  RoutingTable,
  StartRevisionOptions,
} from "./contracts.ts";
import { HttpError, isRecord } from "./http.ts";
import { defaultDomainFor, randomRevisionSuffix, replicaNameFor } from "./names.ts";
import type { AppView, RevisionFault, SeedSpec, TrafficEntry } from "./types.ts";
import {
  checkAppBody,
  checkAppName,
  checkConfiguration,
  checkEnvironmentId,
  checkEnvironmentName,
  checkEnvironmentUnchanged,
  checkIdentity,
  checkLocation,
  checkNotLocked,
  checkResourceGroupName,
  checkRevisionName,
  checkSeed,
  checkTags,
  checkTemplate,
  checkTraffic,
  checkWorkloadProfileName,
  defaultMaxInactiveRevisions,
  defaultTraffic,
  revisionSuffixTaken,
} from "./validation.ts";

type Json = Record<string, unknown>;

export interface StateOptions {
  subscriptionId: string;
  location: string;
  operationDelayMs: number;
  provisioningDelayMs: number;
  startProcess(options: StartRevisionOptions): Promise<RevisionProcess>;
  takeRevisionFault(app: string, image: string): RevisionFault["mode"] | undefined;
}

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

export interface Revision {
  name: string;
  template: Json;
  image: string;
  createdTime: string;
  lastActiveTime: string;
  active: boolean;
  provisioningState: string;
  runningState: string;
  healthState: string;
  provisioningError?: string;
  /** Set once the revision has been Provisioned: later failures leave that state alone. */
  provisioned: boolean;
  fault?: RevisionFault["mode"];
  process?: RevisionProcess;
  replicaName?: string;
  replicaCreatedTime?: string;
  /** Bumped on every start and stop, so a late callback from an older process changes nothing. */
  generation: number;
}

export interface Operation {
  id: string;
  resourceId: string;
  status: "InProgress" | "Succeeded" | "Failed";
  startTime: string;
  endTime?: string;
  error?: { code: string; message: string };
}

/** What an app write sets, after validation and defaults. */
interface DesiredApp {
  location: string;
  tags: Record<string, string>;
  environmentId: string;
  identity?: Json;
  workloadProfileName?: string;
  configuration: Json;
  template: Json;
}

export class EmulatorState {
  readonly #options: StateOptions;
  readonly #subscriptions = new Set<string>();
  readonly #groups = new Map<string, ResourceGroup>();
  readonly #environments = new Map<string, ManagedEnvironment>();
  readonly #apps = new Map<string, ContainerApp>();
  readonly #operations = new Map<string, Operation>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #pending = new Set<Promise<unknown>>();
  #stopped = false;

  constructor(options: StateOptions) {
    this.#options = options;
    this.#subscriptions.add(options.subscriptionId.toLowerCase());
  }

  get location(): string {
    return this.#options.location;
  }

  hasSubscription(subscriptionId: string): boolean {
    return this.#subscriptions.has(subscriptionId.toLowerCase());
  }

  // Resource groups

  putResourceGroup(
    subscriptionId: string,
    name: string,
    body: unknown,
  ): { group: ResourceGroup; created: boolean } {
    checkLocation(body);
    checkResourceGroupName(name);
    const key = keyOf(subscriptionId, name);
    const existing = this.#groups.get(key);
    const group: ResourceGroup = {
      id: `/subscriptions/${subscriptionId}/resourceGroups/${existing?.name ?? name}`,
      subscriptionId,
      name: existing?.name ?? name,
      location: existing?.location ?? body.location,
      tags: checkTags(body.tags),
    };
    this.#groups.set(key, group);
    return { group, created: !existing };
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

  putEnvironment(
    subscriptionId: string,
    resourceGroup: string,
    name: string,
    body: unknown,
  ): { environment: ManagedEnvironment; created: boolean; operation: Operation } {
    const group = this.requireResourceGroup(subscriptionId, resourceGroup);
    checkLocation(body);
    checkEnvironmentName(name);
    const key = keyOf(subscriptionId, group.name, name);
    const existing = this.#environments.get(key);
    const now = new Date().toISOString();
    const properties = isRecord(body.properties) ? structuredClone(body.properties) : {};
    for (const readOnly of ["provisioningState", "defaultDomain", "staticIp", "deploymentErrors"]) {
      delete properties[readOnly];
    }
    const id =
      existing?.id ??
      `/subscriptions/${subscriptionId}/resourceGroups/${group.name}/providers/Microsoft.App/managedEnvironments/${name}`;
    const environment: ManagedEnvironment = {
      id,
      subscriptionId,
      resourceGroup: group.name,
      name: existing?.name ?? name,
      location: body.location,
      tags: checkTags(body.tags),
      properties,
      defaultDomain: existing?.defaultDomain ?? defaultDomainFor(id, body.location),
      staticIp: "127.0.0.1",
      provisioningState: "InProgress",
      createdAt: existing?.createdAt ?? now,
      lastModifiedAt: now,
    };
    this.#environments.set(key, environment);
    const operation = this.#startOperation(id, [], {
      onDone: () => {
        environment.provisioningState = "Succeeded";
      },
    });
    return { environment, created: !existing, operation };
  }

  getEnvironment(subscriptionId: string, resourceGroup: string, name: string): ManagedEnvironment {
    this.requireResourceGroup(subscriptionId, resourceGroup);
    const environment = this.#environments.get(keyOf(subscriptionId, resourceGroup, name));
    if (!environment)
      throw resourceNotFound("Microsoft.App/managedEnvironments", name, resourceGroup);
    return environment;
  }

  listEnvironments(subscriptionId: string, resourceGroup: string): ManagedEnvironment[] {
    this.requireResourceGroup(subscriptionId, resourceGroup);
    return [...this.#environments.values()].filter((environment) =>
      sameName(environment, subscriptionId, resourceGroup),
    );
  }

  #environmentById(id: string): ManagedEnvironment | undefined {
    const match =
      /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.App\/managedEnvironments\/([^/]+)$/i.exec(
        id,
      );
    return match ? this.#environments.get(keyOf(match[1], match[2], match[3])) : undefined;
  }

  environmentOf(app: ContainerApp): ManagedEnvironment {
    const environment = this.#environmentById(app.environmentId);
    if (!environment) throw new Error(`The environment of app ${app.name} is gone.`);
    return environment;
  }

  // Container apps

  getApp(subscriptionId: string, resourceGroup: string, name: string): ContainerApp {
    this.requireResourceGroup(subscriptionId, resourceGroup);
    const app = this.#apps.get(keyOf(subscriptionId, resourceGroup, name));
    if (!app) throw resourceNotFound("Microsoft.App/containerApps", name, resourceGroup);
    return app;
  }

  listApps(subscriptionId: string, resourceGroup: string): ContainerApp[] {
    this.requireResourceGroup(subscriptionId, resourceGroup);
    return [...this.#apps.values()].filter((app) => sameName(app, subscriptionId, resourceGroup));
  }

  getOperation(id: string): Operation | undefined {
    return this.#operations.get(id);
  }

  /** PUT: creates the app or replaces everything it holds with the body. */
  putApp(
    subscriptionId: string,
    resourceGroup: string,
    name: string,
    body: unknown,
  ): { app: ContainerApp; created: boolean; operation: Operation } {
    const group = this.requireResourceGroup(subscriptionId, resourceGroup);
    const existing = this.#apps.get(keyOf(subscriptionId, group.name, name));
    if (existing) checkNotLocked(existing);
    else checkAppName(name);
    checkAppBody(body);
    checkLocation(body);
    const properties = isRecord(body.properties) ? body.properties : {};
    const template = isRecord(properties.template) ? properties.template : undefined;
    const configuration = isRecord(properties.configuration) ? properties.configuration : {};
    const ingress = isRecord(configuration.ingress) ? configuration.ingress : undefined;
    const desired = this.#desiredApp(existing, {
      location: body.location,
      tags: body.tags,
      identity: body.identity,
      properties,
    });
    const app =
      existing ??
      this.#newApp(subscriptionId, group.name, name, desired.environmentId, desired.location);
    const operation = this.#write(app, desired, {
      explicitSuffix: suffixOf(template),
      trafficSent: ingress !== undefined && ingress.traffic !== undefined,
    });
    return { app, created: !existing, operation };
  }

  /** PATCH: the fields sent replace those fields; arrays (traffic, containers…) and tags as a whole. */
  patchApp(
    subscriptionId: string,
    resourceGroup: string,
    name: string,
    body: unknown,
  ): { app: ContainerApp; operation: Operation } {
    const app = this.getApp(subscriptionId, resourceGroup, name);
    checkNotLocked(app);
    checkAppBody(body);
    const patchProperties = isRecord(body.properties) ? body.properties : {};
    const patchTemplate = isRecord(patchProperties.template) ? patchProperties.template : undefined;
    const patchConfiguration = isRecord(patchProperties.configuration)
      ? patchProperties.configuration
      : undefined;
    const patchIngress = isRecord(patchConfiguration?.ingress)
      ? patchConfiguration.ingress
      : undefined;
    const current: Json = {
      environmentId: app.environmentId,
      workloadProfileName: app.workloadProfileName,
      configuration: structuredClone(app.configuration),
      template: structuredClone(app.template),
    };
    const properties = mergePatch(current, patchProperties);
    const desired = this.#desiredApp(app, {
      location: app.location,
      tags: body.tags === undefined ? app.tags : body.tags,
      identity: isRecord(body.identity)
        ? mergePatch(app.identity ?? {}, body.identity)
        : (body.identity ?? app.identity),
      properties,
    });
    const operation = this.#write(app, desired, {
      explicitSuffix: suffixOf(patchTemplate),
      trafficSent: patchIngress !== undefined && patchIngress.traffic !== undefined,
    });
    return { app, operation };
  }

  #newApp(
    subscriptionId: string,
    resourceGroup: string,
    name: string,
    environmentId: string,
    location: string,
  ): ContainerApp {
    const now = new Date().toISOString();
    return {
      id: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.App/containerApps/${name}`,
      subscriptionId,
      resourceGroup,
      name,
      location,
      tags: {},
      environmentId,
      configuration: {},
      template: {},
      provisioningState: "InProgress",
      latestRevisionName: "",
      revisions: [],
      createdAt: now,
      lastModifiedAt: now,
    };
  }

  #desiredApp(
    existing: ContainerApp | undefined,
    input: { location: string; tags: unknown; identity: unknown; properties: Json },
  ): DesiredApp {
    const { properties } = input;
    const environmentId = checkEnvironmentId(properties);
    const environment = this.#environmentById(environmentId);
    if (!environment) {
      throw new HttpError(
        400,
        "ManagedEnvironmentNotFound",
        `Managed environment '${environmentId}' was not found.`,
      );
    }
    if (existing) checkEnvironmentUnchanged(existing, environment.id);
    const identity = checkIdentity(input.identity);
    const workloadProfileName = checkWorkloadProfileName(properties.workloadProfileName);
    return {
      location: input.location,
      tags: checkTags(input.tags),
      environmentId: environment.id,
      identity,
      workloadProfileName,
      configuration: checkConfiguration(properties.configuration),
      template: checkTemplate(properties.template),
    };
  }

  /** Applies a validated write: a new revision when the template changed, traffic rules, modes. */
  #write(
    app: ContainerApp,
    desired: DesiredApp,
    request: { explicitSuffix: string | undefined; trafficSent: boolean },
  ): Operation {
    const isNew = app.revisions.length === 0;
    const previousMode = app.configuration.activeRevisionsMode;
    const templateChanged =
      isNew ||
      canonical(withoutSuffix(desired.template)) !== canonical(withoutSuffix(app.template)) ||
      (request.explicitSuffix !== undefined && request.explicitSuffix !== suffixOf(app.template));

    let newRevisionName: string | undefined;
    if (templateChanged) {
      const suffix = request.explicitSuffix ?? this.#randomSuffix(app);
      if (request.explicitSuffix !== undefined) checkRevisionName(app.name, suffix);
      newRevisionName = `${app.name}--${suffix}`;
    }
    const duplicate =
      newRevisionName !== undefined && findRevision(app, newRevisionName) !== undefined;

    const mode = String(desired.configuration.activeRevisionsMode);
    const ingress = desired.configuration.ingress;
    if (isRecord(ingress)) {
      const latest = newRevisionName ?? app.latestRevisionName;
      const known = new Set(app.revisions.map((revision) => revision.name));
      if (newRevisionName) known.add(newRevisionName);
      if (request.trafficSent || ingress.traffic === undefined) {
        ingress.traffic = checkTraffic(ingress.traffic ?? defaultTraffic(), {
          app: app.name,
          mode,
          known,
          latest,
        });
      } else if (mode === "Single" && previousMode !== "Single") {
        ingress.traffic = defaultTraffic();
      }
    }

    app.provisioningState = "InProgress";
    if (duplicate) {
      const suffix = newRevisionName?.slice(app.name.length + 2) ?? "";
      return this.#startAppOperation(app, [Promise.resolve(revisionSuffixTaken(suffix))]);
    }

    app.location = desired.location;
    app.tags = desired.tags;
    app.identity = desired.identity;
    app.workloadProfileName = desired.workloadProfileName;
    app.configuration = desired.configuration;
    app.template = desired.template;
    app.lastModifiedAt = new Date().toISOString();
    if (isNew) this.#apps.set(keyOf(app.subscriptionId, app.resourceGroup, app.name), app);

    const outcomes: Promise<string | undefined>[] = [];
    if (newRevisionName) {
      const revision = this.#newRevision(app, newRevisionName, desired.template);
      app.revisions.push(revision);
      app.latestRevisionName = revision.name;
      outcomes.push(this.#track(this.#provision(app, revision)));
    }
    if (mode === "Single") {
      // Single mode keeps one revision active: the latest takes all traffic.
      for (const revision of app.revisions) {
        if (revision.name !== app.latestRevisionName && revision.active) {
          this.#deactivate(revision);
        }
      }
    }
    this.#prune(app);
    return this.#startAppOperation(app, outcomes);
  }

  #newRevision(app: ContainerApp, name: string, template: Json): Revision {
    const image = imageOf(template);
    const now = new Date().toISOString();
    return {
      name,
      template: structuredClone(template),
      image,
      createdTime: now,
      lastActiveTime: now,
      active: true,
      provisioningState: "Provisioning",
      runningState: "Processing",
      healthState: "None",
      provisioned: false,
      fault: this.#options.takeRevisionFault(app.name, image),
      generation: 0,
    };
  }

  #randomSuffix(app: ContainerApp): string {
    for (;;) {
      const suffix = randomRevisionSuffix();
      if (!findRevision(app, `${app.name}--${suffix}`)) return suffix;
    }
  }

  /**
   * The operation of an app write: it ends once `operationDelayMs` has passed and every revision
   * it created has started (or failed to). It fails when one of them failed to provision.
   */
  #startAppOperation(app: ContainerApp, outcomes: Promise<string | undefined>[]): Operation {
    const operation = this.#startOperation(app.id, outcomes, {
      describeFailure: (detail) => ({
        code: "ContainerAppOperationError",
        message: `Failed to provision revision for container app '${app.name}'. Error details: ${detail}`,
      }),
      onDone: (done) => {
        app.provisioningState = done.status;
        if (app.operation === done) app.operation = undefined;
      },
    });
    app.operation = operation;
    return operation;
  }

  /** An operation that runs for `operationDelayMs` and until every outcome has settled. */
  #startOperation(
    resourceId: string,
    outcomes: Promise<string | undefined>[],
    handlers: {
      describeFailure?: (detail: string) => { code: string; message: string };
      onDone: (operation: Operation) => void;
    },
  ): Operation {
    const operation: Operation = {
      id: randomUUID(),
      resourceId,
      status: "InProgress",
      startTime: new Date().toISOString(),
    };
    this.#operations.set(operation.id, operation);
    void Promise.all([this.#delay(this.#options.operationDelayMs), ...outcomes]).then(
      ([, ...details]) => {
        if (this.#stopped) return;
        const failure = details.find((detail) => detail !== undefined);
        operation.status = failure === undefined ? "Succeeded" : "Failed";
        operation.endTime = new Date().toISOString();
        if (failure !== undefined) {
          operation.error = handlers.describeFailure?.(failure) ?? {
            code: "OperationFailed",
            message: failure,
          };
        }
        handlers.onDone(operation);
      },
    );
    return operation;
  }

  // Revisions

  getRevision(app: ContainerApp, name: string): Revision {
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

  activateRevision(app: ContainerApp, name: string): void {
    const revision = this.getRevision(app, name);
    checkNotLocked(app);
    if (revision.active) return;
    revision.active = true;
    revision.lastActiveTime = new Date().toISOString();
    void this.#track(this.#provision(app, revision));
  }

  deactivateRevision(app: ContainerApp, name: string): void {
    const revision = this.getRevision(app, name);
    checkNotLocked(app);
    if (!revision.active) return;
    this.#deactivate(revision);
    this.#prune(app);
  }

  restartRevision(app: ContainerApp, name: string): void {
    const revision = this.getRevision(app, name);
    checkNotLocked(app);
    if (!revision.active) {
      throw new HttpError(
        400,
        "ContainerAppRevisionNotActive",
        `Revision '${revision.name}' is not active; activate it instead of restarting it.`,
      );
    }
    this.#stopProcess(revision);
    void this.#track(this.#provision(app, revision));
  }

  /** Percentage of the app's traffic that lands on the revision. */
  trafficWeightOf(app: ContainerApp, revision: Revision): number {
    return trafficEntries(app)
      .filter((entry) => resolveEntry(app, entry) === revision.name)
      .reduce((sum, entry) => sum + Number(entry.weight ?? 0), 0);
  }

  /** Starts a revision's process; resolves with why it failed to provision, if it did. */
  async #provision(app: ContainerApp, revision: Revision): Promise<string | undefined> {
    const generation = ++revision.generation;
    revision.runningState = "Processing";
    revision.healthState = "None";
    revision.provisioningError = undefined;
    if (!revision.provisioned) revision.provisioningState = "Provisioning";
    if (revision.fault === "fail-provisioning") {
      const detail = `Field 'template.containers.image' is invalid with details: 'Invalid value: "${revision.image}": the image could not be pulled'.`;
      this.#markFailed(revision, detail);
      return detail;
    }
    let process: RevisionProcess;
    try {
      process = await this.#options.startProcess({
        app: app.name,
        revision: revision.name,
        image: revision.image,
      });
    } catch (error) {
      if (generation !== revision.generation || this.#stopped) return undefined;
      const detail = error instanceof Error ? error.message : String(error);
      this.#markFailed(revision, detail);
      return detail;
    }
    if (generation !== revision.generation || this.#stopped) {
      await process.stop();
      return undefined;
    }
    this.#attach(revision, process);
    if (revision.fault !== "never-ready") {
      void this.#delay(this.#options.provisioningDelayMs).then(() => {
        if (generation === revision.generation && revision.process === process) {
          this.#markReady(app, revision);
        }
      });
    }
    return undefined;
  }

  #markReady(app: ContainerApp, revision: Revision): void {
    revision.provisioned = true;
    revision.provisioningState = "Provisioned";
    revision.runningState = "Running";
    revision.healthState = "Healthy";
    const latestReady = app.latestReadyRevisionName
      ? findRevision(app, app.latestReadyRevisionName)
      : undefined;
    if (!latestReady || app.revisions.indexOf(revision) > app.revisions.indexOf(latestReady)) {
      app.latestReadyRevisionName = revision.name;
    }
  }

  #markFailed(revision: Revision, detail: string): void {
    if (!revision.provisioned) revision.provisioningState = "Failed";
    revision.runningState = "Failed";
    revision.healthState = "Unhealthy";
    revision.provisioningError = detail;
  }

  #deactivate(revision: Revision): void {
    revision.active = false;
    revision.lastActiveTime = new Date().toISOString();
    this.#stopProcess(revision);
    revision.runningState = "Stopped";
    revision.healthState = "None";
  }

  #stopProcess(revision: Revision): void {
    revision.generation += 1;
    const process = revision.process;
    revision.process = undefined;
    revision.replicaName = undefined;
    if (process) void this.#track(process.stop());
  }

  /** Removes the oldest inactive revisions beyond `maxInactiveRevisions`. */
  #prune(app: ContainerApp): void {
    const limit = Number(app.configuration.maxInactiveRevisions ?? defaultMaxInactiveRevisions);
    const named = new Set(
      trafficEntries(app)
        .map((entry) => entry.revisionName)
        .filter((name): name is string => typeof name === "string")
        .map((name) => name.toLowerCase()),
    );
    const removable = app.revisions.filter(
      (revision) =>
        !revision.active && revision.name !== app.latestRevisionName && !named.has(revision.name),
    );
    const excess = removable.slice(0, Math.max(0, removable.length - limit));
    if (excess.length > 0) app.revisions = app.revisions.filter((r) => !excess.includes(r));
  }

  // Control API

  findApp(resourceGroup: string, name: string): ContainerApp {
    const app = [...this.#apps.values()].find(
      (candidate) =>
        candidate.resourceGroup.toLowerCase() === resourceGroup.toLowerCase() &&
        candidate.name.toLowerCase() === name.toLowerCase(),
    );
    if (!app) throw resourceNotFound("Microsoft.App/containerApps", name, resourceGroup);
    return app;
  }

  /** Creates an app that already runs the given revisions, as if deployed long ago. */
  async seed(spec: SeedSpec): Promise<AppView> {
    const mode = checkSeed(spec);
    const subscriptionId = spec.subscriptionId ?? this.#options.subscriptionId;
    const location = this.#options.location;

    this.#subscriptions.add(subscriptionId.toLowerCase());
    const group =
      this.findResourceGroup(subscriptionId, spec.resourceGroup) ??
      this.putResourceGroup(subscriptionId, spec.resourceGroup, { location }).group;
    const environmentKey = keyOf(subscriptionId, group.name, spec.environment);
    let environment = this.#environments.get(environmentKey);
    if (!environment) {
      checkEnvironmentName(spec.environment);
      const id = `/subscriptions/${subscriptionId}/resourceGroups/${group.name}/providers/Microsoft.App/managedEnvironments/${spec.environment}`;
      const now = new Date().toISOString();
      environment = {
        id,
        subscriptionId,
        resourceGroup: group.name,
        name: spec.environment,
        location,
        tags: {},
        properties: {},
        defaultDomain: defaultDomainFor(id, location),
        staticIp: "127.0.0.1",
        provisioningState: "Succeeded",
        createdAt: now,
        lastModifiedAt: now,
      };
      this.#environments.set(environmentKey, environment);
    }
    const appKey = keyOf(subscriptionId, group.name, spec.app);
    if (this.#apps.has(appKey)) {
      throw new HttpError(
        409,
        "ContainerAppAlreadyExists",
        `Container app '${spec.app}' already exists in resource group '${group.name}'.`,
      );
    }

    const containerName = spec.containerName ?? spec.app;
    const templateFor = (image: string, suffix: string) =>
      checkTemplate({ revisionSuffix: suffix, containers: [{ name: containerName, image }] });
    const last = spec.revisions[spec.revisions.length - 1];
    const app = this.#newApp(subscriptionId, group.name, spec.app, environment.id, location);
    app.tags = checkTags(spec.tags);
    app.template = templateFor(last.image, last.suffix);
    app.configuration = checkConfiguration({
      activeRevisionsMode: mode,
      maxInactiveRevisions: spec.maxInactiveRevisions,
      ingress: {
        external: spec.external ?? true,
        targetPort: spec.targetPort ?? 8080,
      },
    });
    const start = Date.now() - spec.revisions.length * 1000;
    app.revisions = spec.revisions.map((seeded, index) => {
      const createdTime = new Date(start + index * 1000).toISOString();
      const active = mode === "Single" ? seeded === last : (seeded.active ?? true);
      return {
        name: `${spec.app}--${seeded.suffix}`,
        template: templateFor(seeded.image, seeded.suffix),
        image: seeded.image,
        createdTime,
        lastActiveTime: createdTime,
        active,
        provisioningState: "Provisioned",
        runningState: active ? "Processing" : "Stopped",
        healthState: "None",
        provisioned: true,
        generation: 0,
      };
    });
    app.latestRevisionName = `${spec.app}--${last.suffix}`;
    const ingress = app.configuration.ingress as Json;
    ingress.traffic = checkTraffic(spec.traffic ?? defaultTraffic(), {
      app: spec.app,
      mode,
      known: new Set(app.revisions.map((revision) => revision.name)),
      latest: app.latestRevisionName,
    });
    app.provisioningState = "Succeeded";
    this.#apps.set(appKey, app);

    await Promise.all(
      app.revisions
        .filter((revision) => revision.active)
        .map((revision) => this.#track(this.#startSeeded(app, revision))),
    );
    return this.appView(app);
  }

  /** Makes a started process the revision's replica, and a later exit of it a failure. */
  #attach(revision: Revision, process: RevisionProcess): void {
    revision.process = process;
    revision.replicaName = replicaNameFor(revision.name);
    revision.replicaCreatedTime = new Date().toISOString();
    process.onExit((code) => {
      if (revision.process !== process) return;
      revision.generation += 1;
      revision.process = undefined;
      revision.replicaName = undefined;
      this.#markFailed(revision, `The container exited unexpectedly with code ${code}.`);
    });
  }

  /** Starts a seeded revision: it is ready as soon as its process listens. */
  async #startSeeded(app: ContainerApp, revision: Revision): Promise<void> {
    const generation = ++revision.generation;
    let process: RevisionProcess;
    try {
      process = await this.#options.startProcess({
        app: app.name,
        revision: revision.name,
        image: revision.image,
      });
    } catch (error) {
      if (generation === revision.generation) {
        revision.provisioned = false;
        this.#markFailed(revision, error instanceof Error ? error.message : String(error));
      }
      return;
    }
    if (generation !== revision.generation || this.#stopped) {
      await process.stop();
      return;
    }
    this.#attach(revision, process);
    this.#markReady(app, revision);
  }

  /** Replaces the app's traffic at once, validated as an ARM write would be. */
  setTraffic(resourceGroup: string, name: string, traffic: TrafficEntry[]): AppView {
    const app = this.findApp(resourceGroup, name);
    checkNotLocked(app);
    const ingress = app.configuration.ingress;
    if (!isRecord(ingress)) {
      throw new HttpError(
        400,
        "ContainerAppIngressNotEnabled",
        `Container app '${app.name}' has no ingress, so it has no traffic to set.`,
      );
    }
    ingress.traffic = checkTraffic(traffic, {
      app: app.name,
      mode: String(app.configuration.activeRevisionsMode),
      known: new Set(app.revisions.map((revision) => revision.name)),
      latest: app.latestRevisionName,
    });
    app.lastModifiedAt = new Date().toISOString();
    this.#prune(app);
    return this.appView(app);
  }

  async setRevisionBehaviour(
    resourceGroup: string,
    appName: string,
    revisionName: string,
    behaviour: string,
  ): Promise<void> {
    const app = this.findApp(resourceGroup, appName);
    const revision = this.getRevision(app, revisionName);
    if (!revision.process) {
      throw new HttpError(
        409,
        "ContainerAppRevisionNotRunning",
        `Revision '${revision.name}' has no running replica to change.`,
      );
    }
    try {
      await revision.process.setBehaviour(behaviour);
    } catch (error) {
      throw new HttpError(
        400,
        "InvalidBehaviour",
        error instanceof Error ? error.message : String(error),
      );
    }
  }

  appView(app: ContainerApp): AppView {
    return {
      id: app.id,
      name: app.name,
      resourceGroup: app.resourceGroup,
      activeRevisionsMode: String(app.configuration.activeRevisionsMode),
      provisioningState: app.provisioningState,
      latestRevisionName: app.latestRevisionName,
      fqdn: this.appFqdn(app) ?? "",
      traffic: structuredClone(trafficEntries(app)) as TrafficEntry[],
      revisions: app.revisions.map((revision) => ({
        name: revision.name,
        image: revision.image,
        active: revision.active,
        provisioningState: revision.provisioningState,
        runningState: revision.runningState,
        healthState: revision.healthState,
        trafficWeight: this.trafficWeightOf(app, revision),
        createdTime: revision.createdTime,
      })),
      tags: { ...app.tags },
    };
  }

  // Host names and routing

  /** `<app>.<domain>` (internal ingress: `<app>.internal.<domain>`); undefined without ingress. */
  appFqdn(app: ContainerApp): string | undefined {
    const ingress = app.configuration.ingress;
    if (!isRecord(ingress)) return undefined;
    return `${app.name}.${this.#domainOf(app, ingress)}`;
  }

  revisionFqdn(app: ContainerApp, revisionName: string): string | undefined {
    const ingress = app.configuration.ingress;
    if (!isRecord(ingress)) return undefined;
    return `${revisionName}.${this.#domainOf(app, ingress)}`;
  }

  #domainOf(app: ContainerApp, ingress: Json): string {
    const domain = this.environmentOf(app).defaultDomain;
    return ingress.external === true ? domain : `internal.${domain}`;
  }

  readonly routing: RoutingTable = {
    isIngressHost: (host) => this.#environmentOfHost(host.toLowerCase()) !== undefined,
    resolve: (host) => this.#resolve(host.toLowerCase()),
  };

  #environmentOfHost(host: string): ManagedEnvironment | undefined {
    for (const environment of this.#environments.values()) {
      const domain = environment.defaultDomain;
      if (host === domain || host.endsWith(`.${domain}`)) return environment;
    }
    return undefined;
  }

  #resolve(host: string): Route {
    const environment = this.#environmentOfHost(host);
    if (!environment || host === environment.defaultDomain) return { kind: "unknown" };
    let label = host.slice(0, -(environment.defaultDomain.length + 1));
    let internal = false;
    if (label.endsWith(".internal")) {
      internal = true;
      label = label.slice(0, -".internal".length);
    }
    if (label.includes(".")) return { kind: "unknown" };
    const labelAt = label.indexOf("---");
    const revisionAt = label.indexOf("--");
    const appName = label.slice(0, revisionAt === -1 ? undefined : revisionAt);
    const app = [...this.#apps.values()].find(
      (candidate) =>
        candidate.name === appName &&
        candidate.environmentId.toLowerCase() === environment.id.toLowerCase(),
    );
    const ingress = app?.configuration.ingress;
    // An external app answers on both names; an internal one only inside the environment.
    if (!app || !isRecord(ingress) || (!internal && ingress.external !== true)) {
      return { kind: "unknown" };
    }
    if (labelAt !== -1 && labelAt === revisionAt) {
      const wanted = label.slice(labelAt + 3);
      const entry = trafficEntries(app).find(
        (candidate) =>
          typeof candidate.label === "string" && candidate.label.toLowerCase() === wanted,
      );
      const revisionName = entry ? resolveEntry(app, entry) : undefined;
      const revision = revisionName ? findRevision(app, revisionName) : undefined;
      return revision ? { kind: "label", targets: [targetOf(revision, 100)] } : { kind: "unknown" };
    }
    if (revisionAt !== -1) {
      const revision = findRevision(app, label);
      return revision
        ? { kind: "revision", targets: [targetOf(revision, 100)] }
        : { kind: "unknown" };
    }
    const weights = new Map<string, number>();
    for (const entry of trafficEntries(app)) {
      const revisionName = resolveEntry(app, entry);
      if (revisionName) {
        weights.set(revisionName, (weights.get(revisionName) ?? 0) + Number(entry.weight ?? 0));
      }
    }
    const targets: RouteTarget[] = [];
    for (const [revisionName, weight] of weights) {
      const revision = findRevision(app, revisionName);
      targets.push(revision ? targetOf(revision, weight) : { revision: revisionName, weight });
    }
    return { kind: "app", targets };
  }

  // Lifetime

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const app of this.#apps.values()) {
      for (const revision of app.revisions) this.#stopProcess(revision);
    }
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
    });
  }

  /** Remembers work that `stop()` must wait for (processes starting or stopping). */
  #track<T>(promise: Promise<T>): Promise<T> {
    this.#pending.add(promise);
    void promise.finally(() => this.#pending.delete(promise)).catch(() => undefined);
    return promise;
  }
}

// Small helpers

function resourceNotFound(type: string, name: string, resourceGroup: string): HttpError {
  return new HttpError(
    404,
    "ResourceNotFound",
    `The Resource '${type}/${name}' under resource group '${resourceGroup}' was not found.`,
  );
}

/**
 * RFC 7386 merge: objects merge key by key, anything else (arrays included) replaces, and null
 * removes the key.
 */
function mergePatch(target: unknown, patch: unknown): Json {
  const result: Json = isRecord(target) ? structuredClone(target) : {};
  if (!isRecord(patch)) return result;
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else if (isRecord(value)) result[key] = mergePatch(result[key], value);
    else result[key] = structuredClone(value);
  }
  return result;
}

function keyOf(...parts: string[]): string {
  return parts.map((part) => part.toLowerCase()).join("/");
}

function sameName(
  resource: { subscriptionId: string; resourceGroup: string },
  subscriptionId: string,
  resourceGroup: string,
): boolean {
  return (
    resource.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() &&
    resource.resourceGroup.toLowerCase() === resourceGroup.toLowerCase()
  );
}

function findRevision(app: ContainerApp, name: string): Revision | undefined {
  const lower = name.toLowerCase();
  return app.revisions.find((revision) => revision.name === lower);
}

function trafficEntries(app: ContainerApp): Json[] {
  const ingress = app.configuration.ingress;
  return isRecord(ingress) && Array.isArray(ingress.traffic) ? (ingress.traffic as Json[]) : [];
}

/** The revision a traffic entry sends to: `latestRevision: true` follows the latest revision. */
function resolveEntry(app: ContainerApp, entry: Json): string | undefined {
  if (entry.latestRevision === true) return app.latestRevisionName || undefined;
  return typeof entry.revisionName === "string" ? entry.revisionName : undefined;
}

/** A revision is routable only while active, its process runs and it is ready. */
function targetOf(revision: Revision, weight: number): RouteTarget {
  const routable =
    revision.active &&
    revision.process !== undefined &&
    !revision.process.exited &&
    revision.runningState === "Running";
  return {
    revision: revision.name,
    weight,
    port: routable ? revision.process?.port : undefined,
  };
}

function suffixOf(template: unknown): string | undefined {
  if (!isRecord(template)) return undefined;
  const suffix = template.revisionSuffix;
  return typeof suffix === "string" && suffix !== "" ? suffix : undefined;
}

function withoutSuffix(template: Json): Json {
  const copy = { ...template };
  delete copy.revisionSuffix;
  return copy;
}

/** JSON with object keys sorted, so equal templates compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    isRecord(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
      : item,
  );
}

function imageOf(template: Json): string {
  const [first] = template.containers as Json[];
  return String(first.image);
}
