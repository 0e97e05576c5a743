/**
 * Collects what a failed candidate says about itself — its state, its replicas, the last lines
 * its containers printed, the platform's events about it — within one deadline. Every part is
 * read at once and on its own: a part that fails or is not read in time becomes a warning, and
 * the others are kept. Never throws.
 *
 * The live streams come first. Log Analytics, when the environment sends its logs there, fills
 * in what they could not give: the lines of a container whose stream had none (a crashed one, a
 * replica already gone) and the events when the event stream had none. Its records arrive
 * minutes late: when no stream gave a line and it holds none yet, it is asked again until it has
 * some or the deadline is near; what it held, and until when, is said too.
 */
import type { Clock } from "../clock.ts";
import { errorMessage } from "../failure.ts";
import type { ContainerAppsPort, DiagnosticsPort } from "../ports.ts";
import { formatDuration } from "../report/format.ts";
import type { LoggedLines } from "../ports.ts";
import type {
  CandidateDiagnostics,
  ConsoleTail,
  FailedRequest,
  LogAnalyticsRead,
  ReplicaState,
  RevisionSnapshot,
  SystemEvent,
} from "./types.ts";

/** A revision scaled out far is read from its first replicas: enough to say why. */
const MAX_REPLICAS = 3;
/** How often Log Analytics is asked again while it holds none of the revision's lines. */
export const LOG_ANALYTICS_POLL_MS = 5_000;
/** Containers with no live stream (replicas gone) shown from Log Analytics at most. */
const MAX_LOGGED_TAILS = 6;
/** Logs of a revision whose creation time is unknown are read this far back. */
const UNKNOWN_CREATION_LOOKBACK_MS = 60 * 60_000;
/** Clocks differ: the logs are read from a minute before the revision was created. */
const CLOCK_MARGIN_MS = 60_000;
/** A line longer than this is cut: one minified stack trace must not fill the summary. */
export const MAX_LINE_CHARS = 2_000;
/**
 * The diagnostics stay well under what a job summary (1 MiB) and an output (1 MB) take, so that
 * a chatty candidate cannot cost the run its summary.
 */
export const MAX_DIAGNOSTICS_CHARS = 256_000;

export interface CollectDeps {
  apps: Pick<ContainerAppsPort, "getRevision">;
  diagnostics?: DiagnosticsPort;
  clock: Clock;
  /** The run's cancellation: a cancelled run stops collecting at once. */
  signal?: AbortSignal;
}

export interface CollectRequest {
  revision: string;
  /** How many console lines per container, and system events, to read; 0 reads no stream. */
  lines: number;
  /** How long collecting may take in all. */
  deadlineMs: number;
  errorCode?: string;
  failedRequest?: FailedRequest;
  /** The app's managed environment, when the run knows it: where its logs are kept. */
  environmentId?: string;
}

