/**
 * The diagnostics scenarios, written once for the Action and the Pipelines task: how each failing
 * candidate is set up, what its run must say about it, and the order the emulator's journals
 * prove — the previous traffic back first, then the candidate read, then the candidate deactivated.
 */
import type { AppView, ArmJournalEntry, Emulator } from "../../emulator/types.ts";
import type { CandidateDiagnostics } from "../../src/core/diagnostics/types.ts";
import type { ActionRun } from "./harness.ts";
import { expectInvariants, seedApp } from "./harness.ts";

/** The diagnostics output of a run, parsed; fails when it is empty. */
export function diagnosticsOf(run: ActionRun): CandidateDiagnostics {
  expect(run.outputs.diagnostics).toBeTruthy();
  return JSON.parse(run.outputs.diagnostics) as CandidateDiagnostics;
}

/** The collapsed diagnostics section of the summary. */
export function diagnosticsSection(run: ActionRun, candidate: string): string {
  const start = run.summary.indexOf(
    `<details>\n<summary><strong>🔎 Diagnostics of ${candidate}</strong>`,
  );
  expect(start).toBeGreaterThanOrEqual(0);
  const end = run.summary.indexOf("\n</details>", start);
  expect(end).toBeGreaterThan(start);
  return run.summary.slice(start, end);
}

/** The run's log lines inside its "Diagnostics of <candidate>" group. */
export function diagnosticsGroup(run: ActionRun, candidate: string): string[] {
  const texts = run.lines.map((line) => line.text);
  const start = texts.findIndex((text) =>
    /^(::group::|##\[group\])Diagnostics of /.test(text) ? text.endsWith(candidate) : false,
  );
  expect(start).toBeGreaterThanOrEqual(0);
  const end = texts.findIndex(
    (text, i) => i > start && /^(::endgroup::|##\[endgroup\])/.test(text),
  );
  expect(end).toBeGreaterThan(start);
  return texts.slice(start + 1, end);
}

export interface Moments {
  /** The restore's traffic write answered as done (its operation's result). */
  trafficRestored: number;
  /** The first ARM call of the diagnostics, and the last. */
  firstRead: number;
  lastRead: number;
  /** Console and event stream requests. */
  streams: number[];
  /** The candidate's deactivation. */
  deactivated: number;
}

/**
 * When each part of the failure handling happened, from the emulator's ARM and log stream
 * journals: the last PATCH of the app is the restore's traffic write, done when its operation's
 * result answers 200.
 */
export function moments(emulator: Emulator, app: string, candidate: string): Moments {
  const journal = emulator.armJournal();
  const appPath = `/containerApps/${app}`;
  const restore = journal.findLastIndex(
    (entry) => entry.method === "PATCH" && entry.path.endsWith(appPath),
  );
  expect(restore).toBeGreaterThanOrEqual(0);
  const done = journal.find(
    (entry, i) =>
      i > restore && /containerappOperationResults/i.test(entry.path) && entry.status === 200,
  );
  const reads = journal.filter(
    (entry) =>
      (entry.method === "GET" && entry.path.endsWith(`/revisions/${candidate}/replicas`)) ||
      (entry.method === "POST" && entry.path.endsWith(`${appPath}/getAuthtoken`)),
  );
  const deactivation = journal.find(
    (entry: ArmJournalEntry) =>
      entry.method === "POST" && entry.path.endsWith(`/revisions/${candidate}/deactivate`),
  );
  expect(done).toBeDefined();
  expect(reads.length).toBeGreaterThan(0);
  expect(deactivation?.status).toBe(200);
  const streams = emulator
    .logStreamJournal()
    .filter((entry) => entry.path.includes(`/containerApps/${app}/`))
    .map((entry) => entry.time);
  return {
    trafficRestored: done!.time,
    firstRead: Math.min(...reads.map((entry) => entry.time)),
    lastRead: Math.max(...reads.map((entry) => entry.time)),
    streams,
    deactivated: deactivation!.time,
  };
}

/** The previous traffic came back first, the candidate was read next, and deactivated last. */
export function expectReadBetweenRestoreAndDeactivation(times: Moments): void {
  expect(times.firstRead).toBeGreaterThanOrEqual(times.trafficRestored);
  expect(times.lastRead).toBeLessThanOrEqual(times.deactivated);
  expect(times.streams.length).toBeGreaterThan(0);
  for (const time of times.streams) {
    expect(time).toBeGreaterThanOrEqual(times.trafficRestored);
    expect(time).toBeLessThanOrEqual(times.deactivated);
  }
}

/** The app ends as it started and the candidate is inactive. */
export function expectRestored(
  emulator: Emulator,
  app: string,
  candidate: string,
  run: ActionRun,
  traffic: Parameters<typeof expectInvariants>[3]["traffic"],
): void {
  const final = expectInvariants(emulator, app, run, { traffic });
  expect(final.revisions.find((revision) => revision.name === candidate)?.active).toBe(false);
}

/** When the run queried Log Analytics (on a workspace or an environment), from the ARM journal. */
export function logAnalyticsQueries(emulator: Emulator, scope: string, since = 0): number[] {
  return emulator
    .armJournal()
    .filter(
      (entry) =>
        entry.time >= since &&
        entry.method === "POST" &&
        entry.path.startsWith("/loganalytics/v1/") &&
        entry.path.includes(scope) &&
        entry.status === 200,
    )
    .map((entry) => entry.time);
}

/** Log Analytics was read after the previous traffic came back and before the deactivation. */
export function expectLogAnalyticsReadInOrder(times: Moments, queries: number[]): void {
  expect(queries.length).toBeGreaterThan(0);
  for (const time of queries) {
    expect(time).toBeGreaterThanOrEqual(times.trafficRestored);
    expect(time).toBeLessThanOrEqual(times.deactivated);
  }
}

/** The lines a crashing revision prints, as the emulator's revision process prints them. */
export function crashLines(app: string, candidate: string, image: string): string[] {
  return [
    `Starting ${app} (revision ${candidate}, image ${image}, behaviour crash)`,
    `Error: cannot start: image ${image} is built to exit at start`,
    `Revision ${candidate} of ${app} crashed; exiting with code 1`,
  ];
}

/**
 * Seeds `app` serving v1 in an environment of its own, which keeps its logs in a Log Analytics
 * workspace (destination `log-analytics`), and makes its log and event streams refuse: what the
 * run learns of its lines then comes from the workspace.
 */
export async function seedWithWorkspaceOnly(emulator: Emulator, app: string): Promise<AppView> {
  const view = await seedApp(emulator, app, {
    environment: `env-${app}`,
    workspace: { name: `${app}-logs` },
  });
  emulator.injectLogStreamFault({ app, kind: "status", status: 503, count: 20 });
  return view;
}
