/**
 * What one benchmark run shows, from three records of it: the emulator's ARM journal, the Action's
 * own log of its requests and lines (hook.ts), and the emulator's state as it changed (observe.ts).
 * Pure: no I/O, so every rule here is tested with plain values.
 */
import type { ArmJournalEntry } from "../../emulator/types.ts";
import { readsReady, type AppChange } from "./observe.ts";

export interface RequestLine {
  type: "request";
  method: string;
  host: string;
  path: string;
  start: number;
  end: number;
  status: number;
}

export interface OutputLine {
  type: "line";
  text: string;
  time: number;
}

export type HookLine = RequestLine | OutputLine;

/** What a run did and what the benchmark knew about it. */
export interface RunRecord {
  spawnAt: number;
  exitAt: number;
  journal: ArmJournalEntry[];
  hook: HookLine[];
  changes: AppChange[];
  /** host:port of ARM and of Entra ID (the OIDC issuers share its server). */
  armHost: string;
  identityHost: string;
  /** The revision the run gives traffic to, and what made it start: its write or an activation. */
  revision: string;
  /** Whether the run's first tags write is its lease (an operator verb) rather than an extra. */
  leaseWrite: boolean;
  /** Baked time the run was asked for (steps × step-wait), part of the floor. */
  bakeMs: number;
  /** Failure scenario: when the candidate started failing. */
  failureAt?: number;
  peakRssMb: number;
}

export type WriteKind = "template" | "traffic" | "tags";

export interface RunFigures {
  wallMs: number;
  floorMs: number;
  overheadMs: number;
  /** Long-running writes (PATCH and PUT), by kind in order. */
  writes: WriteKind[];
  /** Writes outside the floor: neither the candidate, a step, a restore nor an operator's lease. */
  extraWrites: number;
  /** Every ARM call, by kind. */
  calls: Record<string, number>;
  /** ARM reads (GET) by phase and kind. */
  readsByPhase: Record<string, Record<string, number>>;
  /** Reads whose answer the run already held (see `findDuplicates`). */
  duplicates: string[];
  /** How long after an operation ended the Action's status poll saw it, per write. */
  operationLagMs: number[];
  /** How long after the revision was ready the Action's read saw it. */
  readinessLagMs: number[];
  /** The polling lag that is overhead: the part of those lags outside the floor. */
  lagMs: number;
  tokenRequests: number;
  /** ARM calls that are neither polls nor operation results, calls in parallel counted once. */
  roundTrips: number;
  /** The passing smoke round's requests (part of the floor). */
  checkMs: number;
  /** Overhead less the polling lag: start, sign-in, reads, our own work. */
  ownMs: number;
  peakRssMb: number;
  failure?: {
    detectedMs: number;
    restoreWriteMs: number;
    restoredMs: number;
    restoreOperationMs: number;
    /** ARM round trips from the failed check to the restore's write, that write included. */
    restoreRoundTrips: number;
  };
}

