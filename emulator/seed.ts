/**
 * Seeding through the control API: an app that already runs the given revisions, as if deployed
 * long ago, in a resource group and environment created when missing.
 */
import { HttpError } from "./http.ts";
import { defaultDomainFor } from "./names.ts";
import type { RevisionLifecycle } from "./revisions.ts";
import type { Scheduler } from "./scheduler.ts";
import type { ContainerApp, Json, ResourceStore, Revision } from "./store.ts";
import {
  CONSOLE_LOGS,
  HTTP_LOGS,
  SYSTEM_LOGS,
  workspaceCustomerId,
  type Telemetry,
} from "./telemetry.ts";
import type { SeedSpec } from "./types.ts";
import {
  checkConfiguration,
  checkEnvironmentName,
  checkSeed,
  checkTags,
  checkTemplate,
  checkTraffic,
  defaultTraffic,
} from "./validation.ts";
import { newApp, type Writes } from "./writes.ts";
import {
  checkContainerSettings,
  checkResourceTotal,
  checkSecretRefs,
  checkSecrets,
  profileOf,
} from "./revision-rules.ts";

export interface SeedContext {
  store: ResourceStore;
  telemetry: Telemetry;
  writes: Writes;
  revisions: RevisionLifecycle;
  scheduler: Scheduler;
  subscriptionId: string;
  location: string;
}

/** Creates the app and waits until its active revisions serve. */
export async function seedApp(context: SeedContext, spec: SeedSpec): Promise<ContainerApp> {
  const { store, location } = context;
  const mode = checkSeed(spec);
  const destination = checkWorkspace(spec.workspace);
  const subscriptionId = spec.subscriptionId ?? context.subscriptionId;

  store.addSubscription(subscriptionId);
  const group =
    store.findResourceGroup(subscriptionId, spec.resourceGroup) ??
    context.writes.putResourceGroup(subscriptionId, spec.resourceGroup, { location }).group;
  let environment = store.findEnvironment(subscriptionId, group.name, spec.environment);
  if (!environment) {
    const properties = spec.workloadProfiles
      ? { workloadProfiles: structuredClone(spec.workloadProfiles) }
      : {};
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
      properties: {
        ...properties,
        ...(spec.workspace && {
          appLogsConfiguration: appLogsOf(spec.workspace.name, destination),
        }),
      },
      defaultDomain: defaultDomainFor(id, location),
      staticIp: "127.0.0.1",
      provisioningState: "Succeeded",
      createdAt: now,
      lastModifiedAt: now,
    };
    store.setEnvironment(environment);
    if (spec.workspace) {
      const workspaceId = `/subscriptions/${subscriptionId}/resourceGroups/${group.name}/providers/Microsoft.OperationalInsights/workspaces/${spec.workspace.name}`;
      if (spec.workspace.httpLogs !== false) {
        context.telemetry.setDiagnosticSetting(id, {
          name: "http-logs",
          workspaceId,
          categories: [HTTP_LOGS],
        });
      }
      // With destination azure-monitor, console and system logs reach the workspace only through
      // a diagnostic setting, into the resource-specific tables.
      if (destination === "azure-monitor") {
        context.telemetry.setDiagnosticSetting(id, {
          name: "app-logs",
          workspaceId,
          categories: [CONSOLE_LOGS, SYSTEM_LOGS],
        });
      }
    }
  }
  if (store.findAppIn(subscriptionId, group.name, spec.app)) {
    throw new HttpError(
      409,
      "ContainerAppAlreadyExists",
      `Container app '${spec.app}' already exists in resource group '${group.name}'.`,
    );
  }

  const containerName = spec.containerName ?? spec.app;
  const templateFor = (seeded: SeedSpec["revisions"][number]) =>
    checkTemplate({
      revisionSuffix: seeded.suffix,
      containers: [
        {
          name: containerName,
          image: seeded.image,
          ...(seeded.env && { env: structuredClone(seeded.env) }),
          ...(seeded.resources && { resources: { ...seeded.resources } }),
        },
      ],
      ...(seeded.minReplicas !== undefined && { scale: { minReplicas: seeded.minReplicas } }),
    });
  const last = spec.revisions[spec.revisions.length - 1];
  const app = newApp(subscriptionId, group.name, spec.app, environment.id, location);
  app.tags = checkTags(spec.tags);
  app.template = templateFor(last);
  app.workloadProfileName = spec.workloadProfileName;
  app.configuration = checkConfiguration({
    activeRevisionsMode: mode,
    maxInactiveRevisions: spec.maxInactiveRevisions,
    ...(spec.secrets && { secrets: structuredClone(spec.secrets) }),
    ingress: {
      external: spec.external ?? true,
      targetPort: spec.targetPort ?? 8080,
    },
  });
  // A seed is held to the rules of a write.
  checkSecrets(app.configuration.secrets);
  for (const seeded of spec.revisions) {
    const template = templateFor(seeded);
    checkContainerSettings(template);
    checkSecretRefs(template, app.configuration.secrets);
    checkResourceTotal(template, profileOf(environment.properties, spec.workloadProfileName));
  }
  const start = Date.now() - spec.revisions.length * 1000;
  app.revisions = spec.revisions.map((seeded, index): Revision => {
    const createdTime = new Date(start + index * 1000).toISOString();
    const active = mode === "Single" ? seeded === last : (seeded.active ?? true);
    return {
      name: `${spec.app}--${seeded.suffix}`,
      template: templateFor(seeded),
      image: seeded.image,
      container: containerName,
      createdTime,
      // An inactive revision keeps the health it last had and says when it was last active.
      lastActiveTime: active ? undefined : createdTime,
      active,
      provisioningState: "Provisioned",
      runningState: active ? "Processing" : "Stopped",
      healthState: active ? "None" : "Healthy",
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
  store.addApp(app);

  await Promise.all(
    app.revisions
      .filter((revision) => revision.active)
      .map((revision) => context.scheduler.track(context.revisions.startSeeded(app, revision))),
  );
  return app;
}

type Destination = "log-analytics" | "azure-monitor";

function checkWorkspace(workspace: SeedSpec["workspace"]): Destination {
  if (workspace === undefined) return "log-analytics";
  if (typeof workspace !== "object" || workspace === null || typeof workspace.name !== "string") {
    throw new HttpError(400, "ContainerAppInvalidSchema", "A seed's `workspace` needs a `name`.");
  }
  const destination = workspace.destination ?? "log-analytics";
  if (destination !== "log-analytics" && destination !== "azure-monitor") {
    throw new HttpError(
      400,
      "ContainerAppInvalidSchema",
      `A seed's \`workspace.destination\` is "log-analytics" or "azure-monitor", not ${JSON.stringify(destination)}.`,
    );
  }
  return destination;
}

/**
 * Where the environment's console and system logs go: the workspace's `_CL` tables, by its
 * customer id (a stable GUID from its name), or Azure Monitor (a diagnostic setting says where).
 */
function appLogsOf(workspace: string, destination: Destination) {
  return destination === "azure-monitor"
    ? { destination }
    : { destination, logAnalyticsConfiguration: { customerId: workspaceCustomerId(workspace) } };
}
