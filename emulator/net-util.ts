/** Small pieces of HTTP plumbing shared by the ingress and the proxy. */
import type { Server } from "node:net";
import type { Socket } from "node:net";

/** Headers that describe one connection and must not be passed on to the next hop. */
export const hopByHopHeaders = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "upgrade",
]);

/** `host`, `host:port`, `[v6]` or `[v6]:port` → the bare host name or address. */
export function hostWithoutPort(authority: string): string {
  if (authority.startsWith("[")) {
    const end = authority.indexOf("]");
    return end === -1 ? authority : authority.slice(1, end);
  }
  const colon = authority.lastIndexOf(":");
  // More than one colon without brackets is a bare IPv6 address.
  if (colon === -1 || authority.indexOf(":") !== colon) return authority;
  return authority.slice(0, colon);
}

/** The live sockets of a server, so that stopping it can destroy them instead of waiting. */
export function trackSockets(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  return sockets;
}

/** Closes a server and every connection it still holds; resolves once it is closed. */
export function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  });
}

/** Starts listening on an ephemeral loopback port; resolves with the port. */
export function listenOnLoopback(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    });
  });
}
