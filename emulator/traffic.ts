/**
 * An app's traffic as the service reads it: the entries of `configuration.ingress.traffic`, the
 * weight each revision reports, and the revision each entry actually sends requests to.
 */
import { isRecord } from "./http.ts";
import type { ContainerApp, Json, Revision } from "./store.ts";

export function trafficEntries(app: ContainerApp): Json[] {
  const ingress = app.configuration.ingress;
  return isRecord(ingress) && Array.isArray(ingress.traffic) ? (ingress.traffic as Json[]) : [];
}

/**
 * The weight a revision reports: a `latestRevision: true` entry counts for the latest revision,
 * ready or not (test_container_app_mount_nfsazurefile_e2e: a crashing latest revision reads
 * trafficWeight 100 while the one before it reads 0).
 */
export function trafficWeightOf(app: ContainerApp, revision: Revision): number {
  return trafficEntries(app)
    .filter((entry) => reportedRevisionOf(app, entry) === revision.name)
    .reduce((sum, entry) => sum + Number(entry.weight ?? 0), 0);
}

function reportedRevisionOf(app: ContainerApp, entry: Json): string | undefined {
  if (entry.latestRevision === true) return app.latestRevisionName || undefined;
  return typeof entry.revisionName === "string" ? entry.revisionName : undefined;
}

/**
 * The revision an entry sends requests to: `latestRevision: true` follows the latest revision
 * that became ready, so a new revision takes that traffic only once it can serve it.
 */
export function routedRevisionOf(app: ContainerApp, entry: Json): string | undefined {
  if (entry.latestRevision === true) return app.latestReadyRevisionName;
  return typeof entry.revisionName === "string" ? entry.revisionName : undefined;
}

/** Lower-case names of the revisions that traffic entries name explicitly. */
export function namedRevisions(app: ContainerApp): Set<string> {
  return new Set(
    trafficEntries(app)
      .map((entry) => entry.revisionName)
      .filter((name): name is string => typeof name === "string")
      .map((name) => name.toLowerCase()),
  );
}
