/**
 * Putting an app back as a run found it: the exact traffic array (weights and labels), this tool's
 * tags as they were (others' tags kept), and the candidate the run created retired. The most
 * persistent path of all: transient faults are retried for ten minutes, a write the service reports
 * as failed is read back before it is sent again, and every write is preceded by a fresh read that
 * stops the restore when someone else changed the app meanwhile.
 */
import type { Clock } from "../clock.ts";
import { ExternalChange, errorMessage, isOperationFailure } from "../failure.ts";
import type { JournalWrite } from "../journal.ts";
import type { AppState, ContainerAppsPort, Log, RunContext } from "../ports.ts";
import type { Json, SecretEntry } from "../revision/model.ts";
import { formatTraffic } from "../report/format.ts";
import { LAST_TAG, decodeLeaseTags, mergeOurTags } from "../tags.ts";
import { currentTraffic } from "../traffic/current.ts";
import { sameTraffic, weightsByRevision } from "../traffic/plan.ts";
import type { TrafficWeight } from "../types.ts";
import { assertNotTakenOver, describeDrift } from "./guard.ts";

/** A restore keeps trying through transient Azure failures far longer than any other write. */
const RESTORE_RETRY_MS = 10 * 60_000;

/** What a restore puts back, and what it accepts to find before it does. */
export interface RestoreRecord {
  before: TrafficWeight[];
  candidate: string;
  /** Whether the run created (or woke) the candidate: only then is it deactivated. */
  createdCandidate: boolean;
  keepFailedRevision: boolean;
  /** Traffic the app may route if nobody else changed it (the run's last writes). */
  expected: TrafficWeight[][];
  /** The last-promotion tag as it was before the run; undefined: it had none. */
  lastPromotion?: string;
  /** Tags of this tool that the restore puts back as well (a held deployment's record). */
  keepTags?: Record<string, string>;
  /**
   * The run whose lease the restore may find besides this run's: a successor putting back what a
   * dead run left half-shifted finds that run's (dead) lease.
   */
  adoptsLeaseOf?: string;
  /** Configuration fields the run changed, as they were: written back with the traffic. */
  configuration?: Json;
  /** The secrets array as it was (plus the secrets the run added), when the run changed values. */
  secrets?: SecretEntry[];
  /** What the restore cannot put back, and why: reported, not attempted. */
  notRestorable?: string[];
}

export interface RestoreDeps {
  log: Log;
  clock: Clock;
  run: RunContext;
  /** Stops the restore (a cancelled run handing it over to its post step); never the run's own. */
  signal?: AbortSignal;
  retryForMs?: number;
  /** Waits until a revision re-activated for the restore is ready. */
  waitReady: (revision: string) => Promise<unknown>;
  /** Records each write before it is sent (the run's journal). */
  recordWrite?: (write: Omit<JournalWrite, "at">) => void;
  /**
   * Runs once the previous traffic is back and before the candidate is deactivated (which stops
   * its replicas and their log streams): the failed candidate's diagnostics. Must not throw.
   */
  beforeRetire?: () => Promise<void>;
}

export interface RestoreOutcome {
  traffic: TrafficWeight[];
  candidateDeactivated: boolean;
  /** Revisions that had been deactivated and were activated again before getting weight. */
  reactivated: string[];
  /** Application-scope changes the restore did not put back, and why. */
  notRestored: string[];
  /** Whether the restore wrote the old secret values back. */
  secretsRestored: boolean;
}

export async function restoreTraffic(
  apps: ContainerAppsPort,
  record: RestoreRecord,
  deps: RestoreDeps,
): Promise<RestoreOutcome> {
  const retryForMs = deps.retryForMs ?? RESTORE_RETRY_MS;
  const deadline = deps.clock.now() + retryForMs;
  const left = () => Math.max(0, deadline - deps.clock.now());
  const reactivated = await reactivate(apps, record.before, deps, left);
  const traffic = await writeBefore(apps, record, deps, deadline);
  await deps.beforeRetire?.();
  let candidateDeactivated = false;
  const candidateWeight = weightsByRevision(traffic).get(record.candidate) ?? 0;
  if (record.createdCandidate && !record.keepFailedRevision && candidateWeight === 0) {
    try {
      deps.recordWrite?.({ kind: "deactivate", revision: record.candidate });
      await apps.deactivateRevision(record.candidate, { retryForMs: left(), signal: deps.signal });
      candidateDeactivated = true;
    } catch (error) {
      deps.log.warning(
        `Traffic is restored, but revision ${record.candidate} could not be deactivated: ${errorMessage(error)}`,
      );
    }
  }
  if (candidateDeactivated) {
    // A change someone made while the candidate was retired is theirs: said, not undone.
    const after = currentTraffic(await apps.getApp({ retryForMs: left(), signal: deps.signal }));
    if (!sameTraffic(after, traffic)) {
      throw new ExternalChange(
        `Someone else changed the traffic after the restore: ${describeDrift(traffic, after)}. It was left as they set it.`,
      );
    }
  }
  return {
    traffic,
    candidateDeactivated,
    reactivated,
    notRestored: record.notRestorable ?? [],
    secretsRestored: record.secrets !== undefined,
  };
}

