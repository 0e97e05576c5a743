/**
 * What a write does to the emulated resources: PUT and PATCH of resource groups, managed
 * environments and container apps (merge semantics, revision scope, traffic, revision modes), the
 * revision POSTs, and someone else's traffic change through the control API. Whether a write is
 * allowed at all is decided by the rules in validation.ts; each app write runs as a long-running
 * operation (operations.ts) and provisions the revision it creates (revisions.ts).
 */
import { isRecord } from "./http.ts";
import { defaultDomainFor, randomRevisionSuffix } from "./names.ts";
import type { OperationError, Operations } from "./operations.ts";
import type { RevisionLifecycle } from "./revisions.ts";
import {
  findRevision,
  getRevision,
  type ContainerApp,
  type Json,
  type ManagedEnvironment,
  type Operation,
  type ResourceGroup,
  type ResourceStore,
} from "./store.ts";
import type { Timing, WriteKind } from "./timing.ts";
import type { TrafficEntry } from "./types.ts";
import {
  checkContainerSettings,
  checkResourceTotal,
  checkSecretRefs,
  checkSecrets,
  profileOf,
} from "./revision-rules.ts";
import {
  checkAppBody,
  checkAppName,
  checkConfiguration,
  checkEnvironmentId,
  checkEnvironmentName,
  checkEnvironmentUnchanged,
  checkIdentity,
  checkIngressEnabled,
  checkLocation,
  checkNotLocked,
  checkResourceGroupName,
  checkRevisionName,
  checkTags,
  checkTemplate,
  checkTraffic,
  checkWorkloadProfileName,
  defaultTraffic,
  environmentNotFound,
  revisionSuffixTaken,
} from "./validation.ts";

/** What an app write sets, after validation and defaults. */
type DesiredApp = Pick<
  ContainerApp,
  | "location"
  | "tags"
  | "environmentId"
  | "identity"
  | "workloadProfileName"
  | "configuration"
  | "template"
>;

export interface WritesOptions {
  store: ResourceStore;
  operations: Operations;
  revisions: RevisionLifecycle;
  timing: Timing;
}

export class Writes {
  readonly #store: ResourceStore;
  readonly #operations: Operations;
  readonly #revisions: RevisionLifecycle;
  readonly #timing: Timing;

  constructor(options: WritesOptions) {
    this.#store = options.store;
    this.#operations = options.operations;
    this.#revisions = options.revisions;
    this.#timing = options.timing;
  }

  // Resource groups and environments

  putResourceGroup(
    subscriptionId: string,
    name: string,
    body: unknown,
  ): { group: ResourceGroup; created: boolean } {
    checkLocation(body);
    checkResourceGroupName(name);
    const existing = this.#store.findResourceGroup(subscriptionId, name);
    const group: ResourceGroup = {
      id: `/subscriptions/${subscriptionId}/resourceGroups/${existing?.name ?? name}`,
      subscriptionId,
      name: existing?.name ?? name,
      location: existing?.location ?? body.location,
      tags: checkTags(body.tags),
    };
    this.#store.setResourceGroup(group);
    return { group, created: !existing };
  }