/** The kind of an ARM call, from its method and path. */
export function callKind(method: string, path: string): string {
  if (/\/metadata\/endpoints$/i.test(path)) return "GET cloud metadata";
  if (/OperationStatuses\//i.test(path)) return "GET operation status";
  if (/OperationResults\//i.test(path)) return "GET operation result";
  const post = /\/revisions\/[^/]+\/(activate|deactivate|restart)$/i.exec(path);
  if (post) return `POST ${post[1].toLowerCase()}`;
  if (/\/revisions\/[^/]+\/replicas/i.test(path)) return `${method} replicas`;
  if (/\/revisions\/[^/]+$/i.test(path)) return `${method} revision`;
  if (/\/revisions$/i.test(path)) return `${method} revision list`;
  if (/\/containerApps\/[^/]+$/i.test(path)) return `${method} app`;
  if (/\/managedEnvironments\/[^/]+$/i.test(path)) return `${method} environment`;
  return `${method} other`;
}

/** What a long-running write changes, from its body: a template, the traffic, or only tags. */
export function writeKind(body: unknown): WriteKind {
  const properties = (body as { properties?: Record<string, unknown> } | undefined)?.properties;
  if (properties?.template) return "template";
  const configuration = properties?.configuration as
    { ingress?: { traffic?: unknown } } | undefined;
  return configuration?.ingress?.traffic ? "traffic" : "tags";
}

const isWrite = (method: string) => method === "PATCH" || method === "PUT";

/** Total length of the union of intervals. */
export function unionLength(intervals: [number, number][]): number {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let current: [number, number] | undefined;
  for (const [a, b] of sorted) {
    if (!current || a > current[1]) {
      if (current) total += current[1] - current[0];
      current = [a, b];
    } else current[1] = Math.max(current[1], b);
  }
  if (current) total += current[1] - current[0];
  return total;
}

/** When the operation of the write answered at `at` ended, as the emulator's state showed. */
export function operationEnd(changes: AppChange[], at: number): number | undefined {
  return changes.find((c) => c.time > at && c.provisioningState !== "InProgress")?.time;
}

/** When `revision` first read ready after `at`. */
export function readyAt(changes: AppChange[], revision: string, at: number): number | undefined {
  return changes.find((c) => c.time > at && readsReady(c.revisions[revision]))?.time;
}

/** The phase (log group) open at `time`: "start" before the first, "between phases" outside one. */
export function phaseAt(lines: OutputLine[], time: number): string {
  let phase = "start";
  for (const line of lines) {
    if (line.time > time) break;
    const open = /^::group::(.*)$/.exec(line.text);
    if (open) phase = open[1].trim();
    else if (line.text.startsWith("::endgroup::")) phase = "between phases";
  }
  return phase;
}

/** Phases in which the revision is read again and again until ready: those reads are polls. */
const WAITING_PHASES = new Set(["Readiness", "Activate"]);

/** Tolerance of the state samples (observe.ts samples every 5 ms). */
const SAMPLE_MS = 5;

export function analyzeRun(run: RunRecord): RunFigures {
  const requests = run.hook.filter((l): l is RequestLine => l.type === "request");
  const lines = run.hook.filter((l): l is OutputLine => l.type === "line");
  const arm = requests.filter((r) => r.host === run.armHost);
  const checks = requests.filter((r) => r.host !== run.armHost && r.host !== run.identityHost);
  const journalWrites = run.journal.filter((e) => isWrite(e.method));
  const writes = journalWrites.map((e) => writeKind(e.body));

  const calls: Record<string, number> = {};
  for (const entry of run.journal) {
    const kind = callKind(entry.method, entry.path);
    calls[kind] = (calls[kind] ?? 0) + 1;
  }

  // The floor: what Azure must do (the writes' operations, the revision getting ready), the
  // passing smoke round, and the bakes asked for.
  let leaseSeen = false;
  const floorWrites = journalWrites.filter((_, i) => {
    if (writes[i] !== "tags") return true;
    if (run.leaseWrite && !leaseSeen) return (leaseSeen = true);
    return false;
  });
  const intervals: [number, number][] = [];
  // Each lag runs from when Azure was done to when the Action saw it.
  const operationLags: [number, number][] = [];
  const polls = arm.filter((r) => callKind(r.method, r.path) === "GET operation status");
  for (const entry of journalWrites) {
    const end = operationEnd(run.changes, entry.time);
    if (end === undefined) continue;
    if (floorWrites.includes(entry)) intervals.push([entry.time, end]);
    const seen = polls.find((p) => p.start >= end - SAMPLE_MS);
    if (seen) operationLags.push([end, Math.max(end, seen.end)]);
  }
  const trigger = run.journal.find(
    (e) =>
      (isWrite(e.method) && writeKind(e.body) === "template") ||
      (e.method === "POST" && e.path.endsWith(`/revisions/${run.revision}/activate`)),
  );
  const readinessLags: [number, number][] = [];
  if (trigger) {
    const ready = readyAt(run.changes, run.revision, trigger.time);
    if (ready !== undefined) {
      intervals.push([trigger.time, ready]);
      const seen = arm.find(
        (r) => r.path.endsWith(`/revisions/${run.revision}`) && r.start >= ready - SAMPLE_MS,
      );
      if (seen) readinessLags.push([ready, Math.max(ready, seen.end)]);
    }
  }
  const smoke = checks.filter((r) => phaseAt(lines, r.start) === "Smoke checks").at(-1);
  const checkMs = smoke ? smoke.end - smoke.start : 0;
  if (smoke) intervals.push([smoke.start, smoke.end]);

  let failure: RunFigures["failure"];
  let failureFloorMs = 0;
  if (run.failureAt !== undefined) {
    const at = run.failureAt;
    const restore = journalWrites.find((e) => e.time > at && writeKind(e.body) === "traffic");
    const detected = checks.find((r) => r.start >= at && r.status >= 400);
    const restoredAt = restore ? operationEnd(run.changes, restore.time) : undefined;
    if (restore && restoredAt !== undefined) {
      failure = {
        detectedMs: detected ? detected.end - at : Number.NaN,
        restoreWriteMs: restore.time - at,
        restoredMs: restoredAt - at,
        restoreOperationMs: restoredAt - restore.time,
        restoreRoundTrips: roundTrips(
          arm.filter((r) => r.start >= (detected?.end ?? at) && r.start <= restore.time),
          lines,
        ),
      };
    }
    // The bake that was under way when the failure came is part of the floor up to that moment.
    const bakeStart = lines
      .filter((l) => l.time <= at && /^\[\d+\/\d+\] .*checks pending/.test(l.text))
      .at(-1);
    if (bakeStart) failureFloorMs = Math.max(0, at - bakeStart.time);
  }

  const wallMs = run.exitAt - run.spawnAt;
  const floorMs = unionLength(intervals) + run.bakeMs + failureFloorMs;
  const overheadMs = wallMs - floorMs;
  // Lag hidden behind other work of Azure's (a write's end noticed while the revision still
  // provisions) costs nothing: only the lag outside the floor is overhead.
  const lagMs = [...operationLags, ...readinessLags].reduce(
    (sum, lag) => sum + unionLength([...intervals, lag]) - unionLength(intervals),
    0,
  );

  return {
    wallMs,
    floorMs,
    overheadMs,
    writes,
    extraWrites: journalWrites.length - floorWrites.length,
    calls,
    readsByPhase: readsByPhase(arm, lines),
    duplicates: findDuplicates(arm, checks, lines, run.changes),
    operationLagMs: operationLags.map(([a, b]) => b - a),
    readinessLagMs: readinessLags.map(([a, b]) => b - a),
    lagMs,
    tokenRequests: requests.filter((r) => r.host === run.identityHost).length,
    roundTrips: roundTrips(arm, lines),
    checkMs,
    ownMs: overheadMs - lagMs,
    peakRssMb: run.peakRssMb,
    failure,
  };
}

function readsByPhase(
  arm: RequestLine[],
  lines: OutputLine[],
): Record<string, Record<string, number>> {
  const phases: Record<string, Record<string, number>> = {};
  for (const request of arm.filter((r) => r.method === "GET")) {
    const phase = phaseAt(lines, request.start);
    const kind = callKind(request.method, request.path).replace(/^GET /, "");
    phases[phase] ??= {};
    phases[phase][kind] = (phases[phase][kind] ?? 0) + 1;
  }
  return phases;
}

/** Whether a call waits on Azure (a poll) rather than asking it something new. */
function isPoll(request: RequestLine, lines: OutputLine[]): boolean {
  const kind = callKind(request.method, request.path);
  if (kind === "GET operation status" || kind === "GET operation result") return true;
  return kind === "GET revision" && WAITING_PHASES.has(phaseAt(lines, request.start));
}

/** ARM calls that are not polls, a group of calls in flight together counted once. */
export function roundTrips(arm: RequestLine[], lines: OutputLine[]): number {
  const calls = arm.filter((r) => !isPoll(r, lines)).sort((a, b) => a.start - b.start);
  let count = 0;
  let groupEnd = -Infinity;
  for (const call of calls) {
    if (call.start >= groupEnd) count++;
    groupEnd = call.start >= groupEnd ? call.end : Math.max(groupEnd, call.end);
  }
  return count;
}

/** How soon after an answer the same question counts as asked again, not waited for. */
const BACK_TO_BACK_MS = 50;

/**
 * Reads whose answer the run already held: an earlier call returned the same resource (a read of
 * the same path, or the result of a write's operation, which is the app), nothing was written or
 * checked in between, the resource did not change in between, and the run did not wait (the second
 * read began within 50 ms of the first answer; polls wait longer). Meaningful on the fast profile,
 * whose shortest poll gap is 200 ms.
 */
export function findDuplicates(
  arm: RequestLine[],
  checks: RequestLine[],
  lines: OutputLine[],
  changes: AppChange[],
): string[] {
  const found: string[] = [];
  const reads = arm.filter((r) => r.method === "GET");
  for (const read of reads) {
    const kind = callKind(read.method, read.path);
    if (!["GET app", "GET revision", "GET revision list"].includes(kind)) continue;
    const held = reads
      .filter(
        (r) =>
          r !== read &&
          r.start < read.start &&
          (r.path === read.path ||
            (kind === "GET app" && callKind(r.method, r.path) === "GET operation result")),
      )
      .at(-1);
    if (!held || read.start - held.end >= BACK_TO_BACK_MS) continue;
    const between = (t: number) => t > held.end && t < read.start;
    if (arm.some((r) => r.method !== "GET" && between(r.start))) continue;
    if (checks.some((r) => between(r.start))) continue;
    if (changed(changes, read.path, kind, held.end, read.start)) continue;
    found.push(
      `${phaseAt(lines, read.start)}: ${kind.replace(/^GET /, "")} read ${Math.max(0, read.start - held.end)} ms after ${callKind(held.method, held.path).replace(/^GET /, "")} answered it`,
    );
  }
  return found;
}

function changed(
  changes: AppChange[],
  path: string,
  kind: string,
  from: number,
  to: number,
): boolean {
  const at = (t: number) => changes.filter((c) => c.time <= t).at(-1);
  const before = at(from - SAMPLE_MS);
  const after = at(to + SAMPLE_MS);
  if (!before || !after) return true;
  if (kind === "GET revision") {
    const name = path.split("/").at(-1) ?? "";
    return before.revisions[name] !== after.revisions[name];
  }
  if (kind === "GET app") return before.appKey !== after.appKey;
  return JSON.stringify(before.revisions) !== JSON.stringify(after.revisions);
}
