/**
 * The check before every write a run makes, restores included: the app is read fresh and must
 * still route what the run last wrote (or the write whose outcome is not known yet), and no other
 * run may have taken it. Someone else's change is never overwritten: the run stops and says what
 * changed and by how much. There is no ETag, so a change made between this read and the write
 * that follows is still possible; the window is one request long.
 */
import { ExternalChange, LeaseLost } from "../failure.ts";
import type { RunJournal } from "../journal.ts";
import type { AppState, ContainerAppsPort, RunContext } from "../ports.ts";
import { decodeLeaseTags } from "../tags.ts";
import { currentTraffic } from "../traffic/current.ts";
import { sameTraffic } from "../traffic/plan.ts";
import type { TrafficWeight } from "../types.ts";

export interface GuardDeps {
  apps: ContainerAppsPort;
  run: RunContext;
  signal?: AbortSignal;
}

/**
 * Reads the app and checks it before a write `when` (e.g. "before step 2"). `leaseHeld`: the run
 * holds the lease now (it must still be ours); otherwise no other run's lease may be there.
 */
export async function readBeforeWrite(
  deps: GuardDeps,
  journal: RunJournal,
  options: { when: string; leaseHeld: boolean; retryForMs?: number },
): Promise<AppState> {
  const app = await deps.apps.getApp({
    signal: deps.signal,
    ...(options.retryForMs !== undefined ? { retryForMs: options.retryForMs } : {}),
  });
  assertNotTakenOver(app, deps.run, options.when, options.leaseHeld);
  assertNoDrift(app, journal, options.when);
  return app;
}

/** Fails when another run holds the app (or, while this run should hold it, when its lease is gone). */
export function assertNotTakenOver(
  app: AppState,
  run: RunContext,
  when: string,
  leaseHeld: boolean,
): void {
  const lease = decodeLeaseTags(app.tags);
  if (lease ? lease.runId === run.runId : !leaseHeld) return;
  throw new LeaseLost(
    `Another run took ${app.name} ${when}: ${lease?.holder ?? "this run's lease was removed"}. This run stops without changing anything more.`,
  );
}

/** Fails when the app routes something the run did not write. */
export function assertNoDrift(app: AppState, journal: RunJournal, when: string): void {
  const actual = currentTraffic(app);
  const expected = journal.expectedTraffic();
  if (expected.some((traffic) => sameTraffic(actual, traffic))) return;
  throw new ExternalChange(
    `Someone else changed the traffic of ${app.name} ${when}: ${describeDrift(expected[0], actual)}. It was left as they set it.`,
  );
}

/** What changed between two traffic arrays, revision by revision and label by label. */
export function describeDrift(expected: TrafficWeight[], actual: TrafficWeight[]): string {
  const changes: string[] = [];
  const weight = (traffic: TrafficWeight[], name: string) =>
    traffic.filter((e) => e.revisionName === name).reduce((sum, e) => sum + e.weight, 0);
  const names = [...new Set([...expected, ...actual].map((e) => e.revisionName))];
  for (const name of names) {
    const was = weight(expected, name);
    const now = weight(actual, name);
    if (was !== now) changes.push(`${name} ${was}% → ${now}% (${signed(now - was)})`);
  }
  const labels = [...new Set([...expected, ...actual].map((e) => e.label).filter(Boolean))];
  for (const label of labels as string[]) {
    const was = expected.find((e) => e.label === label)?.revisionName;
    const now = actual.find((e) => e.label === label)?.revisionName;
    if (was === now) continue;
    if (!now) changes.push(`label ${label} removed from ${was}`);
    else if (!was) changes.push(`label ${label} added on ${now}`);
    else changes.push(`label ${label} moved from ${was} to ${now}`);
  }
  return changes.join(", ") || "the traffic entries were reordered or rewritten";
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}
