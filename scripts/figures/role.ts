/**
 * The least-privilege custom role: every Azure operation the gateways in src/azure perform, named
 * as Azure RBAC names them, with the SDK call that needs it — required for every action, or
 * optional when only a feature needs it. `docs/role.json` is generated from this list, and
 * `operationOf` maps an ARM request (method and path, as the emulator journals it) to the
 * operation it needs, so a test can fail when a run calls something the role lacks.
 */

export interface RoleOperation {
  operation: string;
  /** The calls in src/azure that need it. */
  calls: string;
  /** Undefined: every run needs it; otherwise the feature that does. */
  optional?: string;
}

export const OPERATIONS: RoleOperation[] = [
  {
    operation: "Microsoft.App/containerApps/read",
    calls: "containerApps.get (ContainerAppsGateway.getApp): the snapshot and every fresh read",
  },
  {
    operation: "Microsoft.App/containerApps/write",
    calls:
      "containerApps.update (PATCH): the candidate, each traffic step, the lease and held records in tags, the restore",
  },
  {
    operation: "Microsoft.App/containerApps/revisions/read",
    calls: "containerAppsRevisions.listRevisions, getRevision: the snapshot, readiness, each bake",
  },
  {
    operation: "Microsoft.App/containerApps/revisions/activate/action",
    calls:
      "containerAppsRevisions.activateRevision: a rollback or restore to a revision that was deactivated",
  },
  {
    operation: "Microsoft.App/containerApps/revisions/deactivate/action",
    calls:
      "containerAppsRevisions.deactivateRevision: retiring replaced revisions, retiring a failed candidate",
  },
  {
    operation: "Microsoft.App/locations/containerAppOperationStatuses/read",
    calls: "the status poll of every PATCH (Azure-AsyncOperation)",
  },
  {
    operation: "Microsoft.App/locations/containerAppOperationResults/read",
    calls: "the result of every PATCH (Location)",
  },
  {
    operation: "Microsoft.App/managedEnvironments/read",
    calls:
      "managedEnvironments.get (getEnvironment): the default domain, read when the app's ingress reports no FQDN (kept: a run cannot know beforehand), and where a failed candidate's logs are kept (its logs destination)",
  },
  {
    operation: "Microsoft.App/containerApps/revisions/replicas/read",
    calls:
      "containerAppsRevisionReplicas.listReplicas: a failed candidate's diagnostics, and readiness with `min-replicas` of 2 or more",
  },
  {
    operation: "Microsoft.App/containerApps/getAuthToken/action",
    calls: "containerApps.getAuthToken: opening a failed candidate's log and event streams",
  },
  {
    operation: "Microsoft.App/containerApps/listSecrets/action",
    calls:
      "containerApps.listSecrets: the secrets array a write with `secrets` replaces as a whole (values masked)",
    optional: "`secrets`",
  },
  {
    operation: "Microsoft.Insights/metrics/read",
    calls: "metrics.list (@azure/arm-monitor): the production 5xx gate",
    optional: "`gates` with a production gate",
  },
  {
    operation: "Microsoft.Insights/diagnosticSettings/read",
    calls:
      "diagnosticSettings.list (@azure/arm-monitor) on the environment: where its HTTP logs go (the production latency gate), and its console and system logs (a failed candidate's diagnostics, `azure-monitor` logs destination)",
    optional:
      "`gates` with the production latency gate; the diagnostics' Log Analytics part on an environment with the `azure-monitor` logs destination",
  },
  {
    operation: "Microsoft.OperationalInsights/workspaces/query/read",
    calls:
      "LogsQueryClient.queryResource: the production latency gate, and a failed candidate's console and system logs (`azure-monitor` destination); LogsQueryClient.queryWorkspace: the same logs in the `_CL` tables (`log-analytics` destination), on the workspace's scope",
    optional:
      "`gates` with the production latency gate; the diagnostics' Log Analytics part (without it, the live streams are still read)",
  },
  {
    operation: "Microsoft.ContainerRegistry/registries/read",
    calls: "registries.list (AcrTasksClient): finding the registry of an ACR build",
    optional: "`builder: acr` (a build in Azure Container Registry Tasks)",
  },
  {
    operation: "Microsoft.ContainerRegistry/registries/listBuildSourceUploadUrl/action",
    calls: "registries.getBuildSourceUploadUrl: uploading the build context",
    optional: "`builder: acr`",
  },
  {
    operation: "Microsoft.ContainerRegistry/registries/scheduleRun/action",
    calls: "registries.beginScheduleRunAndWait: starting the build",
    optional: "`builder: acr`",
  },
  {
    operation: "Microsoft.ContainerRegistry/registries/runs/read",
    calls: "runs.get: following the build",
    optional: "`builder: acr`",
  },
  {
    operation: "Microsoft.ContainerRegistry/registries/runs/listLogSasUrl/action",
    calls: "runs.getLogSasUrl: streaming the build's log",
    optional: "`builder: acr`",
  },
  {
    operation: "Microsoft.ContainerRegistry/registries/runs/cancel/action",
    calls: "runs.beginCancel: cancelling the build when the run is cancelled",
    optional: "`builder: acr`",
  },
  {
    operation: "Microsoft.ContainerRegistry/registries/pull/read",
    calls:
      "the ACR token exchange (exchangeForAcrRefreshToken) and a push's reads, for a local build pushed with the Azure identity",
    optional: "a build pushed to ACR without `registry-password` (or AcrPush on the registry)",
  },
  {
    operation: "Microsoft.ContainerRegistry/registries/push/write",
    calls: "the push of a local build with the exchanged ACR token",
    optional: "a build pushed to ACR without `registry-password` (or AcrPush on the registry)",
  },
];