/**
 * A revision that is to get weight back must be active and ready first: weighting an inactive
 * revision is an outage (the service accepts it and requests fail).
 */
async function reactivate(
  apps: ContainerAppsPort,
  before: TrafficWeight[],
  deps: RestoreDeps,
  left: () => number,
): Promise<string[]> {
  const weighted = new Set(before.filter((e) => e.weight > 0).map((e) => e.revisionName));
  if (weighted.size === 0) return [];
  const revisions = await apps.listRevisions();
  deps.signal?.throwIfAborted();
  const inactive = revisions.filter((r) => weighted.has(r.name) && !r.active).map((r) => r.name);
  for (const name of inactive) {
    deps.log.info(`Activating ${name} again before it gets its traffic back`);
    deps.recordWrite?.({ kind: "activate", revision: name });
    await apps.activateRevision(name, { retryForMs: left(), signal: deps.signal });
    await deps.waitReady(name);
  }
  return inactive;
}

/**
 * Writes the previous traffic until the app reads back as asked or the deadline passes. Each try
 * starts from a fresh read: someone else's change stops the restore; a write the service reported
 * as failed is sent again only when the app still differs from the previous traffic.
 */
async function writeBefore(
  apps: ContainerAppsPort,
  record: RestoreRecord,
  deps: RestoreDeps,
  deadline: number,
): Promise<TrafficWeight[]> {
  const { clock, log } = deps;
  const left = () => Math.max(0, deadline - clock.now());
  let failure: unknown;
  for (let attempt = 1; ; attempt++) {
    const fresh = await apps.getApp({ retryForMs: left(), signal: deps.signal });
    const found = currentTraffic(fresh);
    if (failure && sameTraffic(found, record.before) && !holdsOurLease(fresh, deps.run)) {
      return found;
    }
    guard(fresh, record, deps.run);
    deps.recordWrite?.({ kind: "traffic", traffic: record.before });
    try {
      const written = await apps.updateTraffic(record.before, {
        tags: restoredTags(fresh, record),
        retryForMs: left(),
        signal: deps.signal,
        ...(record.configuration && { configuration: record.configuration }),
        ...(record.secrets && { secrets: record.secrets }),
      });
      const traffic = currentTraffic(written);
      if (!sameTraffic(traffic, record.before)) {
        throw new ExternalChange(
          `After the restore ${fresh.name} routes ${formatTraffic(traffic)} instead of ${formatTraffic(record.before)}: someone else wrote at the same time. It was left as found.`,
        );
      }
      return traffic;
    } catch (error) {
      if (!isOperationFailure(error)) throw error;
      failure = error;
    }
    const gap = Math.min(1000 * 2 ** (attempt - 1), 16_000);
    if (clock.now() + gap >= deadline) {
      throw new Error(`The restore of ${fresh.name} failed: ${errorMessage(failure)}.`);
    }
    log.warning(
      `${errorMessage(failure)}; reading ${fresh.name} again in ${Math.round(gap / 1000)} s and writing the previous traffic again if it still differs (trying until ${new Date(deadline).toISOString()}).`,
    );
    await clock.sleep(gap, deps.signal);
  }
}

/** The app must route what the run left (or already the previous traffic), and be no one else's. */
function guard(fresh: AppState, record: RestoreRecord, run: RunContext): void {
  const holder = decodeLeaseTags(fresh.tags)?.runId;
  if (!record.adoptsLeaseOf || holder !== record.adoptsLeaseOf) {
    assertNotTakenOver(fresh, run, "before the restore", false);
  }
  const found = currentTraffic(fresh);
  const accepted = [...record.expected, record.before];
  if (accepted.some((traffic) => sameTraffic(found, traffic))) return;
  throw new ExternalChange(
    `Someone else changed the traffic of ${fresh.name} before the restore: ${describeDrift(record.expected[0] ?? record.before, found)}. It was left as they set it.`,
  );
}

function holdsOurLease(app: AppState, run: RunContext): boolean {
  return decodeLeaseTags(app.tags)?.runId === run.runId;
}

/** This tool's tags back as they were before the run; everyone else's as they are now. */
function restoredTags(fresh: AppState, record: RestoreRecord): Record<string, string> {
  return mergeOurTags(
    fresh.tags,
    { [LAST_TAG]: record.lastPromotion, ...record.keepTags },
    { dropHeld: true },
  );
}
