import type { Clock } from "../clock.ts";
import { errorMessage, isOperationFailure } from "../failure.ts";
import type { DeployJournal } from "../journal.ts";
import type { ContainerAppsPort, Log } from "../ports.ts";
import { formatTraffic } from "../report/format.ts";
import { currentTraffic } from "../traffic/current.ts";
import { sameTraffic, weightsByRevision } from "../traffic/plan.ts";
import type { TrafficWeight } from "../types.ts";

/** A restore keeps trying through transient Azure failures far longer than any other write. */
const RESTORE_RETRY_MS = 10 * 60_000;

export interface RestoreOutcome {
  traffic: TrafficWeight[];
  candidateDeactivated: boolean;
}

/**
 * Puts the app back as the journal found it: the exact traffic array (weights and labels) and the
 * tags without our lease, then retires the candidate this run created (never one with weight).
 */
export async function restoreTraffic(
  apps: ContainerAppsPort,
  journal: Pick<
    DeployJournal,
    "candidate" | "createdCandidate" | "keepFailedRevision" | "before" | "tags"
  >,
  deps: { log: Log; clock: Clock; retryForMs?: number },
): Promise<RestoreOutcome> {
  const retryForMs = deps.retryForMs ?? RESTORE_RETRY_MS;
  const traffic = await writeSnapshot(apps, journal, deps, deps.clock.now() + retryForMs);
  let candidateDeactivated = false;
  const candidateWeight = weightsByRevision(traffic).get(journal.candidate) ?? 0;
  if (journal.createdCandidate && !journal.keepFailedRevision && candidateWeight === 0) {
    try {
      await apps.deactivateRevision(journal.candidate, { retryForMs });
      candidateDeactivated = true;
    } catch (error) {
      deps.log.warning(
        `Traffic is restored, but revision ${journal.candidate} could not be deactivated: ${errorMessage(error)}`,
      );
    }
  }
  return { traffic, candidateDeactivated };
}

/**
 * Writes the snapshot's traffic and tags until the app reads back as asked or the deadline passes.
 * Transient faults are retried inside each call; a write whose operation the service reported as
 * failed is read back first, and sent again only when the app still differs from the snapshot.
 */
async function writeSnapshot(
  apps: ContainerAppsPort,
  journal: Pick<DeployJournal, "before" | "tags">,
  deps: { log: Log; clock: Clock },
  deadline: number,
): Promise<TrafficWeight[]> {
  const { clock, log } = deps;
  const left = () => Math.max(0, deadline - clock.now());
  for (let attempt = 1; ; attempt++) {
    let failure: unknown;
    try {
      const written = await apps.updateTraffic(journal.before, {
        tags: journal.tags,
        retryForMs: left(),
      });
      if (sameTraffic(currentTraffic(written), journal.before)) return currentTraffic(written);
    } catch (error) {
      if (!isOperationFailure(error)) throw error;
      failure = error;
    }
    const app = await apps.getApp({ retryForMs: left() });
    const traffic = currentTraffic(app);
    const restored = sameTraffic(traffic, journal.before);
    if (restored && (!failure || sameTags(app.tags, journal.tags))) return traffic;
    const gap = Math.min(1000 * 2 ** (attempt - 1), 16_000);
    if (!failure || clock.now() + gap >= deadline) {
      throw new Error(
        `After the restore the app routes ${formatTraffic(traffic)} instead of ${formatTraffic(journal.before)}${failure ? ` (${errorMessage(failure)})` : ""}.`,
      );
    }
    log.warning(
      `${errorMessage(failure)}; the app routes ${formatTraffic(traffic)}. Writing the previous traffic again in ${Math.round(gap / 1000)} s (trying until ${new Date(deadline).toISOString()}).`,
    );
    await clock.sleep(gap);
  }
}

function sameTags(actual: Record<string, string>, expected: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(actual), ...Object.keys(expected)]);
  return [...keys].every((key) => actual[key] === expected[key]);
}
