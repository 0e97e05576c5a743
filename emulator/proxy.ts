/**
 * The HTTP proxy clients use (HTTPS_PROXY) to reach app hostnames without touching /etc/hosts.
 *
 * - CONNECT to an environment hostname (any port) is tunnelled to the ingress; CONNECT to a
 *   loopback address is tunnelled there, so ARM and Entra ID calls work through the same proxy.
 * - A plain-HTTP request (absolute form) for an environment hostname is answered with a 301 to its
 *   https:// URL, as ACA redirects HTTP when `allowInsecure` is false; one for a loopback address
 *   is forwarded there.
 * - Every other destination is refused with 403: the emulator never reaches beyond this machine.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { connect, isIPv4, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { RunningServer } from "./contracts.ts";
import {
  closeServer,
  hopByHopHeaders,
  hostWithoutPort,
  listenOnLoopback,
  trackSockets,
} from "./net-util.ts";

export interface ProxyOptions {
  ingressPort: number;
  isIngressHost(host: string): boolean;
}

type Destination =
  { kind: "ingress" } | { kind: "loopback"; host: string } | { kind: "refused"; reason: string };

export async function startProxy(opts: ProxyOptions): Promise<RunningServer & { url: string }> {
  const server = createServer();
  const sockets = trackSockets(server);
  const upstreams = new Set<Socket>();

  function destinationOf(host: string): Destination {
    const name = host.toLowerCase();
    if (opts.isIngressHost(name)) return { kind: "ingress" };
    if (name === "localhost") return { kind: "loopback", host: "127.0.0.1" };
    if (name === "::1" || (isIPv4(name) && name.startsWith("127."))) {
      return { kind: "loopback", host: name };
    }
    return {
      kind: "refused",
      reason: `${host} is neither an emulated Container Apps hostname nor a loopback address.`,
    };
  }

  server.on("connect", (request: IncomingMessage, client: Duplex, head: Buffer) => {
    client.on("error", () => client.destroy());
    const authority = request.url ?? "";
    const port = portOf(authority);
    if (port === undefined) {
      rejectTunnel(client, 400, `CONNECT needs host:port, got "${authority}".`);
      return;
    }
    const destination = destinationOf(hostWithoutPort(authority));
    if (destination.kind === "refused") {
      rejectTunnel(client, 403, destination.reason);
      return;
    }
    const upstream =
      destination.kind === "ingress"
        ? connect({ host: "127.0.0.1", port: opts.ingressPort })
        : connect({ host: destination.host, port });
    upstreams.add(upstream);
    let established = false;
    upstream.once("connect", () => {
      established = true;
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", (error) => {
      if (established) client.destroy();
      else rejectTunnel(client, 502, `Could not reach ${authority}: ${error.message}`);
    });
    upstream.once("close", () => {
      upstreams.delete(upstream);
      if (established) client.destroy();
    });
    client.once("close", () => upstream.destroy());
  });

  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    let target: URL;
    try {
      target = new URL(request.url ?? "");
    } catch {
      sendText(response, 400, "This is a proxy: send absolute-form requests or CONNECT.");
      return;
    }
    if (target.protocol !== "http:") {
      sendText(response, 400, `Only http:// URLs can be proxied without CONNECT.`);
      return;
    }
    const destination = destinationOf(target.hostname.replace(/^\[|\]$/g, ""));
    if (destination.kind === "refused") {
      sendText(response, 403, destination.reason);
      return;
    }
    if (destination.kind === "ingress") {
      const secure = `https://${target.hostname}${target.pathname}${target.search}`;
      response.writeHead(301, { location: secure, "content-length": 0 });
      response.end();
      return;
    }
    const headers = { ...request.headers };
    for (const name of hopByHopHeaders) delete headers[name];
    const upstream = httpRequest(
      {
        host: destination.host,
        port: target.port || 80,
        method: request.method,
        path: `${target.pathname}${target.search}`,
        headers,
        agent: false,
      },
      (answer) => {
        const answerHeaders = { ...answer.headers };
        for (const name of hopByHopHeaders) delete answerHeaders[name];
        response.writeHead(answer.statusCode ?? 502, answerHeaders);
        answer.pipe(response);
        answer.on("error", () => response.destroy());
      },
    );
    upstream.on("error", (error) => {
      if (response.headersSent || response.destroyed) response.destroy();
      else sendText(response, 502, `Could not reach ${target.host}: ${error.message}`);
    });
    request.pipe(upstream);
    response.once("close", () => {
      if (!response.writableFinished) upstream.destroy();
    });
  });

  const port = await listenOnLoopback(server);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      for (const upstream of upstreams) upstream.destroy();
      await closeServer(server, sockets);
    },
  };
}

function portOf(authority: string): number | undefined {
  const match = /:(\d{1,5})$/.exec(authority);
  const port = match ? Number(match[1]) : NaN;
  return port >= 1 && port <= 65535 ? port : undefined;
}

function rejectTunnel(client: Duplex, status: 400 | 403 | 502, reason: string): void {
  const statusText = { 400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway" }[status];
  const body = `${reason}\n`;
  client.end(
    `HTTP/1.1 ${status} ${statusText}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function sendText(response: ServerResponse, status: number, text: string): void {
  const body = `${text}\n`;
  response.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  response.end(body);
}
