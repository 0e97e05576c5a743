/**
 * What each revision prints and what the platform says about it, as Azure Container Apps serves
 * both: a journal of every console line (the revision processes' real stdout and stderr) and every
 * system event (provisioning, replicas, crashes, deactivation), with timestamps; the auth token of
 * `getAuthtoken`; and the log stream server behind a replica container's `logStreamEndpoint` and
 * an app's `eventStreamEndpoint` (what `az containerapp logs show --type console|system` reads).
 *
 * The same journal is where the Log Analytics stand-in (loganalytics.ts) reads the rows of
 * `ContainerAppConsoleLogs(_CL)` and `ContainerAppSystemLogs(_CL)` from (`consoleWhere()`,
 * `systemEventsWhere()`).
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError, sendError } from "./http.ts";
import { findRevision, type ContainerApp, type ResourceStore } from "./store.ts";
import type { LogStreamFault, LogStreamJournalEntry } from "./types.ts";

export type ConsoleStream = "stdout" | "stderr";

/** One line a revision's container printed. */
export interface ConsoleEntry {
  /** Milliseconds since the epoch. */
  time: number;
  /** ARM id of the app. */
  appId: string;
  app: string;
  /** ARM id of the app's managed environment, lower-case. */
  environmentId: string;
  environment: string;
  revision: string;
  replica: string;
  container: string;
  image: string;
  stream: ConsoleStream;
  text: string;
}

/** One event the platform reports about an app, as its event stream and system logs carry it. */
export interface SystemEventEntry {
  time: number;
  appId: string;
  app: string;
  environmentId: string;
  environment: string;
  revision?: string;
  replica?: string;
  type: "Normal" | "Warning";
  reason: string;
  message: string;
  count: number;
}

/** What the revision lifecycle records: console lines, events, and replicas that stop. */
export interface LifecycleLogs {
  console(
    app: ContainerApp,
    entry: Omit<ConsoleEntry, "time" | "appId" | "app" | "environmentId" | "environment">,
  ): void;
  event(
    app: ContainerApp,
    entry: Omit<
      SystemEventEntry,
      "time" | "appId" | "app" | "environmentId" | "environment" | "count"
    > & {
      count?: number;
    },
  ): void;
  /** The replica's containers stopped: streams that follow it end. */
  replicaStopped(app: ContainerApp, revision: string, replica: string): void;
}

/** Where ARM says the streams are, and the token that opens them. */
export interface LogStreamEndpoints {
  /** The app's `eventStreamEndpoint`. */
  eventStreamEndpoint(app: ContainerApp): string;
  /** A replica container's `logStreamEndpoint`. */
  logStreamEndpoint(
    app: ContainerApp,
    revision: string,
    replica: string,
    container: string,
  ): string;
  /** The answer of `getAuthtoken`: a token for this app's streams and when it expires. */
  issueToken(app: ContainerApp): { token: string; expires: string };
}

/** A journal keeps the most recent entries of a long rehearsal rather than growing without bound. */
const maxEntries = 20_000;
/** What `tailLines` defaults to (the CLI's `--tail` default) and its ceiling (the API's, as reported). */
const defaultTailLines = 20;
const maxTailLines = 300;
/** How long a token of `getAuthtoken` opens the streams. */
const tokenLifetimeMs = 60 * 60_000;

type Change =
  | { kind: "console"; entry: ConsoleEntry }
  | { kind: "event"; entry: SystemEventEntry }
  | { kind: "replica-stopped"; appId: string; revision: string; replica: string };

export interface LogStreamsOptions {
  /** https://127.0.0.1:PORT of the log stream server. */
  base: string;
  store: ResourceStore;
}

export class LogStreams implements LifecycleLogs, LogStreamEndpoints {
  readonly #base: string;
  readonly #store: ResourceStore;
  #console: ConsoleEntry[] = [];
  #events: SystemEventEntry[] = [];
  #requests: LogStreamJournalEntry[] = [];
  #faults: { fault: LogStreamFault; remaining: number }[] = [];
  readonly #tokens = new Map<string, { appId: string; expires: number }>();
  readonly #listeners = new Set<(change: Change) => void>();

  constructor(options: LogStreamsOptions) {
    this.#base = options.base;
    this.#store = options.store;
  }

  get base(): string {
    return this.#base;
  }

  // What the revisions print and the platform reports

