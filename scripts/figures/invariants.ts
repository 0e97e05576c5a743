/**
 * DESIGN.md's invariants as a check that lists what it finds wrong instead of stopping at the
 * first: the figures count cells, and an inconsistent cell must say exactly what was seen.
 *
 * - Traffic sums to 100 and never points at an inactive or unhealthy revision; labels are unique.
 * - At the end: the candidate at 100% after success, the original split after failure — except when
 *   someone else changed the app mid-run: then it is left exactly as they set it, and a run says so.
 * - No lease left behind; nothing the tool did not create (or retire by its plan) is deactivated;
 *   someone else's tags kept; no secret in any log, summary, output, state or tag.
 */
import type { AppView, ArmJournalEntry, TrafficEntry } from "../../emulator/types.ts";
import { formatTraffic, sameTraffic } from "./world.ts";

export interface EndStateExpectation {
  view: AppView;
  /** The traffic the run found. */
  before: TrafficEntry[];
  /** The traffic a successful rollout ends with. */
  promoted: TrafficEntry[];
  candidate: string;
  /** Revisions a successful rollout retires (the ones it took the traffic from). */
  retired: string[];
  /** Whether the run wrote the promotion: only then may it retire `retired`. */
  promotionWritten: boolean;
  /** What the run reported (the `result` output of the last run that set one). */
  result?: string;
  /** Set when someone else changed the traffic mid-run: what they set. */
  theirs?: TrafficEntry[];
  /** Whether a run said that someone else changed the app. */
  reportedDrift: boolean;
  /** Tags that are someone else's and must still be there. */
  othersTags: Record<string, string>;
  /** Everything the runs left readable, by name, and the ARM writes they sent. */
  texts: [string, string][];
  writes: ArmJournalEntry[];
  secrets: string[];
}

export interface EndStateVerdict {
  violations: string[];
  /** Not invariant breaches, but worth knowing: what was left running. */
  notes: string[];
  /** Which end state the app is in: promoted, original, theirs, or other. */
  ended: "promoted" | "original" | "theirs" | "other";
}

const SUCCESS = new Set(["promoted", "unchanged"]);
const FAILURE = new Set(["failed", "rolled-back", "failed-before-traffic"]);
const LEASE = /^aca-blue-green\.lease(\.|$)/;

export function checkEndState(expect: EndStateExpectation): EndStateVerdict {
  const { view } = expect;
  const violations: string[] = [];
  const notes: string[] = [];
  const total = view.traffic.reduce((sum, e) => sum + e.weight, 0);
  if (total !== 100) violations.push(`traffic sums to ${total}: ${formatTraffic(view.traffic)}`);
  const byName = new Map(view.revisions.map((r) => [r.name, r]));
  for (const entry of view.traffic) {
    const name = entry.revisionName ?? view.latestRevisionName;
    const revision = byName.get(name);
    const what = `${name} ${entry.weight}%${entry.label ? ` (${entry.label})` : ""}`;
    if (!revision) violations.push(`traffic names ${what}, a revision that does not exist`);
    else if (!revision.active) violations.push(`traffic points at inactive revision ${what}`);
    else if (revision.healthState === "Unhealthy" || revision.runningState === "Failed") {
      violations.push(
        `traffic points at unhealthy revision ${what} (${revision.runningState}/${revision.healthState})`,
      );
    }
  }
  const labels = view.traffic.map((e) => e.label).filter(Boolean);
  for (const label of new Set(labels)) {
    if (labels.filter((l) => l === label).length > 1) violations.push(`label ${label} twice`);
  }

  const ended = sameTraffic(view.traffic, expect.promoted)
    ? "promoted"
    : sameTraffic(view.traffic, expect.before)
      ? "original"
      : expect.theirs && sameTraffic(view.traffic, expect.theirs)
        ? "theirs"
        : "other";
  const now = formatTraffic(view.traffic);
  if (expect.theirs) {
    if (ended !== "theirs") {
      violations.push(
        `someone else set ${formatTraffic(expect.theirs)} mid-run, but the app ends with ${now}`,
      );
    }
    if (!expect.reportedDrift) violations.push("no run reported that someone else changed the app");
  } else if (expect.result && SUCCESS.has(expect.result)) {
    if (ended !== "promoted") {
      violations.push(
        `result ${expect.result}, but the app ends with ${now}, not the candidate at 100%`,
      );
    }
  } else if (expect.result && FAILURE.has(expect.result)) {
    if (ended !== "original") {
      violations.push(
        `result ${expect.result}, but the app ends with ${now}, not the original ${formatTraffic(expect.before)}`,
      );
    }
  } else if (ended !== "promoted" && ended !== "original") {
    violations.push(
      `${expect.result ? `result ${expect.result}; ` : "no result; "}the app ends with ${now}: neither the candidate at 100% nor the original ${formatTraffic(expect.before)}`,
    );
  }

  const lease = Object.keys(view.tags).filter((t) => LEASE.test(t));
  if (lease.length > 0) violations.push(`lease left behind: ${lease.join(", ")}`);
  for (const [key, value] of Object.entries(expect.othersTags)) {
    if (view.tags[key] !== value) violations.push(`someone else's tag ${key}=${value} is gone`);
  }

  const mayRetire = new Set([expect.candidate, ...(expect.promotionWritten ? expect.retired : [])]);
  for (const revision of view.revisions) {
    if (!revision.active && !mayRetire.has(revision.name)) {
      violations.push(`${revision.name} was deactivated, which the tool did not create or retire`);
    }
  }
  const candidate = byName.get(expect.candidate);
  if (ended !== "promoted" && ended !== "theirs" && candidate?.active) {
    notes.push(`candidate ${expect.candidate} left active`);
  }
  if (ended === "promoted") {
    const left = expect.retired.filter((name) => byName.get(name)?.active);
    if (left.length > 0) notes.push(`previous revisions left active: ${left.join(", ")}`);
  }

  for (const secret of expect.secrets) {
    const where = [
      ...expect.texts.filter(([, text]) => text.includes(secret)).map(([name]) => name),
      ...(JSON.stringify(view.tags).includes(secret) ? ["the app's tags"] : []),
      ...(expect.writes.some((w) => JSON.stringify(w.body ?? "").includes(secret))
        ? ["an ARM write's body"]
        : []),
    ];
    if (where.length > 0) violations.push(`a secret appears in ${where.join(", ")}`);
  }
  return { violations, notes, ended };
}
