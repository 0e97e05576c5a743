/**
 * The environment's HTTPS ingress: the host names of apps, labels and revisions, the routing
 * table that resolves them to revision processes (app FQDN by weight, label and revision hostnames
 * by name), and the server that terminates TLS for them with certificates from the emulator's CA
 * and journals every request it routes.
 *
 * Error answers follow what Azure Container Apps' edge returns:
 * - unknown host, or a target revision that is inactive or not running: 404 "This Container App
 *   is stopped or does not exist" (the page ACA serves for a stopped app or a revision without
 *   replicas; older environments answered 403 "This Container App is stopped");
 * - the revision's process cannot be reached or drops the connection: 502.
 * Requests to unknown hosts are not journaled: they belong to no app.
 */
import {
  Agent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { createServer } from "node:https";
import { createSecureContext, type SecureContext } from "node:tls";
import type {
  IngressOptions,
  Route,
  RouteTarget,
  RoutingTable,
  RunningServer,
} from "./contracts.ts";
import { isRecord } from "./http.ts";
import {
  closeServer,
  hopByHopHeaders,
  hostWithoutPort,
  listenOnLoopback,
  trackSockets,
} from "./net-util.ts";
import {
  findRevision,
  type ContainerApp,
  type Json,
  type ManagedEnvironment,
  type ResourceStore,
  type Revision,
} from "./store.ts";
import { routedRevisionOf, trafficEntries } from "./traffic.ts";

const stoppedMessage = "This Container App is stopped or does not exist.";

// Host names and routing

/** `<app>.<domain>` (internal ingress: `<app>.internal.<domain>`); undefined without ingress. */
export function appFqdn(store: ResourceStore, app: ContainerApp): string | undefined {
  const ingress = app.configuration.ingress;
  if (!isRecord(ingress)) return undefined;
  return `${app.name}.${domainOf(store, app, ingress)}`;
}

export function revisionFqdn(
  store: ResourceStore,
  app: ContainerApp,
  revisionName: string,
): string | undefined {
  const ingress = app.configuration.ingress;
  if (!isRecord(ingress)) return undefined;
  return `${revisionName}.${domainOf(store, app, ingress)}`;
}

function domainOf(store: ResourceStore, app: ContainerApp, ingress: Json): string {
  const domain = store.environmentOf(app).defaultDomain;
  return ingress.external === true ? domain : `internal.${domain}`;
}

/** Resolves host names to the revisions of the apps the store holds, as they are right now. */
export function createRoutingTable(store: ResourceStore): RoutingTable {
  const environmentOfHost = (host: string): ManagedEnvironment | undefined =>
    store
      .environments()
      .find(({ defaultDomain }) => host === defaultDomain || host.endsWith(`.${defaultDomain}`));

  function resolve(host: string): Route {
    const environment = environmentOfHost(host);
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
    const app = store
      .apps()
      .find(
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
      const revisionName = entry ? routedRevisionOf(app, entry) : undefined;
      const revision = revisionName ? findRevision(app, revisionName) : undefined;
      return revision
        ? { kind: "label", appId: app.id, targets: [targetOf(revision, 100)] }
        : { kind: "unknown" };
    }
    if (revisionAt !== -1) {
      const revision = findRevision(app, label);
      return revision
        ? { kind: "revision", appId: app.id, targets: [targetOf(revision, 100)] }
        : { kind: "unknown" };
    }
    const weights = new Map<string, number>();
    for (const entry of trafficEntries(app)) {
      const revisionName = routedRevisionOf(app, entry);
      if (revisionName) {
        weights.set(revisionName, (weights.get(revisionName) ?? 0) + Number(entry.weight ?? 0));
      }
    }
    const targets: RouteTarget[] = [];
    for (const [revisionName, weight] of weights) {
      const revision = findRevision(app, revisionName);
      targets.push(revision ? targetOf(revision, weight) : { revision: revisionName, weight });
    }
    return { kind: "app", appId: app.id, targets };
  }

  return {
    isIngressHost: (host) => environmentOfHost(host.toLowerCase()) !== undefined,
    resolve: (host) => resolve(host.toLowerCase()),
  };
}

/** A revision is routable only while active and its replica runs and is ready. */
function targetOf(revision: Revision, weight: number): RouteTarget {
  const routable =
    revision.active &&
    revision.process !== undefined &&
    !revision.process.exited &&
    revision.replica?.state === "ready";
  return {
    revision: revision.name,
    weight,
    port: routable ? revision.process?.port : undefined,
  };
}

// The server

export async function startIngress(opts: IngressOptions): Promise<RunningServer> {
  const contexts = new Map<string, Promise<SecureContext>>();
  // Clients that send no SNI (a bare IP) still get a certificate they can verify.
  const fallback = await opts.ca.issue(["127.0.0.1", "localhost"]);
  // A fresh loopback connection per request: revision processes come and go, and a pooled socket
  // to a stopped one would turn into a spurious 502.
  const upstreamAgent = new Agent({ keepAlive: false });

  function contextFor(servername: string): Promise<SecureContext> {
    const names = certificateNames(servername);
    const key = names.join(",");
    let context = contexts.get(key);
    if (!context) {
      context = opts.ca
        .issue(names)
        .then(({ cert, key: privateKey }) => createSecureContext({ cert, key: privateKey }));
      contexts.set(key, context);
      context.catch(() => contexts.delete(key));
    }
    return context;
  }

  const server = createServer({
    cert: fallback.cert,
    key: fallback.key,
    SNICallback: (servername, callback) => {
      contextFor(servername.toLowerCase()).then(
        (context) => callback(null, context),
        (error: Error) => callback(error),
      );
    },
  });
  const sockets = trackSockets(server);

  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    const host = hostWithoutPort(request.headers.host ?? "").toLowerCase();
    const route = opts.routing.resolve(host);
    if (route.kind === "unknown") {
      sendErrorPage(response, 404, stoppedMessage);
      return;
    }
    const target = pickTarget(route);
    let servedBy: string | null = null;
    const started = performance.now();
    response.once("close", () => {
      opts.record(
        {
          time: Date.now(),
          host,
          path: (request.url ?? "/").split("?")[0],
          route: route.kind,
          revision: servedBy,
          status: response.statusCode,
        },
        {
          method: request.method ?? "GET",
          durationMs: performance.now() - started,
          ...(route.appId && { appId: route.appId }),
          ...(target && { target: target.revision }),
        },
      );
    });
    if (target?.port === undefined) {
      sendErrorPage(response, 404, stoppedMessage);
      return;
    }
    const upstream = httpRequest(
      {
        host: "127.0.0.1",
        port: target.port,
        method: request.method,
        path: request.url,
        headers: forwardedHeaders(request),
        agent: upstreamAgent,
      },
      (answer) => {
        servedBy = target.revision;
        response.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
        answer.pipe(response);
        answer.on("error", () => response.destroy());
      },
    );
    upstream.on("error", () => {
      if (response.headersSent || response.destroyed) response.destroy();
      else sendErrorPage(response, 502, "Bad gateway: the revision did not answer.");
    });
    request.pipe(upstream);
    response.once("close", () => {
      if (!response.writableFinished) upstream.destroy();
    });
  });

  const port = await listenOnLoopback(server);
  return {
    port,
    async stop() {
      await closeServer(server, sockets);
      upstreamAgent.destroy();
    },
  };
}