  putEnvironment(
    subscriptionId: string,
    resourceGroup: string,
    name: string,
    body: unknown,
  ): { environment: ManagedEnvironment; operation: Operation } {
    const group = this.#store.requireResourceGroup(subscriptionId, resourceGroup);
    checkLocation(body);
    checkEnvironmentName(name);
    const existing = this.#store.findEnvironment(subscriptionId, group.name, name);
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
    this.#store.setEnvironment(environment);
    const operation = this.#operations.start(
      id,
      this.#timing.operationMs("configuration"),
      [],
      () => {
        environment.provisioningState = "Succeeded";
      },
    );
    return { environment, operation };
  }

  // Container apps

  /** PUT: creates the app or replaces everything it holds with the body. */
  putApp(
    subscriptionId: string,
    resourceGroup: string,
    name: string,
    body: unknown,
  ): { app: ContainerApp; operation: Operation } {
    const group = this.#store.requireResourceGroup(subscriptionId, resourceGroup);
    const existing = this.#store.findAppIn(subscriptionId, group.name, name);
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
      existing ?? newApp(subscriptionId, group.name, name, desired.environmentId, desired.location);
    const operation = this.#write(app, desired, {
      explicitSuffix: suffixOf(template),
      trafficSent: ingress !== undefined && ingress.traffic !== undefined,
    });
    return { app, operation };
  }

  /** PATCH: the fields sent replace those fields; arrays (traffic, containers…) and tags as a whole. */
  patchApp(
    subscriptionId: string,
    resourceGroup: string,
    name: string,
    body: unknown,
  ): { app: ContainerApp; operation: Operation } {
    const app = this.#store.getApp(subscriptionId, resourceGroup, name);
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
      // The ARM RPC: a PATCH of `tags` replaces every tag with the ones sent.
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

  // Revisions

  activateRevision(app: ContainerApp, name: string): void {
    const revision = getRevision(app, name);
    checkNotLocked(app);
    this.#revisions.activate(app, revision);
  }

  deactivateRevision(app: ContainerApp, name: string): void {
    const revision = getRevision(app, name);
    checkNotLocked(app);
    this.#revisions.deactivate(app, revision);
  }

  restartRevision(app: ContainerApp, name: string): void {
    const revision = getRevision(app, name);
    checkNotLocked(app);
    this.#revisions.restart(app, revision);
  }

  // Control API

  /** Replaces the app's traffic at once, validated as an ARM write would be. */
  setTraffic(app: ContainerApp, traffic: TrafficEntry[]): void {
    checkNotLocked(app);
    const ingress = checkIngressEnabled(app);
    ingress.traffic = checkTraffic(traffic, {
      app: app.name,
      mode: String(app.configuration.activeRevisionsMode),
      known: new Set(app.revisions.map((revision) => revision.name)),
      latest: app.latestRevisionName,
    });
    app.lastModifiedAt = new Date().toISOString();
    this.#revisions.prune(app);
  }

  #desiredApp(
    existing: ContainerApp | undefined,
    input: { location: string; tags: unknown; identity: unknown; properties: Json },
  ): DesiredApp {
    const { properties } = input;
    const environmentId = checkEnvironmentId(properties);
    const environment = this.#store.environmentById(environmentId);
    if (!environment) throw environmentNotFound(environmentId);
    if (existing) checkEnvironmentUnchanged(existing, environment.id);
    const workloadProfileName = checkWorkloadProfileName(properties.workloadProfileName);
    const configuration = checkConfiguration(properties.configuration);
    const template = checkTemplate(properties.template);
    checkSecrets(configuration.secrets);
    checkContainerSettings(template);
    checkSecretRefs(template, configuration.secrets);
    checkResourceTotal(template, profileOf(environment.properties, workloadProfileName));
    return {
      location: input.location,
      tags: checkTags(input.tags),
      environmentId: environment.id,
      identity: checkIdentity(input.identity),
      workloadProfileName,
      configuration,
      template,
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

    const kind: WriteKind = newRevisionName ? "revision" : "configuration";
    const operationMs = this.#timing.operationMs(kind);
    app.provisioningState = "InProgress";
    if (duplicate) {
      const suffix = newRevisionName?.slice(app.name.length + 2) ?? "";
      return this.#startAppOperation(app, operationMs, [
        Promise.resolve(revisionSuffixTaken(suffix)),
      ]);
    }

    app.location = desired.location;
    app.tags = desired.tags;
    app.identity = desired.identity;
    app.workloadProfileName = desired.workloadProfileName;
    app.configuration = desired.configuration;
    app.template = desired.template;
    app.lastModifiedAt = new Date().toISOString();
    if (isNew) this.#store.addApp(app);

    const failures: Promise<string | undefined>[] = [];
    if (newRevisionName) {
      const revision = this.#revisions.newRevision(app, newRevisionName, desired.template);
      app.revisions.push(revision);
      app.latestRevisionName = revision.name;
      failures.push(this.#revisions.provision(app, revision, operationMs));
    } else if (mode === "Single") {
      // A write that leaves the app in Single mode without a new revision: the latest keeps it.
      const latest = findRevision(app, app.latestRevisionName);
      if (latest?.runningState === "Running") this.#revisions.retireOthers(app, latest);
    }
    this.#revisions.prune(app);
    return this.#startAppOperation(app, operationMs, failures);
  }

  /**
   * A write the service accepts and then fails (an injected `operation-failed` fault): the app
   * is InProgress, and locked, as long as a configuration write lasts; nothing of it is applied.
   */
  failWrite(app: ContainerApp, error: OperationError): Operation {
    app.provisioningState = "InProgress";
    const operation = this.#operations.start(
      app.id,
      this.#timing.operationMs("configuration"),
      [Promise.resolve(error)],
      (done) => {
        app.provisioningState = done.status;
        if (app.operation === done) app.operation = undefined;
      },
    );
    app.operation = operation;
    return operation;
  }

  #randomSuffix(app: ContainerApp): string {
    for (;;) {
      const suffix = randomRevisionSuffix();
      if (!findRevision(app, `${app.name}--${suffix}`)) return suffix;
    }
  }

  /**
   * The operation of an app write. It fails with ContainerAppOperationError when the write must:
   * the revision could not be provisioned, its suffix was taken, or it expired.
   */
  #startAppOperation(
    app: ContainerApp,
    operationMs: number,
    failures: Promise<string | undefined>[],
  ): Operation {
    const errors = failures.map((failure) =>
      failure.then((detail): OperationError | undefined =>
        detail === undefined
          ? undefined
          : {
              code: "ContainerAppOperationError",
              message: `Failed to provision revision for container app '${app.name}'. Error details: ${detail}`,
            },
      ),
    );
    const operation = this.#operations.start(app.id, operationMs, errors, (done) => {
      app.provisioningState = done.status;
      if (app.operation === done) app.operation = undefined;
    });
    app.operation = operation;
    return operation;
  }
}

export function newApp(
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