export async function collectDiagnostics(
  deps: CollectDeps,
  request: CollectRequest,
): Promise<CandidateDiagnostics> {
  const { apps, diagnostics, clock } = deps;
  const { revision, lines } = request;
  const started = clock.now();
  const deadline = started + request.deadlineMs;
  // What is read is real I/O, a stream that may hang: its deadline is a real timer, not a wait.
  const expired = AbortSignal.timeout(Math.max(1, request.deadlineMs));
  const signal = deps.signal ? AbortSignal.any([expired, deps.signal]) : expired;
  const left = () => Math.max(0, deadline - clock.now());
  const warnings: string[] = [];

  /** One part, bounded by the deadline even when it ignores its signal. */
  const part = async <T>(what: string, read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await untilAborted(read(), signal);
    } catch (error) {
      warnings.push(`${what}: ${whyNot(error, expired, request.deadlineMs)}`);
      return undefined;
    }
  };

  const read = part(`Could not read the state of ${revision}`, () =>
    apps.getRevision(revision, { signal, retryForMs: left() }),
  );
  const state = read.then((found) => found && snapshotOf(found));
  const replicasAndConsole = diagnostics
    ? part(`Could not list the replicas of ${revision}`, () =>
        diagnostics.listReplicas(revision, { signal, retryForMs: left() }),
      ).then(async (replicas) => ({
        replicas,
        console:
          replicas && lines > 0
            ? await readConsoles(replicas.slice(0, MAX_REPLICAS), (target, what) =>
                part(what, () =>
                  diagnostics.readConsole({ revision, ...target }, { lines, signal }),
                ),
              )
            : [],
      }))
    : Promise.resolve({ replicas: undefined, console: [] as ConsoleTail[] });
  const events =
    diagnostics && lines > 0
      ? part(`Could not read the system events of ${revision}`, () =>
          diagnostics.readSystemEvents({ lines: Math.max(lines, 100), signal }),
        )
      : Promise.resolve(undefined);

  const from = read.then((found) => {
    const created = found?.createdTime ? Date.parse(found.createdTime) : Number.NaN;
    return Number.isFinite(created)
      ? created - CLOCK_MARGIN_MS
      : started - UNKNOWN_CREATION_LOOKBACK_MS;
  });
  const askLogs =
    diagnostics && lines > 0
      ? async () =>
          diagnostics.readLogAnalytics(
            {
              revision,
              from: await from,
              to: clock.now(),
              lines,
              ...(request.environmentId && { environmentId: request.environmentId }),
            },
            { signal },
          )
      : undefined;
  const logged: Promise<LoggedLines | undefined> = askLogs
    ? part(`Could not read the logs of ${revision} in Log Analytics`, askLogs)
    : Promise.resolve(undefined);

  const [snapshot, { replicas, console: live }, allEvents, firstLogs] = await Promise.all([
    state,
    replicasAndConsole,
    events,
    logged,
  ]);
  const queriedAt = clock.now();
  const waitForLogs = askLogs && firstLogs?.kept && !printed(live) && !printed(firstLogs.console);
  const inLogs = waitForLogs
    ? await untilPrinted(firstLogs, askLogs, { clock, left, signal })
    : firstLogs;
  const waitedMs = waitForLogs ? clock.now() - queriedAt : 0;
  const fromLogs = inLogs?.kept ? inLogs : undefined;
  const console = withLoggedTails(live, fromLogs?.console ?? []);
  const streamEvents = eventsOf(allEvents ?? [], revision);
  const loggedEvents = eventsOf(fromLogs?.systemEvents ?? [], revision);
  const eventsFromLogs = streamEvents.length === 0 && loggedEvents.length > 0;
  return withinSize({
    revision,
    ...(request.errorCode ? { errorCode: request.errorCode } : {}),
    collectedAt: new Date(started).toISOString(),
    durationMs: clock.now() - started,
    ...(snapshot ? { state: snapshot } : {}),
    ...(replicas ? { replicas: replicas.map(withoutEndpoints) } : {}),
    console: console.map((tail) => ({
      ...tail,
      lines: tail.lines.slice(-lines).map((line) => ({ ...line, text: cut(line.text) })),
    })),
    systemEvents: (eventsFromLogs ? loggedEvents : streamEvents)
      .slice(-lines)
      .map((event) => ({ ...event, message: cut(event.message) })),
    ...(eventsFromLogs && { systemEventsSource: "log-analytics" as const }),
    ...(inLogs && { logAnalytics: logAnalyticsRead(inLogs, loggedEvents.length, waitedMs) }),
    ...(request.failedRequest ? { failedRequest: request.failedRequest } : {}),
    warnings,
  });
}

/**
 * The diagnostics cut to MAX_DIAGNOSTICS_CHARS: the oldest half of the longest list of lines goes
 * first, again until they fit, and a warning says so.
 */
export function withinSize(diagnostics: CandidateDiagnostics): CandidateDiagnostics {
  let fitted = diagnostics;
  let cut = false;
  while (JSON.stringify(fitted).length > MAX_DIAGNOSTICS_CHARS) {
    const lists = [
      ...fitted.console.map((tail, index) => ({ index, size: tail.lines.length })),
      { index: -1, size: fitted.systemEvents.length },
    ].sort((a, b) => b.size - a.size);
    const longest = lists[0];
    if (longest.size <= 1) break;
    cut = true;
    const keep = (list: readonly unknown[]) => Math.floor(list.length / 2);
    fitted =
      longest.index === -1
        ? { ...fitted, systemEvents: fitted.systemEvents.slice(-keep(fitted.systemEvents)) }
        : {
            ...fitted,
            console: fitted.console.map((tail, index) =>
              index === longest.index
                ? { ...tail, lines: tail.lines.slice(-keep(tail.lines)) }
                : tail,
            ),
          };
  }
  if (!cut) return fitted;
  return {
    ...fitted,
    warnings: [
      ...fitted.warnings,
      "The oldest lines were left out to keep the summary and the output within their size limits.",
    ],
  };
}

async function readConsoles(
  replicas: ReplicaState[],
  read: (
    target: { replica: string; container: string; logStreamEndpoint?: string },
    what: string,
  ) => Promise<ConsoleTail["lines"] | undefined>,
): Promise<ConsoleTail[]> {
  const targets = replicas.flatMap((replica) =>
    replica.containers.map((container) => ({
      replica: replica.name,
      container: container.name,
      ...(container.logStreamEndpoint ? { logStreamEndpoint: container.logStreamEndpoint } : {}),
    })),
  );
  const tails = await Promise.all(
    targets.map(async (target) => {
      const lines = await read(
        target,
        `Could not read the console output of ${target.container} in replica ${target.replica}`,
      );
      return lines ? { replica: target.replica, container: target.container, lines } : undefined;
    }),
  );
  return tails.filter((tail): tail is ConsoleTail => tail !== undefined);
}