/** Operations the gateways do not call, which other tools' roles often grant: left out on purpose. */
export const NOT_NEEDED: { operation: string; why: string }[] = [
  {
    operation: "Microsoft.App/containerApps/delete",
    why: "the tool never deletes an app or a revision; it deactivates revisions",
  },
  {
    operation: "Microsoft.App/managedEnvironments/join/action",
    why: "the PATCH never sends the environment id; add it only if Azure refuses a write with LinkedAuthorizationFailed",
  },
];

export const ROLE_NAME = "Container Apps blue-green deployer";

/** The custom role definition (`az role definition create --role-definition @docs/role.json`). */
export function customRole(
  scope = "/subscriptions/{subscription-id}/resourceGroups/{resource-group}",
) {
  return {
    Name: ROLE_NAME,
    IsCustom: true,
    Description:
      "What aca-blue-green needs to deploy, promote, reject, roll back and inspect the container apps of one resource group with an existing image. For builds in Azure Container Registry add the optional operations of docs/reliability.md on the registry's scope.",
    Actions: OPERATIONS.filter((o) => !o.optional).map((o) => o.operation),
    NotActions: [],
    DataActions: [],
    NotDataActions: [],
    AssignableScopes: [scope],
  };
}

export function roleJson(): string {
  return `${JSON.stringify(customRole(), null, 2)}\n`;
}

/**
 * The Azure operation an ARM request needs, from its method and path; `null` for a request that
 * needs none (the cloud metadata); undefined for one this list does not know.
 */
export function operationOf(method: string, path: string): string | null | undefined {
  const m = method.toUpperCase();
  if (/^\/metadata\/endpoints$/i.test(path)) return null;
  const app = /\/providers\/Microsoft\.App\/containerApps\/[^/]+/i;
  if (
    /\/providers\/Microsoft\.App\/locations\/[^/]+\/containerappOperationStatuses\/[^/]+$/i.test(
      path,
    )
  ) {
    return m === "GET" ? "Microsoft.App/locations/containerAppOperationStatuses/read" : undefined;
  }
  if (
    /\/providers\/Microsoft\.App\/locations\/[^/]+\/containerappOperationResults\/[^/]+$/i.test(
      path,
    )
  ) {
    return m === "GET" ? "Microsoft.App/locations/containerAppOperationResults/read" : undefined;
  }
  if (/^\/loganalytics\/v1\/.+\/query$/i.test(path)) {
    return m === "POST" ? "Microsoft.OperationalInsights/workspaces/query/read" : undefined;
  }
  if (/\/providers\/Microsoft\.Insights\/diagnosticSettings$/i.test(path)) {
    return m === "GET" ? "Microsoft.Insights/diagnosticSettings/read" : undefined;
  }
  if (/\/providers\/Microsoft\.App\/managedEnvironments\/[^/]+$/i.test(path)) {
    return m === "GET" ? "Microsoft.App/managedEnvironments/read" : undefined;
  }
  const revisionAction = new RegExp(
    `${app.source}/revisions/[^/]+/(activate|deactivate|restart)$`,
    "i",
  ).exec(path);
  if (revisionAction && m === "POST") {
    return `Microsoft.App/containerApps/revisions/${revisionAction[1].toLowerCase()}/action`;
  }
  if (new RegExp(`${app.source}/revisions(/[^/]+)?$`, "i").test(path)) {
    return m === "GET" ? "Microsoft.App/containerApps/revisions/read" : undefined;
  }
  if (new RegExp(`${app.source}/listSecrets$`, "i").test(path) && m === "POST") {
    return "Microsoft.App/containerApps/listSecrets/action";
  }
  if (new RegExp(`${app.source}/getAuthtoken$`, "i").test(path) && m === "POST") {
    return "Microsoft.App/containerApps/getAuthToken/action";
  }
  if (new RegExp(`${app.source}/revisions/[^/]+/replicas(/[^/]+)?$`, "i").test(path)) {
    return m === "GET" ? "Microsoft.App/containerApps/revisions/replicas/read" : undefined;
  }
  if (new RegExp(`${app.source}$`, "i").test(path)) {
    if (m === "GET") return "Microsoft.App/containerApps/read";
    if (m === "PATCH" || m === "PUT") return "Microsoft.App/containerApps/write";
    if (m === "DELETE") return "Microsoft.App/containerApps/delete";
  }
  return undefined;
}

/** The journal's requests the role does not allow, described; empty when it allows them all. */
export function operationsMissing(
  requests: { method: string; path: string }[],
  actions: string[] = customRole().Actions,
): string[] {
  const granted = new Set(actions.map((a) => a.toLowerCase()));
  const missing = new Set<string>();
  for (const { method, path } of requests) {
    const operation = operationOf(method, path);
    if (operation === null) continue;
    if (operation === undefined) missing.add(`${method} ${path} (no Azure operation known for it)`);
    else if (!granted.has(operation.toLowerCase())) missing.add(`${operation} (${method} ${path})`);
  }
  return [...missing];
}
