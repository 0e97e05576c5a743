/**
 * The program every emulated revision runs: a small HTTP app on 127.0.0.1 whose behaviour comes
 * from its image (see behaviour.ts); `/env` answers the environment variables it was started with. Started by processes.ts as
 * `node revision-app.ts <app> <revision> <image>` with an IPC channel; it reports its port on that
 * channel and exits as soon as the channel closes, so it never outlives the emulator.
 *
 * It prints what a real app prints, and the emulator serves it as the container's console output:
 * its start-up lines on stdout, one error line on stderr for every request it fails (with the
 * request id it answers in `x-request-id`), why it exits when it crashes, and its shutdown.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { behaviourName, behaviourOfImage, parseBehaviour, type Behaviour } from "./behaviour.ts";
import type { EmulatorMessage, RevisionMessage } from "./revision-protocol.ts";

const [app = "", revision = "", image = ""] = process.argv.slice(2);

let behaviour = behaviourOfImage(image);
/** Requests served since the behaviour was last set, for `unhealthy-after-<n>`. */
let served = 0;
/** Requests to pages other than the health endpoint, for `errors-<percent>`. */
let pages = 0;

log(
  `Starting ${app} (revision ${revision}, image ${image}, behaviour ${behaviourName(behaviour)})`,
);
if (behaviour.kind === "crash") crash(`image ${image} is built to exit at start`);

// The emulator going away (even killed) closes the channel: exit rather than linger as an orphan.
process.on("disconnect", () => process.exit(0));
// Deactivating the revision stops its container with SIGTERM, as Kubernetes does.
process.on("SIGTERM", () => {
  log("Received SIGTERM; shutting down");
  server.close();
  process.exit(0);
});
process.on("message", (message: EmulatorMessage) => {
  if (message.type !== "set-behaviour") return;
  const next = parseBehaviour(message.behaviour);
  if (!next) return;
  if (next.kind === "crash") crash("its behaviour was switched to crash");
  behaviour = next;
  served = 0;
  log(`Behaviour switched to ${behaviourName(next)}`);
  pages = 0;
  send({ type: "behaviour-set", behaviour: behaviourName(next) });
});

const server = createServer((request, response) => {
  const current = behaviour;
  served += 1;
  const health = new URL(request.url ?? "/", "http://revision").pathname === "/healthz";
  if (!health) pages += 1;
  const failing = fails(current, served, health);
  let bodyBytes = 0;
  request.on("data", (chunk: Buffer) => (bodyBytes += chunk.length));
  request.on("end", () => {
    const delay = current.kind === "slow" ? current.delayMs : 0;
    setTimeout(() => respond(request, response, current, failing, bodyBytes), delay);
  });
});
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  log(`${revision} listening on http://127.0.0.1:${port}`);
  send({ type: "listening", port });
});

function fails(current: Behaviour, count: number, health: boolean): boolean {
  switch (current.kind) {
    case "errors":
      // Exactly that share of the pages, evenly spread; the health endpoint keeps saying ok.
      return (
        !health &&
        Math.floor((pages * current.percent) / 100) >
          Math.floor(((pages - 1) * current.percent) / 100)
      );
    case "http500":
      return true;
    case "unhealthy-after":
      return count > current.requests;
    case "flaky":
      return Math.random() * 100 < current.percent;
    default:
      return false;
  }
}

function respond(
  request: IncomingMessage,
  response: ServerResponse,
  current: Behaviour,
  failing: boolean,
  bodyBytes: number,
): void {
  const url = new URL(request.url ?? "/", "http://revision");
  const status = failing ? 500 : 200;
  // `/env`: the variables the revision's template gave the container, as a test would check them.
  if (url.pathname === "/env") {
    response.writeHead(200, { "content-type": "application/json", "x-revision": revision });
    response.end(JSON.stringify({ revision, env: { ...process.env } }));
    return;
  }
  const requestId = firstHeader(request.headers["x-request-id"]) ?? randomUUID();
  const error = `Revision ${revision} failed this request (${behaviourName(current)}).`;
  if (failing) {
    process.stderr.write(
      `ERROR request ${requestId}: ${request.method} ${url.pathname} answered ${status}: ${error}\n`,
    );
  }
  const body =
    url.pathname === "/healthz"
      ? { status: failing ? "unhealthy" : "ok", revision }
      : {
          app,
          revision,
          image,
          behaviour: behaviourName(current),
          pid: process.pid,
          method: request.method,
          host: request.headers.host,
          path: url.pathname,
          query: url.search,
          bodyBytes,
          ...(failing ? { error, requestId } : {}),
        };
  response.writeHead(status, {
    "content-type": "application/json",
    "x-revision": revision,
    "x-request-id": requestId,
  });
  response.end(JSON.stringify(body));
}

function crash(reason: string): never {
  process.stderr.write(`Error: cannot start: ${reason}\n`);
  process.stderr.write(`Revision ${revision} of ${app} crashed; exiting with code 1\n`);
  process.exit(1);
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first && /^[\w.:-]{1,128}$/.test(first) ? first : undefined;
}

function send(message: RevisionMessage): void {
  if (process.connected) process.send?.(message);
}
