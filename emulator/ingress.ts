/**
 * The environment's HTTPS ingress: terminates TLS for every app hostname with a certificate from
 * the emulator's CA, routes by host name (app FQDN by weight, label and revision hostnames by
 * name) to the revision processes, and journals every request it routes.
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
import type { IngressOptions, Route, RouteTarget, RunningServer } from "./contracts.ts";
import {
  closeServer,
  hopByHopHeaders,
  hostWithoutPort,
  listenOnLoopback,
  trackSockets,
} from "./net-util.ts";

const stoppedMessage = "This Container App is stopped or does not exist.";

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
    response.once("close", () => {
      opts.record({
        time: Date.now(),
        host,
        path: (request.url ?? "/").split("?")[0],
        route: route.kind,
        revision: servedBy,
        status: response.statusCode,
      });
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
