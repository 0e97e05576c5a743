/**
 * Diagnostics in words, line by line, for the run's log and the summary: the revision's state,
 * each replica's containers, the failed request, and the headline that says in one line what went
 * wrong. Pure.
 */
import { formatDuration } from "../report/format.ts";
import type {
  CandidateDiagnostics,
  ConsoleLine,
  ConsoleTail,
  FailedRequest,
  LogAnalyticsRead,
  ReplicaContainerState,
  ReplicaState,
  RevisionSnapshot,
  SystemEvent,
} from "./types.ts";

/** `provisioning Failed, running Failed, health Unhealthy, 1 replica`. */
export function describeState(state: RevisionSnapshot): string {
  const replicas =
    state.replicas === undefined
      ? ""
      : `, ${state.replicas} replica${state.replicas === 1 ? "" : "s"}`;
  return `provisioning ${state.provisioningState}, running ${state.runningState}, health ${state.healthState}${state.active ? "" : ", inactive"}${replicas}`;
}

/** `Waiting, not ready, not started, 1 restart: Container crashing: web`. */
export function describeContainer(container: ReplicaContainerState): string {
  const parts = [
    container.runningState ?? "state unknown",
    container.ready === undefined ? undefined : container.ready ? "ready" : "not ready",
    container.started === undefined ? undefined : container.started ? "started" : "not started",
    container.restartCount === undefined
      ? undefined
      : `${container.restartCount} restart${container.restartCount === 1 ? "" : "s"}`,
  ].filter((part) => part !== undefined);
  const details = container.runningStateDetails ? `: ${container.runningStateDetails}` : "";
  return `${parts.join(", ")}${details}`;
}

export function describeReplica(replica: ReplicaState): string {
  const details = replica.runningStateDetails ? `: ${replica.runningStateDetails}` : "";
  return `${replica.runningState ?? "state unknown"}${details}`;
}

/** `GET https://app---green.example.io/health -> 500 in 12 ms`. */
export function describeRequest(request: FailedRequest): string {
  const answer =
    request.status === undefined ? `no answer (${request.failure})` : `${request.status}`;
  const latency = request.latencyMs === undefined ? "" : ` in ${formatDuration(request.latencyMs)}`;
  return `${request.method} ${request.url} -> ${answer}${latency}`;
}

/** `2024-05-16T21:53:35Z stderr Error: cannot start`. */
export function describeLine(line: ConsoleLine): string {
  return [line.time, line.stream, line.text].filter((part) => part !== undefined).join(" ");
}

/** `2024-05-16T21:55:19Z Warning Error: Container 'web' was terminated with exit code '1'`. */
export function describeEvent(event: SystemEvent): string {
  const what = [event.time, event.type, event.reason].filter(Boolean).join(" ");
  const count = event.count !== undefined && event.count > 1 ? ` (${event.count} times)` : "";
  return `${what ? `${what}: ` : ""}${event.message}${count}`;
}

/** `last 3 lines` — `, from Log Analytics` when they were not read from the live stream. */
export function describeTailCount(tail: ConsoleTail): string {
  const count = `last ${tail.lines.length} line${tail.lines.length === 1 ? "" : "s"}`;
  return tail.source === "log-analytics" ? `${count}, from Log Analytics` : count;
}

/** `12` — `12, from Log Analytics` when the event stream had none. */
export function describeEventCount(diagnostics: CandidateDiagnostics): string {
  const count = `${diagnostics.systemEvents.length}`;
  return diagnostics.systemEventsSource === "log-analytics"
    ? `${count}, from Log Analytics`
    : count;
}

/**
 * `ContainerAppConsoleLogs_CL and ContainerAppSystemLogs_CL of workspace …: 4 console lines and
 * 3 system events of the revision, the latest of 2026-12-01T10:15:02.000Z (records arrive
 * minutes late)`, or why none was read.
 */
export function describeLogAnalytics(read: LogAnalyticsRead): string {
  if (!read.where) return `not read: ${read.why ?? "the environment keeps no logs there"}`;
  const held = `${read.consoleLines} console line${read.consoleLines === 1 ? "" : "s"} and ${read.systemEvents} system event${read.systemEvents === 1 ? "" : "s"} of the revision`;
  const until = read.latest ? `, the latest of ${read.latest}` : "";
  const waited = read.waitedMs ? `, after waiting ${formatDuration(read.waitedMs)} for them` : "";
  return `${read.where}: ${held}${until}${waited} (records arrive there minutes late)`;
}

/**
 * What the diagnostics found, in one line: the revision's state, its containers' restarts, what
 * was read of its logs.
 */
export function headline(diagnostics: CandidateDiagnostics): string {
  const parts: string[] = [];
  if (diagnostics.state) parts.push(describeState(diagnostics.state));
  const containers = (diagnostics.replicas ?? []).flatMap((replica) => replica.containers);
  const restarts = containers.reduce((sum, container) => sum + (container.restartCount ?? 0), 0);
  if (restarts > 0) parts.push(`${restarts} container restart${restarts === 1 ? "" : "s"}`);
  const lines = diagnostics.console.reduce((sum, tail) => sum + tail.lines.length, 0);
  parts.push(`${lines} console line${lines === 1 ? "" : "s"}`);
  const events = diagnostics.systemEvents.length;
  parts.push(`${events} system event${events === 1 ? "" : "s"}`);
  return parts.join("; ");
}

/** The whole of the diagnostics as log lines (warnings apart: the caller logs them as warnings). */
export function describeDiagnostics(diagnostics: CandidateDiagnostics): string[] {
  const lines: string[] = [];
  const { state, replicas, failedRequest } = diagnostics;
  if (state) {
    lines.push(`Revision ${diagnostics.revision}: ${describeState(state)}`);
    if (state.provisioningError) lines.push(`  Provisioning error: ${state.provisioningError}`);
    if (state.runningStateDetails) lines.push(`  Running state: ${state.runningStateDetails}`);
  }
  if (replicas) {
    if (replicas.length === 0) lines.push(`Replicas: none`);
    for (const replica of replicas) {
      lines.push(`Replica ${replica.name}: ${describeReplica(replica)}`);
      for (const container of replica.containers) {
        lines.push(`  Container ${container.name}: ${describeContainer(container)}`);
      }
    }
  }
  if (failedRequest) {
    lines.push(`Failed request (${failedRequest.check}): ${describeRequest(failedRequest)}`);
    if (failedRequest.status !== undefined) lines.push(`  Failure: ${failedRequest.failure}`);
    for (const [name, value] of Object.entries(failedRequest.headers ?? {})) {
      lines.push(`  ${name}: ${value}`);
    }
    if (failedRequest.bodyPrefix) lines.push(`  Body: ${oneLine(failedRequest.bodyPrefix)}`);
  }
  if (diagnostics.systemEvents.length > 0) {
    lines.push(`System events (${describeEventCount(diagnostics)}):`);
    for (const event of diagnostics.systemEvents) lines.push(`  ${describeEvent(event)}`);
  }
  for (const tail of diagnostics.console) {
    lines.push(`Console of ${tail.container} in ${tail.replica} (${describeTailCount(tail)}):`);
    for (const line of tail.lines) lines.push(`  ${describeLine(line)}`);
  }
  if (diagnostics.logAnalytics) {
    lines.push(`Log Analytics: ${describeLogAnalytics(diagnostics.logAnalytics)}`);
  }
  lines.push(`Collected in ${formatDuration(diagnostics.durationMs)}`);
  return lines;
}

function oneLine(text: string): string {
  return text.replace(/\s*\r?\n\s*/g, " ").trim();
}