/**
 * The names a host's certificate covers: a wildcard for its parent domain, so one certificate
 * serves every app, label and revision hostname of an environment (as ACA's wildcard does).
 */
function certificateNames(servername: string): string[] {
  const labels = servername.split(".");
  // A wildcard directly under a top-level domain is refused by TLS clients; name the host itself.
  if (labels.length < 3) return [servername];
  return [`*.${labels.slice(1).join(".")}`];
}

function pickTarget(route: Extract<Route, { targets: RouteTarget[] }>): RouteTarget | undefined {
  if (route.kind !== "app") return route.targets[0];
  const total = route.targets.reduce((sum, target) => sum + Math.max(0, target.weight), 0);
  let roll = Math.random() * total;
  for (const target of route.targets) {
    if (target.weight <= 0) continue;
    roll -= target.weight;
    if (roll < 0) return target;
  }
  return undefined;
}

function forwardedHeaders(request: IncomingMessage): IncomingHttpHeaders {
  const headers = withoutHopByHop(request.headers);
  const client = request.socket.remoteAddress ?? "127.0.0.1";
  const prior = request.headers["x-forwarded-for"];
  headers["x-forwarded-for"] = prior ? `${String(prior)}, ${client}` : client;
  headers["x-forwarded-proto"] = "https";
  if (request.headers.host) headers["x-forwarded-host"] = request.headers.host;
  return headers;
}

function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const kept: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!hopByHopHeaders.has(name)) kept[name] = value;
  }
  return kept;
}

function sendErrorPage(response: ServerResponse, status: number, message: string): void {
  const title = `Error ${status} - ${message}`;
  const page =
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
    `<body><h1>Error ${status}</h1><p>${message}</p>` +
    `<p>Azure Container Apps emulator</p></body></html>`;
  response.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(page),
  });
  response.end(page);
}
