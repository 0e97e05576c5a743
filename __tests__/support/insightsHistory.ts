/**
 * One seeded delivery history of the app `shop`, with the four keys worked out by hand, for the
 * tests of `action: insights`: the core on plain values, and the readers against the GitHub and
 * Azure DevOps stand-ins. It holds a promotion, a rollout rolled back by its own run, a failure
 * before traffic (not a change failure), a promotion undone by a later rollback run, a rollout
 * held at 10% then promoted, and one held at 0% then rejected.
 */
import { createHash } from "node:crypto";
import type { RolloutRecord } from "../../src/core/insights/record.ts";

export const APP = "shop";
export const RESOURCE_GROUP = "rg-shop";
/** The end of the window: the moment insights runs. */
export const NOW = Date.parse("2026-03-31T00:00:00Z");
export const WINDOW_MS = 30 * 86_400_000;

export interface SeedCommit {
  sha: string;
  message: string;
  committedAt: string;
}

const sha = (name: string) => createHash("sha1").update(name).digest("hex");

/** The linear history of `main`, oldest first. */
export const COMMITS: SeedCommit[] = [
  ["c0", "2026-02-09T10:00:00Z"],
  ["c1", "2026-02-19T10:10:00Z"],
  ["c2", "2026-03-01T09:30:00Z"],
  ["c3", "2026-03-02T07:30:00Z"],
  ["c4", "2026-03-05T11:00:00Z"],
  ["c5", "2026-03-06T07:00:00Z"],
  ["c6", "2026-03-10T09:00:00Z"],
  ["c7", "2026-03-11T09:15:00Z"],
  ["c8", "2026-03-19T09:00:00Z"],
].map(([name, committedAt]) => ({ sha: sha(name), message: `Change ${name}`, committedAt }));

const commit = (index: number) => COMMITS[index].sha;
const run = (id: number) => `https://github.com/contoso/shop/actions/runs/${id}`;

function record(fields: Partial<RolloutRecord> & Pick<RolloutRecord, "action" | "result">) {
  return {
    tool: "aca-blue-green",
    version: 1,
    app: APP,
    resourceGroup: RESOURCE_GROUP,
    ...fields,
  } as RolloutRecord;
}

