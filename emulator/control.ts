/**
 * The control API: plain HTTP JSON on 127.0.0.1, one route per method of `Emulator`, so that
 * scripts and pipelines outside the test process can seed apps, act as someone else, inject
 * faults and read the journals.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
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
import { appFqdn } from "./ingress.ts";
import type { ContainerApp, ResourceStore } from "./store.ts";
import { trafficEntries, trafficWeightOf } from "./traffic.ts";
import type {
  AppView,
  ArmFault,
  Emulator,
  LogStreamFault,
  RevisionFault,
  SeedSpec,
  TrafficEntry,
} from "./types.ts";

/** The app as the control API shows it, for assertions. */
export function appView(store: ResourceStore, app: ContainerApp): AppView {
  return {
    id: app.id,
    name: app.name,
    resourceGroup: app.resourceGroup,
    activeRevisionsMode: String(app.configuration.activeRevisionsMode),
    provisioningState: app.provisioningState,
    latestRevisionName: app.latestRevisionName,
    latestReadyRevisionName: app.latestReadyRevisionName,
    fqdn: appFqdn(store, app) ?? "",
    traffic: structuredClone(trafficEntries(app)) as TrafficEntry[],
    revisions: app.revisions.map((revision) => ({
      name: revision.name,
      image: revision.image,
      active: revision.active,
      provisioningState: revision.provisioningState,
      runningState: revision.runningState,
      healthState: revision.healthState,
      provisioningError: revision.provisioningError,
      runningStateDetails: revision.runningStateDetails,
      replicas: revision.replica ? 1 + (revision.moreReplicas?.length ?? 0) : 0,
      replicaStates: (revision.replica
        ? [revision.replica, ...(revision.moreReplicas ?? [])]
        : []
      ).map((replica) => ({
        name: replica.name,
        state: replica.state,
        ...(replica.readyTime && { readyTime: replica.readyTime }),
      })),
      trafficWeight: trafficWeightOf(app, revision),
      createdTime: revision.createdTime,
      lastActiveTime: revision.active ? undefined : revision.lastActiveTime,
    })),
    tags: { ...app.tags },
  };
}

export function createControlHandler(
  emulator: Emulator,
): (request: IncomingMessage, response: ServerResponse) => void {
  const routes: HttpRoute<unknown>[] = [
    {
      method: "GET",
      pattern: /^\/info$/,
      handle: () => ({ status: 200, body: emulator.info }),
    },
    {
      method: "POST",
      pattern: /^\/seed$/,
      handle: async (body) => ({ status: 201, body: await emulator.seed(body as SeedSpec) }),
    },
    {
      method: "GET",
      pattern: /^\/apps\/(?<resourceGroup>[^/]+)\/(?<app>[^/]+)$/,
      handle: (_body, { resourceGroup, app }) => ({
        status: 200,
        body: emulator.getApp(resourceGroup, app),
      }),
    },
    {
      method: "PUT",
      pattern: /^\/apps\/(?<resourceGroup>[^/]+)\/(?<app>[^/]+)\/traffic$/,
      handle: async (body, { resourceGroup, app }) => {
        const traffic = isRecord(body) ? body.traffic : body;
        if (!Array.isArray(traffic)) {
          throw new HttpError(400, "InvalidRequestContent", "Send the traffic list as the body.");
        }
        return {
          status: 200,
          body: await emulator.setTraffic(resourceGroup, app, traffic as TrafficEntry[]),
        };
      },
    },
    {
      method: "PUT",
      pattern:
        /^\/apps\/(?<resourceGroup>[^/]+)\/(?<app>[^/]+)\/revisions\/(?<revision>[^/]+)\/behaviour$/,
      handle: async (body, { resourceGroup, app, revision }) => {
        if (!isRecord(body) || typeof body.behaviour !== "string") {
          throw new HttpError(
            400,
            "InvalidRequestContent",
            'Send {"behaviour": "<name>"}, e.g. {"behaviour": "http500"}.',
          );
        }
        await emulator.setRevisionBehaviour(resourceGroup, app, revision, body.behaviour);
        return { status: 204 };
      },
    },
    {
      method: "POST",
      pattern: /^\/faults\/arm$/,
      handle: (body) => {
        emulator.injectArmFault(body as ArmFault);
        return { status: 204 };
      },
    },
    {
      method: "POST",
      pattern: /^\/faults\/revision$/,
      handle: (body) => {
        emulator.injectRevisionFault(body as RevisionFault);
        return { status: 204 };
      },
    },
    {
      method: "POST",
      pattern: /^\/faults\/log-stream$/,
      handle: (body) => {
        emulator.injectLogStreamFault(body as LogStreamFault);
        return { status: 204 };
      },
    },
    {
      method: "PUT",
      pattern: /^\/monitor\/ingestion-delay$/,
      handle: (body) => {
        if (!isRecord(body) || typeof body.ms !== "number") {
          throw new HttpError(400, "InvalidRequestContent", 'Send {"ms": <milliseconds>}.');
        }
        emulator.setIngestionDelay(body.ms);
        return { status: 204 };
      },
    },
    {
      method: "DELETE",
      pattern: /^\/faults$/,
      handle: () => {
        emulator.clearFaults();
        return { status: 204 };
      },
    },
    {
      method: "GET",
      pattern: /^\/journal\/arm$/,
      handle: () => ({ status: 200, body: emulator.armJournal() }),
    },
    {
      method: "GET",
      pattern: /^\/journal\/ingress$/,
      handle: () => ({ status: 200, body: emulator.ingressJournal() }),
    },
    {
      method: "GET",
      pattern: /^\/journal\/log-stream$/,
      handle: () => ({ status: 200, body: emulator.logStreamJournal() }),
    },
    {
      method: "GET",
      pattern: /^\/logs\/console$/,
      handle: () => ({ status: 200, body: emulator.consoleLogs() }),
    },
    {
      method: "GET",
      pattern: /^\/logs\/system$/,
      handle: () => ({ status: 200, body: emulator.systemEvents() }),
    },
    {
      method: "DELETE",
      pattern: /^\/journal$/,
      handle: () => {
        emulator.clearJournal();
        return { status: 204 };
      },
    },
    {
      method: "POST",
      pattern: /^\/stop$/,
      handle: () => {
        // Answered first: stopping closes this very server.
        setImmediate(() => void emulator.stop());
        return { status: 202 };
      },
    },
  ];

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? "GET";
    const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
    let reply: Reply;
    try {
      const body = parseJson(await readBody(request));
      const found = matchRoute(routes, method, path);
      if (found === undefined) {
        throw new HttpError(404, "NotFound", `No control route ${method} ${path}.`);
      }
      if (found === "method-not-allowed") {
        throw new HttpError(405, "MethodNotAllowed", `${path} does not accept ${method}.`);
      }
      reply = await found.route.handle(body, found.params);
    } catch (error) {
      sendError(
        response,
        error instanceof HttpError
          ? error
          : new HttpError(
              500,
              "InternalError",
              error instanceof Error ? error.message : String(error),
            ),
      );
      return;
    }
    if (reply.body === undefined) sendEmpty(response, reply.status);
    else sendJson(response, reply.status, reply.body);
  }

  return (request, response) => void handle(request, response);
}