/**
 * The live tails, where one that had no line is replaced by the same container's lines in Log
 * Analytics; then the containers Log Analytics has lines of and no stream was read for (replicas
 * no longer listed), the latest first.
 */
function withLoggedTails(live: ConsoleTail[], logged: ConsoleTail[]): ConsoleTail[] {
  const key = (tail: ConsoleTail) => `${tail.replica}\n${tail.container}`;
  const byKey = new Map(logged.filter((tail) => tail.lines.length > 0).map((t) => [key(t), t]));
  const merged = live.map((tail) =>
    tail.lines.length === 0 ? (byKey.get(key(tail)) ?? tail) : tail,
  );
  const shown = new Set(live.map(key));
  const lastTime = (tail: ConsoleTail) => tail.lines.at(-1)?.time ?? "";
  const others = [...byKey.values()]
    .filter((tail) => !shown.has(key(tail)))
    .sort((a, b) => lastTime(b).localeCompare(lastTime(a)))
    .slice(0, MAX_LOGGED_TAILS);
  return [...merged, ...others];
}

/** What Log Analytics held of the revision: how many lines and events, and until when. */
function logAnalyticsRead(
  logged: LoggedLines,
  systemEvents: number,
  waitedMs: number,
): LogAnalyticsRead {
  if (!logged.kept) return { why: logged.why, consoleLines: 0, systemEvents: 0 };
  return {
    where: logged.where,
    consoleLines: logged.console.reduce((sum, tail) => sum + tail.lines.length, 0),
    systemEvents,
    ...(logged.latest !== undefined && { latest: new Date(logged.latest).toISOString() }),
    ...(waitedMs > 0 && { waitedMs }),
  };
}

function printed(tails: readonly ConsoleTail[]): boolean {
  return tails.some((tail) => tail.lines.length > 0);
}

/**
 * Log Analytics asked again every LOG_ANALYTICS_POLL_MS while it holds no line of the revision,
 * as long as another answer fits before the deadline: its records arrive minutes late, and when
 * no stream gave a line it is the only place left to read them. A query that fails, or a
 * cancelled run, ends the wait with what was read before.
 */
async function untilPrinted(
  first: LoggedLines,
  ask: () => Promise<LoggedLines>,
  { clock, left, signal }: { clock: Clock; left: () => number; signal: AbortSignal },
): Promise<LoggedLines> {
  let last = first;
  try {
    while (left() > 2 * LOG_ANALYTICS_POLL_MS) {
      await clock.sleep(LOG_ANALYTICS_POLL_MS, signal);
      last = await untilAborted(ask(), signal);
      if (!last.kept || printed(last.console)) break;
    }
  } catch {
    // What was read before stands; the first query's failure would have been its warning.
  }
  return last;
}

/**
 * The events about this revision. The app's stream carries every revision's, and events of the
 * app as a whole name no revision; those that name this one in their text are kept too.
 */
function eventsOf(events: SystemEvent[], revision: string): SystemEvent[] {
  return events.filter((event) =>
    event.revision ? event.revision === revision : event.message.includes(revision),
  );
}

function snapshotOf(revision: RevisionSnapshot): RevisionSnapshot {
  return {
    active: revision.active,
    provisioningState: revision.provisioningState,
    runningState: revision.runningState,
    healthState: revision.healthState,
    ...(revision.provisioningError ? { provisioningError: revision.provisioningError } : {}),
    ...(revision.runningStateDetails ? { runningStateDetails: revision.runningStateDetails } : {}),
    ...(revision.replicas !== undefined ? { replicas: revision.replicas } : {}),
  };
}

/** Where a replica streams from is for reading it, not for the report. */
function withoutEndpoints(replica: ReplicaState): ReplicaState {
  return {
    ...replica,
    containers: replica.containers.map(
      ({ logStreamEndpoint: _endpoint, ...container }) => container,
    ),
  };
}

function cut(text: string): string {
  return text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS)}…` : text;
}

/** Settles with `work`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error as Error);
      },
    );
  });
}

function whyNot(error: unknown, expired: AbortSignal, deadlineMs: number): string {
  if (expired.aborted)
    return `no answer within the diagnostics deadline (${formatDuration(deadlineMs)})`;
  return errorMessage(error);
}