  console(
    app: ContainerApp,
    entry: Omit<ConsoleEntry, "time" | "appId" | "app" | "environmentId" | "environment">,
  ): void {
    const recorded: ConsoleEntry = { time: Date.now(), ...identity(app), ...entry };
    append(this.#console, recorded);
    this.#notify({ kind: "console", entry: recorded });
  }

  event(
    app: ContainerApp,
    entry: Omit<
      SystemEventEntry,
      "time" | "appId" | "app" | "environmentId" | "environment" | "count"
    > & {
      count?: number;
    },
  ): void {
    const recorded: SystemEventEntry = {
      time: Date.now(),
      ...identity(app),
      ...entry,
      count: entry.count ?? 1,
    };
    append(this.#events, recorded);
    this.#notify({ kind: "event", entry: recorded });
  }

  replicaStopped(app: ContainerApp, revision: string, replica: string): void {
    this.#notify({ kind: "replica-stopped", appId: app.id.toLowerCase(), revision, replica });
  }

  // Endpoints and tokens, for ARM

  eventStreamEndpoint(app: ContainerApp): string {
    return `${this.#base}${appPath(app)}/eventstream`;
  }

  logStreamEndpoint(
    app: ContainerApp,
    revision: string,
    replica: string,
    container: string,
  ): string {
    return `${this.#base}${appPath(app)}/revisions/${revision}/replicas/${replica}/containers/${container}/logstream`;
  }

  issueToken(app: ContainerApp): { token: string; expires: string } {
    const token = randomBytes(32).toString("base64url");
    const expires = Date.now() + tokenLifetimeMs;
    this.#tokens.set(token, { appId: app.id.toLowerCase(), expires });
    return { token, expires: new Date(expires).toISOString() };
  }

  // Journals, for tests and the Log Analytics stand-in

  consoleEntries(): ConsoleEntry[] {
    return structuredClone(this.#console);
  }

  systemEvents(): SystemEventEntry[] {
    return structuredClone(this.#events);
  }

  /** The console lines `keep` selects, oldest first: what a log query reads, without copying all. */
  consoleWhere(keep: (entry: Readonly<ConsoleEntry>) => boolean): ConsoleEntry[] {
    return this.#console.filter(keep).map((entry) => ({ ...entry }));
  }

  /** The system events `keep` selects, oldest first. */
  systemEventsWhere(keep: (entry: Readonly<SystemEventEntry>) => boolean): SystemEventEntry[] {
    return this.#events.filter(keep).map((entry) => ({ ...entry }));
  }

  /** Every request the log stream server answered. */
  requests(): LogStreamJournalEntry[] {
    return structuredClone(this.#requests);
  }

  clearRequests(): void {
    this.#requests = [];
  }

  injectFault(fault: LogStreamFault): void {
    const checked = checkFault(fault);
    this.#faults.push({ fault: checked, remaining: checked.count ?? 1 });
  }

  clearFaults(): void {
    this.#faults = [];
  }

  // The server

  readonly handle = (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? "/", this.#base);
    const time = Date.now();
    const record = (kind: LogStreamJournalEntry["kind"], status: number, fault?: string) =>
      append(this.#requests, { time, kind, path: url.pathname, query: url.search, status, fault });
    const route = parseRoute(url.pathname);
    if (request.method !== "GET" || !route) {
      record("unknown", 404);
      sendError(response, new HttpError(404, "NotFound", `No log stream at ${url.pathname}.`));
      return;
    }
    try {
      const app = this.#store.getApp(route.subscription, route.resourceGroup, route.app);
      this.#authorize(request, app);
      const fault = this.#takeFault(app.name, route.kind);
      if (fault) {
        record(route.kind, fault.kind === "hang" ? 0 : fault.status, fault.kind);
        if (fault.kind === "hang") {
          // Headers, then nothing: the stream stays open until the client gives up.
          response.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
          response.flushHeaders();
          return;
        }
        sendError(
          response,
          new HttpError(fault.status, "InternalServerError", "The log stream failed."),
        );
        return;
      }
      const query = readQuery(url);
      if (route.kind === "console") {
        this.#streamConsole(app, route, query, response);
      } else {
        this.#streamEvents(app, query, response);
      }
      record(route.kind, 200);
    } catch (error) {
      const failure =
        error instanceof HttpError
          ? error
          : new HttpError(500, "InternalServerError", String(error));
      record(route.kind, failure.status);
      sendError(response, failure);
    }
  };

  #authorize(request: IncomingMessage, app: ContainerApp): void {
    const header = request.headers.authorization ?? "";
    const token = /^Bearer (\S+)$/i.exec(header)?.[1];
    const grant = token ? this.#tokens.get(token) : undefined;
    if (!grant || grant.appId !== app.id.toLowerCase() || grant.expires < Date.now()) {
      throw new HttpError(
        401,
        "Unauthorized",
        "The log stream needs `Authorization: Bearer <token>` with a token of this app's getAuthtoken.",
      );
    }
  }

  #streamConsole(
    app: ContainerApp,
    route: ConsoleRoute,
    query: StreamQuery,
    response: ServerResponse,
  ): void {
    const revision = findRevision(app, route.revision);
    // A replica that no longer exists (its revision deactivated) has no container to read.
    if (!revision?.replica || revision.replica.name !== route.replica) {
      throw new HttpError(
        404,
        "ReplicaNotFound",
        `Replica '${route.replica}' of revision '${route.revision}' was not found.`,
      );
    }
    const appId = app.id.toLowerCase();
    const matches = (entry: ConsoleEntry) =>
      entry.appId === appId &&
      entry.revision === route.revision &&
      entry.replica === route.replica &&
      entry.container === route.container;
    const format = (entry: ConsoleEntry) =>
      query.output === "json"
        ? JSON.stringify({ TimeStamp: new Date(entry.time).toISOString(), Log: entry.text })
        : `${nanoTimestamp(entry.time)} ${entry.stream} F ${entry.text}`;
    response.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
    if (query.output !== "json") {
      const now = Date.now();
      response.write(
        `${shortTimestamp(now)}  Connecting to the container '${route.container}'...\n`,
      );
      response.write(
        `${shortTimestamp(now)}  Successfully Connected to container: '${route.container}' [Revision: '${route.revision}', Replica: '${route.replica}']\n`,
      );
    }
    const tail = this.#console.filter(matches).slice(-query.tailLines);
    for (const entry of query.tailLines === 0 ? [] : tail) response.write(`${format(entry)}\n`);
    if (!query.follow) {
      response.end();
      return;
    }
    this.#follow(response, (change) => {
      if (change.kind === "console" && matches(change.entry)) {
        response.write(`${format(change.entry)}\n`);
      }
      return (
        change.kind === "replica-stopped" &&
        change.appId === appId &&
        change.revision === route.revision &&
        change.replica === route.replica
      );
    });
  }

  #streamEvents(app: ContainerApp, query: StreamQuery, response: ServerResponse): void {
    const appId = app.id.toLowerCase();
    response.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
    const now = Date.now();
    for (const [message, reason] of [
      ["Connecting to the events collector...", "StartingGettingEvents"],
      ["Successfully connected to events server", "ConnectedToEventsServer"],
    ]) {
      response.write(
        `${JSON.stringify({
          TimeStamp: isoSeconds(now),
          Type: "Normal",
          ContainerAppName: null,
          RevisionName: null,
          ReplicaName: null,
          Msg: message,
          Reason: reason,
          EventSource: "ContainerAppController",
          Count: 1,
        })}\n`,
      );
    }
    const tail = this.#events.filter((entry) => entry.appId === appId).slice(-query.tailLines);
    for (const entry of query.tailLines === 0 ? [] : tail) response.write(`${eventLine(entry)}\n`);
    if (!query.follow) {
      response.end();
      return;
    }
    this.#follow(response, (change) => {
      if (change.kind === "event" && change.entry.appId === appId) {
        response.write(`${eventLine(change.entry)}\n`);
      }
      return false;
    });
  }

  /** Passes every change to `write` until it says the stream is over or the client goes away. */
  #follow(response: ServerResponse, write: (change: Change) => boolean): void {
    const listener = (change: Change) => {
      if (write(change)) stop();
    };
    const stop = () => {
      this.#listeners.delete(listener);
      if (!response.writableEnded) response.end();
    };
    this.#listeners.add(listener);
    response.once("close", () => this.#listeners.delete(listener));
  }

  #notify(change: Change): void {
    for (const listener of [...this.#listeners]) listener(change);
  }

  #takeFault(app: string, kind: "console" | "system"): LogStreamFault | undefined {
    const pending = this.#faults.find(
      ({ fault }) =>
        fault.app.toLowerCase() === app.toLowerCase() &&
        (fault.stream === undefined || fault.stream === kind),
    );
    if (!pending) return undefined;
    pending.remaining -= 1;
    if (pending.remaining === 0) this.#faults.splice(this.#faults.indexOf(pending), 1);
    return pending.fault;
  }
}

