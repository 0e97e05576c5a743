import type { Clock } from "./clock.ts";
import { errorMessage } from "./failure.ts";
import type { DeployJournal } from "./journal.ts";
import type { AppState, ContainerAppsPort, Log } from "./ports.ts";
import { resolveTraffic } from "./traffic/resolve.ts";
import { sameTraffic, weightsByRevision } from "./traffic/plan.ts";
import type { TrafficWeight } from "./types.ts";

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
export async function restoreSnapshot(
  apps: ContainerAppsPort,
  journal: Pick<
    DeployJournal,
    "candidate" | "createdCandidate" | "keepFailedRevision" | "snapshot" | "tags"
  >,
  deps: { log: Log; clock: Clock; retryForMs?: number },
): Promise<RestoreOutcome> {
  const retryForMs = deps.retryForMs ?? RESTORE_RETRY_MS;
  const written = await apps.updateTraffic(journal.snapshot, journal.tags, { retryForMs });
  let traffic = currentTraffic(written);
  if (!sameTraffic(traffic, journal.snapshot)) {
    traffic = currentTraffic(await apps.getApp({ retryForMs }));
    if (!sameTraffic(traffic, journal.snapshot)) {
      throw new Error(
        `After the restore the app routes ${describe(traffic)} instead of ${describe(journal.snapshot)}.`,
      );
    }
  }
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

export function currentTraffic(app: AppState): TrafficWeight[] {
  return resolveTraffic(app.ingress?.traffic ?? [], app.latestRevisionName);
}

function describe(traffic: TrafficWeight[]): string {
  return traffic
    .map((e) => `${e.revisionName} ${e.weight}%${e.label ? ` (${e.label})` : ""}`)
    .join(", ");
}
