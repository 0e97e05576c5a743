/**
 * The log streams of Azure Container Apps, read as `az containerapp logs show` reads them
 * (azure-cli `containerapp/custom.py`, `stream_containerapp_logs`): a GET with the app's
 * `getAuthtoken` token as bearer and `follow`, `output`, `tailLines`; one line per log line. A
 * replica container's console comes as text (`<time> stdout F <line>` from the container runtime,
 * after two lines of the stream's own); the app's system events as one JSON object a line.
 *
 * Read with axios, like the smoke checks: HTTPS_PROXY / NO_PROXY and NODE_EXTRA_CA_CERTS apply.
 */
import { createInterface } from "node:readline";
import { addAbortSignal, type Readable } from "node:stream";
import axios from "axios";
import type { ConsoleLine, SystemEvent } from "../core/diagnostics/types.ts";

const USER_AGENT = "aca-blue-green-diagnostics";

/** A log line is short; a stream that sends more than this is cut rather than held. */
const MAX_STREAM_BYTES = 4 * 1024 * 1024;
/** Of a stream that refuses, this much of its answer says why. */
const MAX_ERROR_CHARS = 300;

export interface StreamRead {
  url: string;
  token: string;
  /** `tailLines`: the last this many lines. */
  lines: number;
  signal: AbortSignal;
}

/**
 * The stream's lines as it sends them, once it has sent its tail and ended (`follow=false`).
 * Rejects with what the stream answered when it is not 200, or with the signal's reason.
 */
export async function readStream(read: StreamRead): Promise<string[]> {
  const url = new URL(read.url);
  url.searchParams.set("follow", "false");
  url.searchParams.set("output", "text");
  url.searchParams.set("tailLines", String(read.lines));
  const response = await axios.request<Readable>({
    url: url.toString(),
    method: "GET",
    headers: { Authorization: `Bearer ${read.token}`, "User-Agent": USER_AGENT },
    responseType: "stream",
    validateStatus: () => true,
    maxRedirects: 0,
    signal: read.signal,
  });
  const body = addAbortSignal(read.signal, response.data);
  if (response.status !== 200) {
    const text = (await readLines(body)).join(" ").slice(0, MAX_ERROR_CHARS);
    throw new Error(
      `the log stream ${url.host}${url.pathname} answered ${response.status}${text ? `: ${text}` : ""}`,
    );
  }
  return readLines(body);
}

async function readLines(stream: Readable): Promise<string[]> {
  const lines: string[] = [];
  let bytes = 0;
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    bytes += Buffer.byteLength(line) + 1;
    if (bytes > MAX_STREAM_BYTES) {
      stream.destroy();
      break;
    }
    lines.push(line);
  }
  return lines;
}

/**
 * The URL of a replica container's console, as the CLI makes it when the replica does not carry
 * one: the host of the app's `eventStreamEndpoint` and the container's path.
 */
export function consoleStreamUrl(
  eventStreamEndpoint: string,
  path: {
    subscriptionId: string;
    resourceGroup: string;
    app: string;
    revision: string;
    replica: string;
    container: string;
  },
): string {
  const index = eventStreamEndpoint.indexOf("/subscriptions/");
  if (index < 0)
    throw new Error(
      `the app's event stream endpoint "${eventStreamEndpoint}" has no /subscriptions/ path`,
    );
  const base = eventStreamEndpoint.slice(0, index);
  const part = encodeURIComponent;
  return `${base}/subscriptions/${part(path.subscriptionId)}/resourceGroups/${part(path.resourceGroup)}/containerApps/${part(path.app)}/revisions/${part(path.revision)}/replicas/${part(path.replica)}/containers/${part(path.container)}/logstream`;
}

const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) (.*)$/;
const RUNTIME_PREFIX = /^ ?(stdout|stderr) [FP] (.*)$/;

/**
 * One line of a console stream; undefined for the stream's own lines ("Connecting to the
 * container …", "Successfully Connected to container: …").
 */
export function parseConsoleLine(raw: string): ConsoleLine | undefined {
  const stamped = TIMESTAMP.exec(raw);
  const rest = stamped ? stamped[2] : raw;
  const bare = rest.trim();
  if (
    bare === "Connecting..." ||
    bare.startsWith("Connecting to the container '") ||
    bare.startsWith("Successfully Connected to container:")
  ) {
    return undefined;
  }
  const runtime = RUNTIME_PREFIX.exec(rest);
  const time = stamped ? isoTime(stamped[1]) : undefined;
  return {
    ...(time && { time }),
    ...(runtime && { stream: runtime[1] as "stdout" | "stderr" }),
    text: runtime ? runtime[2] : rest,
  };
}

/** Reasons of the event stream's own first lines, which say nothing about the app. */
const STREAM_REASONS = new Set(["StartingGettingEvents", "ConnectedToEventsServer"]);

/** One line of an event stream; undefined for the stream's own lines and for blank ones. */
export function parseSystemEvent(raw: string): SystemEvent | undefined {
  const line = raw.trim();
  if (line === "") return undefined;
  let event: Record<string, unknown>;
  try {
    const parsed = JSON.parse(line) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return { message: line };
    }
    event = parsed as Record<string, unknown>;
  } catch {
    return { message: line };
  }
  const text = (name: string) =>
    typeof event[name] === "string" ? (event[name] as string) : undefined;
  const reason = text("Reason");
  if (reason && STREAM_REASONS.has(reason)) return undefined;
  const time = text("TimeStamp");
  const iso = time ? isoTime(time) : undefined;
  const revision = text("RevisionName");
  const replica = text("ReplicaName");
  const type = text("Type");
  const count = typeof event.Count === "number" ? event.Count : undefined;
  return {
    ...(iso && { time: iso }),
    ...(type && { type }),
    ...(reason && { reason }),
    message: text("Msg") ?? text("Log") ?? line,
    ...(revision && { revision }),
    ...(replica && { replica }),
    ...(count !== undefined && { count }),
  };
}

/**
 * ISO 8601 from the stream's timestamps: RFC 3339 with up to nine fractional digits, or Go's
 * `2023-10-06 21:41:33 +0000 UTC`. Undefined when it is neither.
 */
function isoTime(text: string): string | undefined {
  const go = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?) ([+-]\d\d)(\d\d)(?: \w+)?$/.exec(text);
  const candidate = go ? `${go[1]}T${go[2]}${go[3]}:${go[4]}` : text;
  // Without a zone, a time would be read as this machine's local time: it is not a time then.
  if (!/(Z|[+-]\d\d:?\d\d)$/.test(candidate)) return undefined;
  const time = Date.parse(candidate);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}