function identity(app: ContainerApp) {
  return {
    appId: app.id.toLowerCase(),
    app: app.name,
    environmentId: app.environmentId.toLowerCase(),
    environment: app.environmentId.split("/").at(-1) ?? "",
  };
}

function appPath(app: ContainerApp): string {
  return `/subscriptions/${app.subscriptionId}/resourceGroups/${app.resourceGroup}/containerApps/${app.name}`;
}

type ConsoleRoute = {
  kind: "console";
  subscription: string;
  resourceGroup: string;
  app: string;
  revision: string;
  replica: string;
  container: string;
};
type Route =
  ConsoleRoute | { kind: "system"; subscription: string; resourceGroup: string; app: string };

const appPattern =
  "^/subscriptions/(?<subscription>[^/]+)/resourceGroups/(?<resourceGroup>[^/]+)/containerApps/(?<app>[^/]+)";

function parseRoute(path: string): Route | undefined {
  const replicaLog = new RegExp(
    `${appPattern}/revisions/(?<revision>[^/]+)/replicas/(?<replica>[^/]+)/containers/(?<container>[^/]+)/logstream$`,
    "i",
  ).exec(path);
  if (replicaLog?.groups) {
    const { subscription, resourceGroup, app, revision, replica, container } = replicaLog.groups;
    return { kind: "console", subscription, resourceGroup, app, revision, replica, container };
  }
  const events = new RegExp(`${appPattern}/eventstream$`, "i").exec(path);
  if (events?.groups) {
    const { subscription, resourceGroup, app } = events.groups;
    return { kind: "system", subscription, resourceGroup, app };
  }
  return undefined;
}

