import type { TrafficWeight } from "./types.ts";
import type { RunContext } from "./ports.ts";

/** Tag holding the lease of the run that is changing the app's traffic. */
export const LEASE_TAG = "aca-blue-green.lease";
/** Tag recording the last promotion (the revision to roll back to). */
export const LAST_TAG = "aca-blue-green.last";
/** Key of the journal in the host's per-job state. */
export const JOURNAL_STATE_KEY = "aca-blue-green-journal";

const TAG_VALUE_LIMIT = 256;

export interface Lease {
  runId: string;
  holder: string;
  since: string;
  until: string;
}

export interface LastPromotion {
  revision: string;
  previous?: string;
  at: string;
}

/**
 * What a run must know to put the app back as it found it. Saved in the host's state before the
 * first write, so the post step (or a cancel handler) can restore it when the run dies mid-shift.
 */
export interface DeployJournal {
  version: 1;
  subscriptionId: string;
  resourceGroup: string;
  app: string;
  runId: string;
  candidate: string;
  /** Whether this run created the candidate (only then may a restore deactivate it). */
  createdCandidate: boolean;
  keepFailedRevision: boolean;
  snapshot: TrafficWeight[];
  /** Tags as they were before the lease was taken. */
  tags: Record<string, string>;
  /** `shifting` while traffic may differ from the snapshot; `settled` once the run has ended it. */
  phase: "shifting" | "settled";
}

export function encodeLease(lease: Lease): string {
  const value = JSON.stringify(lease);
  if (value.length <= TAG_VALUE_LIMIT) return value;
  const room = TAG_VALUE_LIMIT - (value.length - lease.holder.length) - 1;
  return JSON.stringify({ ...lease, holder: `${lease.holder.slice(0, Math.max(0, room))}…` });
}

export function decodeLease(value: string | undefined): Lease | undefined {
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(value) as Partial<Lease>;
    if (typeof parsed.runId === "string" && typeof parsed.until === "string") {
      return {
        runId: parsed.runId,
        holder: parsed.holder ?? "an unknown run",
        since: parsed.since ?? "an unknown time",
        until: parsed.until,
      };
    }
  } catch {
    // A lease we cannot read is treated as absent; the log says so where it is found.
  }
  return undefined;
}

export function newLease(run: RunContext, now: number, durationMs: number): Lease {
  return {
    runId: run.runId,
    holder: run.holder,
    since: new Date(now).toISOString(),
    until: new Date(now + durationMs).toISOString(),
  };
}

export function isLive(lease: Lease, now: number): boolean {
  return Date.parse(lease.until) > now;
}

export function encodeLastPromotion(last: LastPromotion): string {
  return JSON.stringify(last);
}

export function withTag(
  tags: Record<string, string>,
  name: string,
  value: string | undefined,
): Record<string, string> {
  const next = { ...tags };
  if (value === undefined) delete next[name];
  else next[name] = value;
  return next;
}
