/**
 * Azure Resource Manager as the emulator serves it: Microsoft.Resources resource groups and the
 * Microsoft.App resources the tool uses (managed environments, container apps, revisions,
 * replicas, operation statuses, the log streams' auth token), with ARM's error envelope, api-version check, bearer-token
 * check, long-running operations, paging, injected faults and a journal of every call.
 */
import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FaultInjector } from "./faults.ts";
import {
  HttpError,
  isRecord,
  matchRoute,
  parseJson,
  readBody,
  sendEmpty,
  sendError,
  sendJson,
  type Reply,
  type HttpRoute,
} from "./http.ts";
import type { Identity } from "./identity.ts";
import { appFqdn, revisionFqdn } from "./ingress.ts";
import type { Journal } from "./journal.ts";
import type { LogStreamEndpoints } from "./logs.ts";
import { LOG_ANALYTICS_PREFIX, type LogAnalyticsApi } from "./loganalytics.ts";
import type { MonitorApi } from "./monitor.ts";
import {
  getRevision,
  type ContainerApp,
  type ManagedEnvironment,
  type Operation,
  type Replica,
  type ResourceStore,
  type Revision,
} from "./store.ts";
import { trafficWeightOf } from "./traffic.ts";
import type { ArmFault, ArmRequestInfo } from "./types.ts";
import { lockConflict } from "./validation.ts";
import type { Writes } from "./writes.ts";

const appApiVersion = "2026-07-01";
/** Microsoft.Resources versions current tools send for resource groups. */
const resourcesApiVersions = [
  "2019-10-01",
  "2020-06-01",
  "2021-04-01",
  "2022-09-01",
  "2023-07-01",
  "2024-03-01",
  "2024-07-01",
  "2024-11-01",
  "2025-01-01",
  "2025-03-01",
  "2025-04-01",
];
/** The cloud metadata document (`az cloud register`, custom-cloud clients) in its current shape. */
const metadataApiVersion = "2022-09-01";
const metadataPath = /^\/metadata\/endpoints$/i;
/** Small, so that every client exercises `nextLink` paging. */
const revisionPageSize = 5;

/** What every recorded PUT of a container app or environment announces (567 of 567). */
const asyncOperationTimeout = "PT15M";

export interface ArmOptions {
  store: ResourceStore;
  writes: Writes;
  identity: Identity;
  faults: FaultInjector;
  journal: Journal;
  /** Where the app's event stream and its replicas' log streams are, and their token. */
  logs: LogStreamEndpoints;
  /**
   * Retry-After of a 429 whose fault gives none. Long-running operations carry no Retry-After:
   * none of the recorded 202s, 201s, status polls or result polls has one.
   */
  retryAfterSeconds: number;
  /** Who `systemData` says created and modified resources (the client id). */
  actor: string;
  /** Called with each request before it is answered (`Emulator.onArmRequest`). */
  requestListeners?: ReadonlySet<(request: ArmRequestInfo) => void | Promise<void>>;
  /** Azure Monitor's metrics and diagnostic settings (Microsoft.Insights). */
  monitor?: MonitorApi;
  /** The Log Analytics query API, served under its own prefix with its own token audience. */
  logAnalytics?: LogAnalyticsApi;
}

interface ArmContext {
  /** https://host:port as the client addressed us, for absolute URLs in headers and nextLink. */
  base: string;
  url: URL;
  body: unknown;
}

const sub = "/subscriptions/(?<subscription>[^/]+)";
const group = `${sub}/resourceGroups/(?<resourceGroup>[^/]+)`;
const app = `${group}/providers/Microsoft\\.App/containerApps/(?<app>[^/]+)`;
const revision = `${app}/revisions/(?<revision>[^/]+)`;
const operations = `${sub}/providers/Microsoft\\.App/locations/(?<location>[^/]+)`;
const path = (pattern: string) => new RegExp(`^${pattern}$`, "i");