interface StreamQuery {
  follow: boolean;
  output: "text" | "json";
  tailLines: number;
}

/** `follow`, `output` and `tailLines`, as `az containerapp logs show` sends them. */
function readQuery(url: URL): StreamQuery {
  const tail = Number(url.searchParams.get("tailLines") ?? defaultTailLines);
  return {
    follow: url.searchParams.get("follow")?.toLowerCase() === "true",
    output: url.searchParams.get("output")?.toLowerCase() === "json" ? "json" : "text",
    tailLines:
      Number.isInteger(tail) && tail >= 0 ? Math.min(tail, maxTailLines) : defaultTailLines,
  };
}

/** An event as the event stream writes it: `TimeStamp` in Go's time format, names or null. */
function eventLine(entry: SystemEventEntry): string {
  return JSON.stringify({
    TimeStamp: goTimestamp(entry.time),
    Type: entry.type,
    ContainerAppName: entry.app,
    RevisionName: entry.revision ?? null,
    ReplicaName: entry.replica ?? null,
    Msg: entry.message,
    Reason: entry.reason,
    EventSource: "ContainerAppController",
    Count: entry.count,
  });
}

/** `2024-05-16T21:53:35.511000000Z`: the container runtime's nanosecond timestamps. */
function nanoTimestamp(time: number): string {
  return new Date(time).toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");
}

/** `2024-05-16T21:54:37.25192`: the stream's own lines carry no zone. */
function shortTimestamp(time: number): string {
  return new Date(time).toISOString().replace(/Z$/, "");
}

/** `2023-10-06T22:14:01Z`. */
function isoSeconds(time: number): string {
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** `2023-10-06 21:41:33 +0000 UTC`. */
function goTimestamp(time: number): string {
  return `${new Date(time)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d{3}Z$/, "")} +0000 UTC`;
}

function append<T>(entries: T[], entry: T): void {
  entries.push(entry);
  if (entries.length > maxEntries) entries.splice(0, entries.length - maxEntries);
}

function checkFault(value: unknown): LogStreamFault {
  const fault = value as Partial<LogStreamFault> | undefined;
  const invalid = (detail: string) =>
    new HttpError(400, "InvalidFault", `Invalid log stream fault: ${detail}.`);
  if (!fault || typeof fault.app !== "string" || fault.app === "")
    throw invalid("`app` is required");
  if (fault.kind !== "hang" && fault.kind !== "status") {
    throw invalid('`kind` must be "hang" or "status"');
  }
  if (fault.kind === "status" && fault.status !== 500 && fault.status !== 503) {
    throw invalid("`status` must be 500 or 503");
  }
  if (fault.stream !== undefined && fault.stream !== "console" && fault.stream !== "system") {
    throw invalid('`stream` must be "console" or "system"');
  }
  if (fault.count !== undefined && (!Number.isInteger(fault.count) || fault.count < 1)) {
    throw invalid("`count` must be a whole number of 1 or more");
  }
  return fault as LogStreamFault;
}
