/**
 * What the tool keeps in the app's own tags, where every run (and every operator) can see it: the
 * lease of the run changing the app, a held deployment, and the last promotion. Tag values hold
 * 256 characters, so a long record is split over numbered tags.
 */
import type { RunContext } from "./ports.ts";
import type { TrafficWeight } from "./types.ts";

/** Tag holding the lease of the run that is changing the app's traffic. */
export const LEASE_TAG = "aca-blue-green.lease";
/** Tag recording the last promotion (the revision to roll back to). */
export const LAST_TAG = "aca-blue-green.last";
/** Prefix of the tags that record a held deployment (split over several tags: values hold 256 characters). */
const HELD_TAG_PREFIX = "aca-blue-green.held";

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

/** A deploy stopped after its checks, waiting for `promote` or `reject`; recorded in the app's tags. */
export interface HeldDeployment {
  candidate: string;
  createdCandidate: boolean;
  image?: string;
  /** Traffic before the deploy: what `reject` restores. */
  before: TrafficWeight[];
  /** Traffic while held: promote and reject refuse when the app no longer routes this. */
  traffic: TrafficWeight[];
  /** The deploy's planned candidate weights, and how many of them are done. */
  steps: number[];
  done: number;
  labels: { candidate: string; production: string; previous: string };
  holder: string;
  at: string;
}

/** Tags that record a held deployment, in chunks that fit Azure's tag value limit. */
export function encodeHeldTags(held: HeldDeployment): Record<string, string> {
  const text = JSON.stringify(held);
  const tags: Record<string, string> = {};
  for (let i = 0; i * TAG_VALUE_LIMIT < text.length; i++) {
    tags[`${HELD_TAG_PREFIX}.${i}`] = text.slice(i * TAG_VALUE_LIMIT, (i + 1) * TAG_VALUE_LIMIT);
  }
  return tags;
}

/** The held deployment recorded in the tags; throws when the record is unreadable. */
export function decodeHeldTags(tags: Record<string, string>): HeldDeployment | undefined {
  const chunks: string[] = [];
  for (let i = 0; tags[`${HELD_TAG_PREFIX}.${i}`] !== undefined; i++) {
    chunks.push(tags[`${HELD_TAG_PREFIX}.${i}`]);
  }
  if (chunks.length === 0) return undefined;
  try {
    // Records written before `before` was named `snapshot` are read as well.
    const held = JSON.parse(chunks.join("")) as HeldDeployment & { snapshot?: TrafficWeight[] };
    const before = held.before ?? held.snapshot;
    if (typeof held.candidate === "string" && Array.isArray(before)) {
      delete held.snapshot;
      return { ...held, before };
    }
  } catch {
    // Reported below.
  }
  throw new Error(
    `The held deployment recorded in the app's tags (${HELD_TAG_PREFIX}.*) is unreadable; remove those tags and deploy again.`,
  );
}

/** The app's tags without this tool's run-time records (lease, held deployment). */
export function userTags(tags: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(tags).filter(
      ([name]) => name !== LEASE_TAG && !name.startsWith(`${HELD_TAG_PREFIX}.`),
    ),
  );
}

export function decodeLastPromotion(value: string | undefined): LastPromotion | undefined {
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(value) as Partial<LastPromotion>;
    return typeof parsed.revision === "string"
      ? { revision: parsed.revision, previous: parsed.previous, at: parsed.at ?? "" }
      : undefined;
  } catch {
    return undefined;
  }
}
