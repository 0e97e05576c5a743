import type { ReportedTraffic } from "../ports.ts";
import type { TrafficWeight } from "../types.ts";

/**
 * Pins every entry to a revision name: `latestRevision: true` means whatever the latest revision
 * is now, which a rollout must never rely on, since the candidate becomes the latest revision.
 */
export function resolveTraffic(
  reported: ReportedTraffic[],
  latestRevisionName: string | undefined,
): TrafficWeight[] {
  return reported.map((entry) => {
    const revisionName =
      entry.revisionName ?? (entry.latestRevision ? latestRevisionName : undefined);
    if (!revisionName) {
      throw new Error("A traffic entry names no revision and the app reports no latest revision.");
    }
    const pinned: TrafficWeight = { revisionName, weight: entry.weight };
    if (entry.label) pinned.label = entry.label;
    return pinned;
  });
}

export function totalWeight(traffic: TrafficWeight[]): number {
  return traffic.reduce((sum, entry) => sum + entry.weight, 0);
}
