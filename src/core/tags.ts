/**
 * What the tool keeps in the app's own tags, where every run (and every operator) can see it: the
 * lease of the run changing the app, a held deployment, and the last promotion. Tag values hold
 * 256 characters, so a long record is split over numbered tags.
 */
import type { TrafficWeight } from "./types.ts";

/** Tag holding the lease of the run that is changing the app's traffic. */
export const LEASE_TAG = "aca-blue-green.lease";
/** Tag recording the last promotion (the revision to roll back to). */
export const LAST_TAG = "aca-blue-green.last";
/** Prefix of the tags that record a held deployment (split over several tags: values hold 256 characters). */
const HELD_TAG_PREFIX = "aca-blue-green.held";

const TAG_VALUE_LIMIT = 256;

/**
 * The lease of the run changing the app. Besides who holds it and until when, it carries what a
 * successor needs when this run dies mid-shift: the traffic before the run and the traffic it last
 * wrote, so the next run can put the app back instead of taking a half-shifted split as its start.
 */
export interface Lease {
  runId: string;
  holder: string;
  since: string;
  until: string;
  /** Runs of one lineage (one workflow job) supersede each other: a later attempt takes over at once. */
  lineage?: { key: string; attempt: number };
  candidate?: string;
  /** Whether the holder created the candidate (a successor may then retire it). */
  createdCandidate?: boolean;
  before?: TrafficWeight[];
  last?: TrafficWeight[];
}

export interface LastPromotion {
  revision: string;
  previous?: string;
  at: string;
}

const HOLDER_LIMIT = 120;

/** Tags that record `lease`: the first chunk in `aca-blue-green.lease`, the rest in `.1`, `.2`, … */
export function encodeLeaseTags(lease: Lease): Record<string, string> {
  const holder =
    lease.holder.length > HOLDER_LIMIT
      ? `${lease.holder.slice(0, HOLDER_LIMIT - 1)}…`
      : lease.holder;
  const chunks = chunk(JSON.stringify({ ...lease, holder }));
  return Object.fromEntries(
    chunks.map((text, i) => [i === 0 ? LEASE_TAG : `${LEASE_TAG}.${i}`, text]),
  );
}

/** The lease recorded in the tags; undefined when there is none or it cannot be read. */
export function decodeLeaseTags(tags: Record<string, string>): Lease | undefined {
  if (tags[LEASE_TAG] === undefined) return undefined;
  const parts = [tags[LEASE_TAG]];
  for (let i = 1; tags[`${LEASE_TAG}.${i}`] !== undefined; i++)
    parts.push(tags[`${LEASE_TAG}.${i}`]);
  try {
    const parsed = JSON.parse(parts.join("")) as Partial<Lease>;
    if (typeof parsed.runId === "string" && typeof parsed.until === "string") {
      return {
        ...parsed,
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

export function isLive(lease: Lease, now: number): boolean {
  return Date.parse(lease.until) > now;
}

/** Whether `tag` is one of this tool's run-time records (lease or held deployment). */
export function isRunTag(tag: string): boolean {
  return (
    tag === LEASE_TAG || tag.startsWith(`${LEASE_TAG}.`) || tag.startsWith(`${HELD_TAG_PREFIX}.`)
  );
}

/**
 * The tags to write when only this tool's keys change: everything the fresh read shows except the
 * lease (and, with `dropHeld`, a held record), plus `ours` (a key set to undefined is removed).
 * Others' tags added mid-run are kept (there is no ETag, so a tag written by someone else between
 * that read and this write is still lost).
 */
export function mergeOurTags(
  fresh: Record<string, string>,
  ours: Record<string, string | undefined>,
  options: { dropHeld?: boolean } = {},
): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const [name, value] of Object.entries(fresh)) {
    const lease = name === LEASE_TAG || name.startsWith(`${LEASE_TAG}.`);
    const held = name.startsWith(`${HELD_TAG_PREFIX}.`);
    if (!lease && !(held && options.dropHeld)) merged[name] = value;
  }
  for (const [name, value] of Object.entries(ours)) {
    if (value === undefined) delete merged[name];
    else merged[name] = value;
  }
  return merged;
}

/** The held-deployment chunks among `tags`. */
export function heldTagsOf(tags: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(tags).filter(([name]) => name.startsWith(`${HELD_TAG_PREFIX}.`)),
  );
}

function chunk(text: string): string[] {
  const parts: string[] = [];
  for (let i = 0; i * TAG_VALUE_LIMIT < text.length; i++) {
    parts.push(text.slice(i * TAG_VALUE_LIMIT, (i + 1) * TAG_VALUE_LIMIT));
  }
  return parts;
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
  return Object.fromEntries(
    chunk(JSON.stringify(held)).map((text, i) => [`${HELD_TAG_PREFIX}.${i}`, text]),
  );
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
  return Object.fromEntries(Object.entries(tags).filter(([name]) => !isRunTag(name)));
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
