/**
 * Turns the records of single runs into rollouts: a deploy, continued by the promote or reject
 * of the same revision when it was held, and the rollback runs in between. Pure.
 */
import type { RolloutRecord } from "./record.ts";

/** A record as a source read it, with where a person can look at it. */
export interface SourcedRecord extends RolloutRecord {
  /** Unique within its source: a deployment ID, a build and attachment name. */
  id: string;
  /** The page behind it: the run that made it, or the deployment. */
  url?: string;
}

export type RolloutOutcome =
  "promoted" | "rolled-back" | "failed-before-traffic" | "failed" | "held";

/** One release of one app, from its deploy run to the run that settled it. Times are epoch ms. */
export interface Rollout {
  id: string;
  app: string;
  resourceGroup: string;
  revision?: string;
  commit?: string;
  image?: string;
  startedAt: number;
  firstTrafficAt?: number;
  promotedAt?: number;
  /** When its last run ended (for a rollout that rolled back: when the traffic was restored). */
  endedAt: number;
  outcome: RolloutOutcome;
  records: SourcedRecord[];
}

/** A run of `action: rollback` that put a revision back in front of users. */
export interface RollbackRun {
  app: string;
  resourceGroup: string;
  revision?: string;
  /** When the revision rolled back to took 100% of the traffic. */
  at: number;
  record: SourcedRecord;
}

export interface History {
  rollouts: Rollout[];
  rollbacks: RollbackRun[];
}

/** Rollouts and rollbacks, oldest first, from records in any order (duplicates by id dropped). */
export function buildHistory(records: readonly SourcedRecord[]): History {
  const unique = [...new Map(records.map((record) => [record.id, record])).values()];
  const sorted = unique.sort((a, b) => time(a.startedAt) - time(b.startedAt));
  const rollouts: Rollout[] = [];
  const rollbacks: RollbackRun[] = [];
  const held = new Map<string, Rollout>();
  for (const record of sorted) {
    const app = appKey(record);
    switch (record.action) {
      case "deploy": {
        // A rerun of the release that serves already, or a dry run: nothing was deployed.
        if (record.result === "unchanged") break;
        const rollout = fromDeploy(record);
        rollouts.push(rollout);
        if (rollout.outcome === "held") held.set(app, rollout);
        break;
      }
      case "promote":
      case "reject": {
        const changed = record.result !== "failed" || record.firstTrafficAt !== undefined;
        if (!changed) break;
        const open = held.get(app);
        if (open && (record.revision === undefined || open.revision === record.revision)) {
          continueWith(open, record);
          held.delete(app);
        } else if (record.action === "promote") {
          // Its deploy is older than the records read: the promote stands for the rollout.
          rollouts.push(fromDeploy(record));
        }
        break;
      }
      case "rollback":
        if (record.result === "rolled-back") {
          rollbacks.push({
            app: record.app,
            resourceGroup: record.resourceGroup,
            revision: record.revision,
            at: time(record.promotedAt ?? record.finishedAt),
            record,
          });
        }
        break;
    }
  }
  return { rollouts, rollbacks };
}

export function appKey(record: { app: string; resourceGroup: string }): string {
  return `${record.resourceGroup.toLowerCase()}/${record.app}`;
}

function fromDeploy(record: SourcedRecord): Rollout {
  return {
    id: record.id,
    app: record.app,
    resourceGroup: record.resourceGroup,
    ...(record.revision !== undefined && { revision: record.revision }),
    ...(record.commit !== undefined && { commit: record.commit }),
    ...(record.image !== undefined && { image: record.image }),
    startedAt: time(record.startedAt),
    ...(record.firstTrafficAt !== undefined && { firstTrafficAt: time(record.firstTrafficAt) }),
    ...(record.promotedAt !== undefined && { promotedAt: time(record.promotedAt) }),
    endedAt: time(record.finishedAt),
    outcome: outcomeOf(record),
    records: [record],
  };
}

/** The promote or reject of a held deploy settles it. */
function continueWith(rollout: Rollout, record: SourcedRecord): void {
  if (rollout.firstTrafficAt === undefined && record.firstTrafficAt !== undefined) {
    rollout.firstTrafficAt = time(record.firstTrafficAt);
  }
  if (record.promotedAt !== undefined) rollout.promotedAt = time(record.promotedAt);
  rollout.endedAt = time(record.finishedAt);
  rollout.outcome = outcomeOf(record);
  rollout.records.push(record);
}

function outcomeOf(record: RolloutRecord): RolloutOutcome {
  switch (record.result) {
    case "promoted":
    case "rolled-back":
    case "failed-before-traffic":
    case "held":
      return record.result;
    case "unchanged":
      return "promoted";
    default:
      return "failed";
  }
}

function time(iso: string): number {
  return Date.parse(iso);
}