export function createArmHandler(
  options: ArmOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  const { store, writes, identity, faults, journal, logs, retryAfterSeconds, actor } = options;
  const listeners = options.requestListeners ?? new Set();
  const { monitor, logAnalytics } = options;

  const routes: HttpRoute<ArmContext>[] = [
    { method: "GET", pattern: metadataPath, handle: cloudMetadata },
    { method: "PUT", pattern: path(group), handle: putResourceGroup },
    { method: "GET", pattern: path(group), handle: getResourceGroup },
    { method: "HEAD", pattern: path(group), handle: headResourceGroup },
    {
      method: "GET",
      pattern: path(`${group}/providers/Microsoft\\.App/managedEnvironments`),
      handle: (_context, params) => ({
        status: 200,
        body: {
          value: store
            .listEnvironments(subscription(params), params.resourceGroup)
            .map(environmentToArm),
        },
      }),
    },
    {
      method: "GET",
      pattern: path(`${group}/providers/Microsoft\\.App/managedEnvironments/(?<environment>[^/]+)`),
      handle: (_context, params) => ({
        status: 200,
        body: environmentToArm(
          store.getEnvironment(subscription(params), params.resourceGroup, params.environment),
        ),
      }),
    },
    {
      method: "PUT",
      pattern: path(`${group}/providers/Microsoft\\.App/managedEnvironments/(?<environment>[^/]+)`),
      handle: putEnvironment,
    },
    {
      method: "GET",
      pattern: path(`${group}/providers/Microsoft\\.App/containerApps`),
      handle: (_context, params) => ({
        status: 200,
        body: {
          value: store.listApps(subscription(params), params.resourceGroup).map(appToArm),
        },
      }),
    },
    {
      method: "GET",
      pattern: path(app),
      handle: (_context, params) => ({ status: 200, body: appToArm(appOf(params)) }),
    },
    { method: "PUT", pattern: path(app), handle: putApp },
    { method: "PATCH", pattern: path(app), handle: patchApp },
    {
      // The shape of the REST spec's example (ContainerApps_GetAuthToken.json).
      method: "POST",
      pattern: path(`${app}/getAuthtoken`),
      handle: (_context, params) => {
        const found = appOf(params);
        return {
          status: 200,
          body: {
            id: found.id,
            name: found.name,
            type: "Microsoft.App/containerApps/accesstoken",
            location: found.location,
            properties: logs.issueToken(found),
          },
        };
      },
    },
    {
      // The one way to read secret values: a GET of the app carries none.
      method: "POST",
      pattern: path(`${app}/listSecrets`),
      handle: (_context, params) => ({ status: 200, body: { value: secretsOf(appOf(params)) } }),
    },
    { method: "GET", pattern: path(`${app}/revisions`), handle: listRevisions },
    {
      method: "GET",
      pattern: path(revision),
      handle: (_context, params) => {
        const found = appOf(params);
        return { status: 200, body: revisionToArm(found, getRevision(found, params.revision)) };
      },
    },
    {
      method: "POST",
      pattern: path(`${revision}/activate`),
      handle: (_context, params) => {
        writes.activateRevision(appOf(params), params.revision);
        return { status: 200, body: "Activate succeeded" };
      },
    },
    {
      method: "POST",
      pattern: path(`${revision}/deactivate`),
      handle: (_context, params) => {
        writes.deactivateRevision(appOf(params), params.revision);
        return { status: 200, body: "Deactivate succeeded" };
      },
    },
    {
      method: "POST",
      pattern: path(`${revision}/restart`),
      handle: (_context, params) => {
        writes.restartRevision(appOf(params), params.revision);
        return { status: 200, body: "Restart succeeded" };
      },
    },
    {
      method: "GET",
      pattern: path(`${revision}/replicas`),
      handle: (_context, params) => {
        const found = appOf(params);
        const current = getRevision(found, params.revision);
        return { status: 200, body: { value: replicasOf(found, current) } };
      },
    },
    {
      method: "GET",
      pattern: path(`${revision}/replicas/(?<replica>[^/]+)`),
      handle: (_context, params) => {
        const found = appOf(params);
        const current = getRevision(found, params.revision);
        const replica = replicasOf(found, current).find(
          (candidate) => candidate.name === params.replica,
        );
        if (!replica) {
          throw new HttpError(
            404,
            "ResourceNotFound",
            `Replica '${params.replica}' of revision '${current.name}' was not found.`,
          );
        }
        return { status: 200, body: replica };
      },
    },
    {
      method: "GET",
      pattern: path(
        `${operations}/(?<kind>containerappOperationStatuses|managedEnvironmentOperationStatuses)/(?<operation>[^/]+)`,
      ),
      handle: operationStatus,
    },
    {
      method: "GET",
      pattern: path(
        `${operations}/(?<kind>containerappOperationResults|managedEnvironmentOperationResults)/(?<operation>[^/]+)`,
      ),
      handle: operationResult,
    },
  ];

  function subscription(params: Record<string, string>): string {
    if (!store.hasSubscription(params.subscription)) {
      throw new HttpError(
        404,
        "SubscriptionNotFound",
        `The subscription '${params.subscription}' could not be found.`,
      );
    }
    return params.subscription;
  }

  function appOf(params: Record<string, string>): ContainerApp {
    return store.getApp(subscription(params), params.resourceGroup, params.app);
  }

  function cloudMetadata({ base }: ArmContext): Reply {
    return {
      status: 200,
      body: {
        name: "AzureContainerAppsEmulator",
        portal: base,
        resourceManager: `${base}/`,
        authentication: {
          loginEndpoint: `${identity.authorityHost}/`,
          audiences: ["https://management.core.windows.net/", "https://management.azure.com/"],
          tenant: "common",
          identityProvider: "AAD",
        },
        suffixes: { acrLoginServer: ".azurecr.io", keyVaultDns: ".vault.azure.net" },
        ...(logAnalytics && { logAnalyticsResourceId: `${base}${LOG_ANALYTICS_PREFIX}` }),
      },
    };
  }

  function putResourceGroup({ body }: ArmContext, params: Record<string, string>): Reply {
    const { group: created, created: isNew } = writes.putResourceGroup(
      subscription(params),
      params.resourceGroup,
      body,
    );
    return { status: isNew ? 201 : 200, body: resourceGroupToArm(created) };
  }

  function getResourceGroup(_context: ArmContext, params: Record<string, string>): Reply {
    const found = store.requireResourceGroup(subscription(params), params.resourceGroup);
    return { status: 200, body: resourceGroupToArm(found) };
  }

  function headResourceGroup(_context: ArmContext, params: Record<string, string>): Reply {
    const found = store.findResourceGroup(subscription(params), params.resourceGroup);
    return { status: found ? 204 : 404 };
  }

  /**
   * A PUT answers 201 whether it creates or replaces, with the resource InProgress, the status
   * URL and the operation timeout, and no Location (every recorded PUT of an app or environment).
   */
  function putEnvironment({ base, body }: ArmContext, params: Record<string, string>): Reply {
    const { environment, operation } = writes.putEnvironment(
      subscription(params),
      params.resourceGroup,
      params.environment,
      body,
    );
    return {
      status: 201,
      body: environmentToArm(environment),
      headers: putHeaders(operationUrls(base, environment, operation, "managedEnvironment")),
    };
  }

  function putApp({ base, body }: ArmContext, params: Record<string, string>): Reply {
    const { app: written, operation } = writes.putApp(
      subscription(params),
      params.resourceGroup,
      params.app,
      body,
    );
    return {
      status: 201,
      body: appToArm(written),
      headers: putHeaders(operationUrls(base, written, operation, "containerapp")),
    };
  }

  /** A PATCH answers 202, no body, with Location and (since 2024-09) Azure-AsyncOperation. */
  function patchApp({ base, body }: ArmContext, params: Record<string, string>): Reply {
    const { app: written, operation } = writes.patchApp(
      subscription(params),
      params.resourceGroup,
      params.app,
      body,
    );
    const urls = operationUrls(base, written, operation, "containerapp");
    return {
      status: 202,
      headers: { "azure-asyncoperation": urls.status, location: urls.result },
    };
  }

  function putHeaders(urls: { status: string }): Record<string, string> {
    return {
      "azure-asyncoperation": urls.status,
      "x-ms-async-operation-timeout": asyncOperationTimeout,
    };
  }

  function operationUrls(
    base: string,
    resource: { subscriptionId: string; location: string },
    operation: Operation,
    kind: "containerapp" | "managedEnvironment",
  ): { status: string; result: string } {
    const location = resource.location.toLowerCase().replace(/[^a-z0-9]/g, "");
    const prefix = `${base}/subscriptions/${resource.subscriptionId}/providers/Microsoft.App/locations/${location}`;
    const query = `?api-version=${appApiVersion}`;
    return {
      status: `${prefix}/${kind}OperationStatuses/${operation.id}${query}`,
      result: `${prefix}/${kind}OperationResults/${operation.id}${query}`,
    };
  }

  function findOperation(params: Record<string, string>): Operation {
    subscription(params);
    const operation = store.getOperation(params.operation);
    if (!operation) {
      throw new HttpError(
        404,
        "OperationNotFound",
        `Operation '${params.operation}' was not found.`,
      );
    }
    return operation;
  }

  function operationStatus({ url }: ArmContext, params: Record<string, string>): Reply {
    const operation = findOperation(params);
    return {
      status: 200,
      body: {
        id: url.pathname,
        name: operation.id,
        status: operation.status,
        startTime: operation.startTime,
        error: operation.error,
      },
    };
  }

  function operationResult({ url, base }: ArmContext, params: Record<string, string>): Reply {
    const operation = findOperation(params);
    if (operation.status === "InProgress") {
      return { status: 202, headers: { location: `${base}${url.pathname}${url.search}` } };
    }
    if (operation.status === "Failed" && operation.error) {
      throw new HttpError(400, operation.error.code, operation.error.message);
    }
    return { status: 200, body: resourceById(operation.resourceId) };
  }

  function resourceById(id: string): unknown {
    const match =
      /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.App\/(containerApps|managedEnvironments)\/([^/]+)$/i.exec(
        id,
      );
    if (!match) throw new Error(`Unexpected resource id ${id}.`);
    const [, subscriptionId, resourceGroup, type, name] = match;
    return type.toLowerCase() === "containerapps"
      ? appToArm(store.getApp(subscriptionId, resourceGroup, name))
      : environmentToArm(store.getEnvironment(subscriptionId, resourceGroup, name));
  }

  function listRevisions({ base, url }: ArmContext, params: Record<string, string>): Reply {
    const found = appOf(params);
    const token = url.searchParams.get("$skiptoken");
    const start = token && /^\d+$/.test(token) ? Number(token) : 0;
    const page = found.revisions.slice(start, start + revisionPageSize);
    const next = start + revisionPageSize;
    const nextLink =
      next < found.revisions.length
        ? `${base}${url.pathname}?api-version=${appApiVersion}&$skiptoken=${next}`
        : undefined;
    return {
      status: 200,
      body: { value: page.map((current) => revisionToArm(found, current)), nextLink },
    };
  }

  function systemData(resource: { createdAt: string; lastModifiedAt: string }) {
    return {
      createdBy: actor,
      createdByType: "Application",
      createdAt: resource.createdAt,
      lastModifiedBy: actor,
      lastModifiedByType: "Application",
      lastModifiedAt: resource.lastModifiedAt,
    };
  }

  function resourceGroupToArm(found: {
    id: string;
    name: string;
    location: string;
    tags: Record<string, string>;
  }) {
    return {
      id: found.id,
      name: found.name,
      type: "Microsoft.Resources/resourceGroups",
      location: found.location,
      tags: found.tags,
      properties: { provisioningState: "Succeeded" },
    };
  }

  function environmentToArm(environment: ManagedEnvironment) {
    const customDomainConfiguration = isRecord(environment.properties.customDomainConfiguration)
      ? environment.properties.customDomainConfiguration
      : {};
    return {
      id: environment.id,
      name: environment.name,
      type: "Microsoft.App/managedEnvironments",
      location: environment.location,
      tags: environment.tags,
      systemData: systemData(environment),
      properties: {
        zoneRedundant: false,
        ...environment.properties,
        provisioningState: environment.provisioningState,
        defaultDomain: environment.defaultDomain,
        staticIp: environment.staticIp,
        customDomainConfiguration: {
          ...customDomainConfiguration,
          customDomainVerificationId: verificationId(environment.id),
        },
      },
    };
  }

  function appToArm(found: ContainerApp) {
    const configuration = structuredClone(found.configuration);
    if (Array.isArray(configuration.secrets)) {
      // Secret values are write-only, as on the service: reading them takes listSecrets.
      configuration.secrets = configuration.secrets.map((secret: Record<string, unknown>) => {
        const rest = { ...secret };
        delete rest.value;
        return rest;
      });
    }
    if (isRecord(configuration.ingress)) configuration.ingress.fqdn = appFqdn(store, found);
    const environmentId = found.environmentId;
    return {
      id: found.id,
      name: found.name,
      type: "Microsoft.App/containerApps",
      location: found.location,
      tags: found.tags,
      identity: found.identity,
      systemData: systemData(found),
      properties: {
        provisioningState: found.provisioningState,
        runningStatus: "Running",
        managedEnvironmentId: environmentId,
        environmentId,
        workloadProfileName: found.workloadProfileName,
        outboundIpAddresses: ["127.0.0.1"],
        latestRevisionName: found.latestRevisionName,
        latestReadyRevisionName: found.latestReadyRevisionName,
        latestRevisionFqdn: revisionFqdn(store, found, found.latestRevisionName),
        customDomainVerificationId: verificationId(found.id),
        eventStreamEndpoint: logs.eventStreamEndpoint(found),
        configuration,
        template: found.template,
      },
    };
  }

  /**
   * The app's secrets as `listSecrets` answers: name and value, or name, Key Vault URL and
   * identity (the service's answer for a Key Vault reference is not in the material read: the
   * emulator gives no value for it).
   */
  function secretsOf(found: ContainerApp) {
    const secrets = Array.isArray(found.configuration.secrets)
      ? (found.configuration.secrets as Record<string, unknown>[])
      : [];
    return secrets.map((secret) =>
      typeof secret.keyVaultUrl === "string"
        ? { name: secret.name, keyVaultUrl: secret.keyVaultUrl, identity: secret.identity }
        : { name: secret.name, value: secret.value },
    );
  }

  function revisionToArm(found: ContainerApp, current: Revision) {
    return {
      id: `${found.id}/revisions/${current.name}`,
      name: current.name,
      type: "Microsoft.App/containerApps/revisions",
      properties: {
        createdTime: current.createdTime,
        lastActiveTime: current.active ? undefined : current.lastActiveTime,
        fqdn: revisionFqdn(store, found, current.name),
        template: current.template,
        active: current.active,
        replicas: current.replica ? 1 + (current.moreReplicas?.length ?? 0) : 0,
        trafficWeight: trafficWeightOf(found, current),
        provisioningError: current.provisioningError,
        healthState: current.healthState,
        provisioningState: current.provisioningState,
        runningState: current.runningState,
        runningStateDetails: current.runningStateDetails,
      },
    };
  }

  /**
   * The revision's replicas: none while Provisioning or inactive; the first not ready while
   * Activating, ready while Running, the others (with `minReplicas` above one) ready one after
   * another; a container that keeps crashing (its details are the emulator's own).
   */
  function replicasOf(found: ContainerApp, current: Revision) {
    if (!current.replica) return [];
    return [current.replica, ...(current.moreReplicas ?? [])].map((replica) =>
      replicaToArm(found, current, replica),
    );
  }

  function replicaToArm(found: ContainerApp, current: Revision, replica: Replica) {
    const ready = replica.state === "ready";
    const crashing = replica.state === "crashing";
    const containers = (current.template.containers as Record<string, unknown>[]).map(
      (container) => ({
        name: container.name,
        containerId: `containerd://${verificationId(`${replica.name}/${String(container.name)}`)}`,
        ready,
        started: !crashing,
        restartCount: crashing ? 1 : 0,
        runningState: crashing ? "Waiting" : "Running",
        runningStateDetails: crashing
          ? `Container crashing: ${String(container.name)}`
          : `Container started at: ${replica.createdTime}.`,
        logStreamEndpoint: logs.logStreamEndpoint(
          found,
          current.name,
          replica.name,
          String(container.name),
        ),
      }),
    );
    return {
      id: `${found.id}/revisions/${current.name}/replicas/${replica.name}`,
      name: replica.name,
      type: "Microsoft.App/containerApps/revisions/replicas",
      properties: {
        createdTime: replica.createdTime,
        runningState: crashing ? "NotRunning" : "Running",
        runningStateDetails: "",
        containers,
        initContainers: [],
      },
    };
  }

  function checkApiVersion(pathname: string, apiVersion: string | null): void {
    const supported = metadataPath.test(pathname)
      ? [metadataApiVersion]
      : /\/providers\/Microsoft\.App(\/|$)/i.test(pathname)
        ? [appApiVersion]
        : resourcesApiVersions;
    if (apiVersion === null || apiVersion === "") {
      throw new HttpError(
        400,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
      );
    }
    if (!supported.includes(apiVersion)) {
      throw new HttpError(
        400,
        "InvalidApiVersionParameter",
        `The api-version '${apiVersion}' is invalid. The supported versions are ` +
          `'${supported.join(",")}'.`,
      );
    }
  }

  function answerFault(
    request: IncomingMessage,
    response: ServerResponse,
    fault: ArmFault,
    headers: Record<string, string>,
  ): number {
    switch (fault.kind) {
      case "status": {
        const retryAfter =
          fault.retryAfterSeconds ?? (fault.status === 429 ? retryAfterSeconds : undefined);
        const faultHeaders =
          retryAfter === undefined ? headers : { ...headers, "retry-after": String(retryAfter) };
        const errors = {
          429: [
            "TooManyRequests",
            "The request was throttled. Please retry after the Retry-After interval.",
          ],
          500: [
            "InternalServerError",
            "There was an unexpected InternalServerError. Please try again later.",
          ],
          503: [
            "ServiceUnavailable",
            "The service is temporarily unavailable. Please try again later.",
          ],
        } as const;
        const [code, message] = errors[fault.status];
        sendError(response, new HttpError(fault.status, code, message, faultHeaders));
        return fault.status;
      }
      case "reset":
        request.socket.destroy();
        return 0;
      case "hang":
        // Never answered: the connection stays open until the client gives up or the emulator
        // stops, or, with `forMs`, until an idle timeout in between would drop it.
        if (fault.forMs !== undefined) {
          setTimeout(() => request.socket.destroy(), fault.forMs).unref();
        }
        return 0;
      case "lock-conflict":
      case "operation-failed":
        try {
          if (fault.kind === "lock-conflict") {
            throw lockConflict(/\/containerApps\/([^/?]+)/i.exec(request.url ?? "")?.[1] ?? "");
          }
          return failedWrite(request, response, fault.error, headers);
        } catch (error) {
          return sendWithHeaders(response, error as HttpError, headers);
        }
    }
  }

  /** Accepts a PATCH of an app that changes nothing and whose operation ends Failed. */
  function failedWrite(
    request: IncomingMessage,
    response: ServerResponse,
    error: { code: string; message: string } | undefined,
    headers: Record<string, string>,
  ): number {
    const base = `https://${request.headers.host ?? "127.0.0.1"}`;
    const params = path(app).exec(new URL(request.url ?? "/", base).pathname)?.groups ?? {};
    const target = store.getApp(subscription(params), params.resourceGroup, params.app);
    const operation = writes.failWrite(
      target,
      error ?? {
        code: "ContainerAppOperationError",
        message: `Failed to update container app '${target.name}'. Error details: An internal error occurred; please retry the operation.`,
      },
    );
    const urls = operationUrls(base, target, operation, "containerapp");
    sendEmpty(response, 202, {
      ...headers,
      "azure-asyncoperation": urls.status,
      location: urls.result,
    });
    return 202;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? "GET";
    const base = `https://${request.headers.host ?? "127.0.0.1"}`;
    const url = new URL(request.url ?? "/", base);
    const apiVersion = url.searchParams.get("api-version");
    const headers = {
      "x-ms-request-id": randomUUID(),
      "x-ms-correlation-request-id":
        firstHeader(request.headers["x-ms-correlation-request-id"]) ?? randomUUID(),
    };
    const entry = {
      method,
      path: url.pathname,
      apiVersion: apiVersion ?? undefined,
      body: undefined as unknown,
    };
    const record = (status: number, fault?: string) =>
      journal.recordArm({ time: Date.now(), ...entry, status, fault });

    let raw: Buffer;
    try {
      raw = await readBody(request);
    } catch {
      request.socket.destroy();
      return;
    }
    let body: unknown;
    let parseError: HttpError | undefined;
    try {
      body = parseJson(raw);
      if (body !== undefined && method !== "GET" && method !== "HEAD") entry.body = body;
    } catch (error) {
      parseError = error as HttpError;
    }

    for (const listener of [...listeners]) {
      // Awaited only when it returns a promise: a listener that injects a fault for this request
      // does so in the same turn as the fault is taken, so no other request can take it first.
      const pending = listener({
        method,
        path: url.pathname,
        ...(entry.body ? { body: entry.body } : {}),
      });
      if (pending) await pending;
    }
    const fault = faults.takeArm(method, url.pathname);
    if (fault) {
      record(
        answerFault(request, response, fault, headers),
        fault.kind === "status" ? String(fault.status) : fault.kind,
      );
      return;
    }

    if (logAnalytics?.matches(url.pathname) && !parseError) {
      // Another API on the same server, with a token for its own audience.
      const authorization = request.headers.authorization;
      record(
        logAnalytics.handle(
          { method, url, body, ...(authorization && { authorization }) },
          response,
        ),
      );
      return;
    }

    let reply: Reply;
    try {
      // The cloud metadata is read before signing in: it says where and for what to get a token.
      if (!metadataPath.test(url.pathname)) {
        const unauthorized = identity.checkArmAuthorization(request.headers.authorization);
        if (unauthorized) throw unauthorized;
      }
      const insights = monitor?.match(method, url.pathname);
      // Microsoft.Insights checks its own api-versions.
      if (!insights) checkApiVersion(url.pathname, apiVersion);
      if (parseError) throw parseError;
      if (insights) {
        reply = insights(url);
      } else {
        const found = matchRoute(routes, method, url.pathname);
        if (found === undefined || found === "method-not-allowed") {
          throw new HttpError(
            501,
            "NotImplementedInEmulator",
            `The emulator does not model ${method} ${url.pathname}. See emulator/README.md for ` +
              "what it serves.",
          );
        }
        reply = await found.route.handle({ base, url, body }, found.params);
      }
    } catch (error) {
      const failure =
        error instanceof HttpError
          ? error
          : new HttpError(500, "InternalServerError", `The emulator failed: ${String(error)}`);
      record(sendWithHeaders(response, failure, headers));
      return;
    }
    const replyHeaders = { ...headers, ...reply.headers };
    if (reply.body === undefined || method === "HEAD")
      sendEmpty(response, reply.status, replyHeaders);
    else sendJson(response, reply.status, reply.body, replyHeaders);
    record(reply.status);
  }

  return (request, response) => void handle(request, response);
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A stable hex identifier, like the service's verification ids. */
function verificationId(seed: string): string {
  return createHash("sha256").update(seed.toLowerCase()).digest("hex").slice(0, 64).toUpperCase();
}

/** Sends an error with the request's headers beneath its own; returns its status. */
function sendWithHeaders(
  response: ServerResponse,
  failure: HttpError,
  headers: Record<string, string>,
): number {
  sendError(
    response,
    new HttpError(
      failure.status,
      failure.code,
      failure.message,
      { ...headers, ...failure.headers },
      failure.envelope,
    ),
  );
  return failure.status;
}