/** The runs, in the order they ran. */
export const RECORDS: RolloutRecord[] = [
  // The window before: two promotions, one day of lead time between them.
  record({
    action: "deploy",
    result: "promoted",
    revision: "shop--v1",
    commit: commit(0),
    startedAt: "2026-02-10T10:00:00.000Z",
    firstTrafficAt: "2026-02-10T10:05:00.000Z",
    promotedAt: "2026-02-10T10:10:00.000Z",
    finishedAt: "2026-02-10T10:11:00.000Z",
    runUrl: run(1),
  }),
  record({
    action: "deploy",
    result: "promoted",
    revision: "shop--v2",
    previous: "shop--v1",
    commit: commit(1),
    startedAt: "2026-02-20T10:00:00.000Z",
    firstTrafficAt: "2026-02-20T10:05:00.000Z",
    promotedAt: "2026-02-20T10:10:00.000Z",
    finishedAt: "2026-02-20T10:11:00.000Z",
    runUrl: run(2),
  }),
  // R1: promoted, releasing c2 (24 h) and c3 (2 h).
  record({
    action: "deploy",
    result: "promoted",
    revision: "shop--v3",
    previous: "shop--v2",
    commit: commit(3),
    startedAt: "2026-03-02T09:00:00.000Z",
    firstTrafficAt: "2026-03-02T09:05:00.000Z",
    promotedAt: "2026-03-02T09:30:00.000Z",
    finishedAt: "2026-03-02T09:31:00.000Z",
    runUrl: run(3),
  }),
  // R2: checks failed at 10%; its run restored the traffic 15 minutes after the first traffic.
  record({
    action: "deploy",
    result: "rolled-back",
    revision: "shop--v4",
    previous: "shop--v3",
    commit: commit(4),
    startedAt: "2026-03-05T12:00:00.000Z",
    firstTrafficAt: "2026-03-05T12:05:00.000Z",
    finishedAt: "2026-03-05T12:20:00.000Z",
    runUrl: run(4),
  }),
  // R3: the smoke checks failed before any traffic: not a change failure.
  record({
    action: "deploy",
    result: "failed-before-traffic",
    revision: "shop--v5",
    previous: "shop--v3",
    commit: commit(5),
    startedAt: "2026-03-06T08:00:00.000Z",
    finishedAt: "2026-03-06T08:10:00.000Z",
    runUrl: run(5),
  }),
  // R4: promoted, releasing c4, c5 and c6 since R1...
  record({
    action: "deploy",
    result: "promoted",
    revision: "shop--v6",
    previous: "shop--v3",
    commit: commit(6),
    startedAt: "2026-03-10T10:00:00.000Z",
    firstTrafficAt: "2026-03-10T10:02:00.000Z",
    promotedAt: "2026-03-10T10:20:00.000Z",
    finishedAt: "2026-03-10T10:21:00.000Z",
    runUrl: run(6),
  }),
  // ...then rolled back to v3 by hand: production is healthy again at 14:20 (4 h 18 m).
  record({
    action: "rollback",
    result: "rolled-back",
    revision: "shop--v3",
    previous: "shop--v6",
    commit: commit(6),
    startedAt: "2026-03-10T14:10:00.000Z",
    firstTrafficAt: "2026-03-10T14:20:00.000Z",
    promotedAt: "2026-03-10T14:20:00.000Z",
    finishedAt: "2026-03-10T14:21:00.000Z",
    runUrl: run(7),
  }),
  // R5: held at 10%, promoted the next day, releasing c7 (48 h).
  record({
    action: "deploy",
    result: "held",
    revision: "shop--v7",
    previous: "shop--v3",
    commit: commit(7),
    startedAt: "2026-03-12T09:00:00.000Z",
    firstTrafficAt: "2026-03-12T09:05:00.000Z",
    finishedAt: "2026-03-12T09:10:00.000Z",
    runUrl: run(8),
  }),
  record({
    action: "promote",
    result: "promoted",
    revision: "shop--v7",
    previous: "shop--v3",
    commit: commit(7),
    startedAt: "2026-03-13T09:00:00.000Z",
    firstTrafficAt: "2026-03-13T09:01:00.000Z",
    promotedAt: "2026-03-13T09:15:00.000Z",
    finishedAt: "2026-03-13T09:16:00.000Z",
    runUrl: run(9),
  }),
  // R6: held at 0%, then rejected: it never reached traffic.
  record({
    action: "deploy",
    result: "held",
    revision: "shop--v8",
    previous: "shop--v7",
    commit: commit(8),
    startedAt: "2026-03-20T09:00:00.000Z",
    finishedAt: "2026-03-20T09:05:00.000Z",
    runUrl: run(10),
  }),
  record({
    action: "reject",
    result: "rolled-back",
    revision: "shop--v8",
    commit: commit(8),
    startedAt: "2026-03-20T11:00:00.000Z",
    finishedAt: "2026-03-20T11:01:00.000Z",
    runUrl: run(11),
  }),
];

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** The keys of the window ending at NOW, worked out by hand from the records above. */
export const EXPECTED = {
  /** R1, R4 and R5 in 30 days. */
  deploys: 3,
  perDay: 3 / 30,
  /** 1h20m, 2h, 24h, 48h, 99h20m, 119h20m: the median of six is the mean of 24 h and 48 h. */
  commits: 6,
  leadTimeMedianMs: 36 * HOUR,
  leadTimeP90Ms: 119 * HOUR + 20 * MINUTE,
  /** R2 and R4 of the four rollouts that reached traffic (R1, R2, R4, R5). */
  failures: 2,
  reachedTraffic: 4,
  changeFailureRate: 0.5,
  /** 15 m (R2) and 4h18m (R4). */
  recoveryMedianMs: (15 * MINUTE + 4 * HOUR + 18 * MINUTE) / 2,
  bands: {
    deploymentFrequency: "Medium",
    leadTime: "High",
    changeFailureRate: "Low",
    recoveryTime: "High",
  },
  trends: {
    deploymentFrequency: "better",
    leadTime: "worse",
    changeFailureRate: "worse",
    recoveryTime: "new",
  },
  previous: { perDay: 2 / 30, leadTimeMedianMs: 24 * HOUR, changeFailureRate: 0 },
} as const;

/** The commits after `base` up to and including `head`, as a compare of the two would list them. */
export function commitsBetween(base: string, head: string): SeedCommit[] {
  const from = COMMITS.findIndex((c) => c.sha === base);
  const to = COMMITS.findIndex((c) => c.sha === head);
  return from === -1 || to === -1 ? [] : COMMITS.slice(from + 1, to + 1);
}

/** The same history moved in time, so that its window ends `offsetMs` after NOW. */
export function shiftedHistory(offsetMs: number): {
  records: RolloutRecord[];
  commits: SeedCommit[];
} {
  const shift = (iso: string) => new Date(Date.parse(iso) + offsetMs).toISOString();
  const times = ["startedAt", "firstTrafficAt", "promotedAt", "finishedAt"] as const;
  return {
    records: RECORDS.map((record) => {
      const moved = { ...record };
      for (const key of times)
        if (moved[key] !== undefined) moved[key] = shift(moved[key] as string);
      return moved;
    }),
    commits: COMMITS.map((c) => ({ ...c, committedAt: shift(c.committedAt) })),
  };
}
