/**
 * Where `action: insights` reads the tool's records from: GitHub deployments, or the build
 * attachments of Azure Pipelines runs. Each platform implements it at its edge.
 */
import type { Rollout, SourcedRecord } from "./history.ts";
import type { ReleasedCommit } from "./keys.ts";

export interface AppRef {
  app: string;
  resourceGroup: string;
}

export interface RolloutHistory {
  /** Where the records come from, in words, e.g. `the GitHub deployments of contoso/shop`. */
  readonly description: string;
  /** The records of these apps of runs that started at or after `since` (epoch ms). */
  records(apps: readonly AppRef[], since: number): Promise<SourcedRecord[]>;
  /** The commits `head` released since `base`: after base's commit, up to and with head's. */
  commitsBetween(base: Rollout, head: Rollout): Promise<ReleasedCommit[]>;
}
