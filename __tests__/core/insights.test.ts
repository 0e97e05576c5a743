import { bandOf } from "../../src/core/insights/bands.ts";
import { DORA_2024 } from "../../src/core/insights/dora2024.ts";
import { buildHistory, type SourcedRecord } from "../../src/core/insights/history.ts";
import { buildInsights } from "../../src/core/insights/insights.ts";
import { releasePairs, type ReleasedCommit } from "../../src/core/insights/keys.ts";
import { parseRecord, recordOf } from "../../src/core/insights/record.ts";
import { median, percentile } from "../../src/core/insights/stats.ts";
import { parseWindow } from "../../src/core/insights/window.ts";
import { renderInsightsSummary } from "../../src/core/report/insights.ts";
import type { DeploymentReport } from "../../src/core/types.ts";
import {
  APP,
  EXPECTED,
  NOW,
  RECORDS,
  RESOURCE_GROUP,
  WINDOW_MS,
  commitsBetween,
} from "../support/insightsHistory.ts";

const sourced: SourcedRecord[] = RECORDS.map((record, index) => ({
  ...record,
  id: String(index + 1),
  url: record.runUrl,
}));

function insightsOf(records: SourcedRecord[]) {
  const history = buildHistory(records);
  const commits = new Map<string, ReleasedCommit[]>();
  for (const { head, base } of releasePairs(history)) {
    commits.set(
      head.id,
      commitsBetween(base.commit ?? "", head.commit ?? "").map((c) => ({
        sha: c.sha,
        committedAt: Date.parse(c.committedAt),
      })),
    );
  }
  return buildInsights({
    history,
    commits,
    now: NOW,
    windowMs: WINDOW_MS,
    apps: [{ app: APP, resourceGroup: RESOURCE_GROUP }],
    source: "the seeded history",
  });
}

describe("the four keys of a seeded history", () => {
  const report = insightsOf(sourced);

  it("counts the promoted deploys per day and per week", () => {
    expect(report.deploymentFrequency).toMatchObject({
      deploys: EXPECTED.deploys,
      value: EXPECTED.perDay,
      perWeek: EXPECTED.perDay * 7,
      previous: EXPECTED.previous.perDay,
      trend: EXPECTED.trends.deploymentFrequency,
      band: { cluster: EXPECTED.bands.deploymentFrequency, within: true },
    });
    expect(report.deploymentFrequency.rollouts.map((r) => r.revision)).toEqual([
      "shop--v3",
      "shop--v6",
      "shop--v7",
    ]);
  });

  it("measures each released commit from its commit time to its promotion", () => {
    expect(report.leadTime).toMatchObject({
      commits: EXPECTED.commits,
      value: EXPECTED.leadTimeMedianMs,
      p90: EXPECTED.leadTimeP90Ms,
      previous: EXPECTED.previous.leadTimeMedianMs,
      trend: EXPECTED.trends.leadTime,
      band: { cluster: EXPECTED.bands.leadTime },
    });
  });

  it("counts rollbacks after traffic, not the failure before traffic", () => {
    expect(report.changeFailureRate).toMatchObject({
      failures: EXPECTED.failures,
      reachedTraffic: EXPECTED.reachedTraffic,
      value: EXPECTED.changeFailureRate,
      previous: EXPECTED.previous.changeFailureRate,
      trend: EXPECTED.trends.changeFailureRate,
      band: { cluster: EXPECTED.bands.changeFailureRate, within: false },
    });
    const byRevision = Object.fromEntries(report.rollouts.map((r) => [r.revision, r]));
    expect(byRevision["shop--v4"].changeFailure).toBe("rolled-back");
    expect(byRevision["shop--v6"].changeFailure).toBe("rolled-back-later");
    expect(byRevision["shop--v5"]).toMatchObject({ outcome: "failed-before-traffic" });
    expect(byRevision["shop--v5"].changeFailure).toBeUndefined();
    expect(byRevision["shop--v7"]).toMatchObject({
      outcome: "promoted",
      firstTrafficAt: "2026-03-12T09:05:00.000Z",
      promotedAt: "2026-03-13T09:15:00.000Z",
      links: [
        "https://github.com/contoso/shop/actions/runs/8",
        "https://github.com/contoso/shop/actions/runs/9",
      ],
    });
    expect(byRevision["shop--v8"]).toMatchObject({ outcome: "rolled-back" });
    expect(byRevision["shop--v8"].firstTrafficAt).toBeUndefined();
  });

  it("measures recovery from the failing revision's first traffic to healthy production", () => {
    expect(report.recoveryTime).toMatchObject({
      recovered: 2,
      unrecovered: 0,
      value: EXPECTED.recoveryMedianMs,
      trend: EXPECTED.trends.recoveryTime,
      band: { cluster: EXPECTED.bands.recoveryTime },
    });
    const recoveries = report.rollouts.filter((r) => r.recoveryMs !== undefined);
    expect(recoveries.map((r) => [r.revision, r.recoveryMs])).toEqual([
      ["shop--v4", 15 * 60_000],
      ["shop--v6", (4 * 60 + 18) * 60_000],
    ]);
  });

  it("gives the same answers whatever order the records come in, and counts a record once", () => {
    const shuffled = [...sourced].reverse();
    const again = insightsOf([...shuffled, sourced[2]]);
    expect(again).toEqual(report);
  });

  it("fills the weekly series from the window's start", () => {
    expect(report.weeks.map((w) => w.from.slice(0, 10))).toEqual([
      "2026-03-01",
      "2026-03-08",
      "2026-03-15",
      "2026-03-22",
      "2026-03-29",
    ]);
    expect(report.weeks.map((w) => w.deploys)).toEqual([1, 2, 0, 0, 0]);
    expect(report.weeks[0].medianLeadTimeMs).toBe(13 * 3_600_000);
  });

  it("renders a table with links to the rollouts behind each number, and two charts", () => {
    const summary = renderInsightsSummary(report);
    expect(summary).toContain(
      "| Deployment frequency | [0.7 per week (3 promoted deploys)](#deployment-frequency) |",
    );
    expect(summary).toContain("[median 1d 12h, p90 4d 23h (6 commits)](#lead-time-for-changes)");
    expect(summary).toContain("[50% (2 of 4 rollouts that reached traffic)](#change-failure-rate)");
    expect(summary).toContain("Low: 40% (nearest)");
    expect(summary).toContain("#### Failed deployment recovery time");
    expect(summary).toContain("[run 1](https://github.com/contoso/shop/actions/runs/4)");
    expect(summary).toContain("bar [1, 2, 0, 0, 0]");
    expect(summary.match(/```mermaid/g)).toHaveLength(2);
    expect(summary).toContain("DORA 2024, indicative");
  });
});

describe("an empty history", () => {
  it("reports no data without inventing any", () => {
    const report = insightsOf([]);
    expect(report.deploymentFrequency).toMatchObject({ deploys: 0, value: 0, trend: "same" });
    expect(report.leadTime.value).toBeUndefined();
    expect(report.changeFailureRate.value).toBeUndefined();
    expect(report.changeFailureRate.band).toBeUndefined();
    expect(report.recoveryTime.trend).toBe("none");
    expect(renderInsightsSummary(report)).toContain("No rollout started in the window.");
  });
});

describe("the band of a value", () => {
  it("is the first cluster whose range holds it, else the nearest", () => {
    const cluster = (key: Parameters<typeof bandOf>[1], value: number) =>
      bandOf(DORA_2024, key, value)?.cluster;
    expect(cluster("deploymentFrequency", 3)).toBe("Elite");
    expect(cluster("deploymentFrequency", 0.5)).toBe("High");
    expect(cluster("deploymentFrequency", 1 / 200)).toBe("Low");
    expect(cluster("leadTime", 3_600_000)).toBe("Elite");
    expect(cluster("recoveryTime", 30 * 60_000)).toBe("Elite");
    expect(cluster("recoveryTime", 3 * 86_400_000)).toBe("Low");
    expect(cluster("changeFailureRate", 0.12)).toBe("Medium");
    expect(cluster("changeFailureRate", 0.02)).toBe("Elite");
    expect(bandOf(DORA_2024, "leadTime", undefined)).toBeUndefined();
  });
});

describe("records", () => {
  const report: DeploymentReport = {
    action: "deploy",
    app: "shop",
    resourceGroup: "rg-shop",
    image: "registry.io/shop:2",
    candidate: "shop--v2",
    previous: "shop--v1",
    result: "promoted",
    reason: "",
    initialTraffic: [],
    finalTraffic: [],
    steps: [10, 50, 100].map((weight, index) => ({
      index: index + 1,
      weight,
      traffic: [],
      startedAt: Date.parse("2026-03-02T09:00:00Z") + index * 60_000,
      durationMs: 60_000,
      checksPassed: 1,
      checksRun: 1,
      ok: true,
    })),
    phases: [],
    dryRun: false,
  };
  const context = {
    startedAt: Date.parse("2026-03-02T08:58:00Z"),
    finishedAt: Date.parse("2026-03-02T09:03:10Z"),
    commit: "abc",
    runUrl: "https://example.test/run/1",
  };

  it("takes first traffic and promotion from the report's traffic steps", () => {
    expect(recordOf(report, context)).toEqual({
      tool: "aca-blue-green",
      version: 1,
      action: "deploy",
      app: "shop",
      resourceGroup: "rg-shop",
      revision: "shop--v2",
      previous: "shop--v1",
      image: "registry.io/shop:2",
      commit: "abc",
      result: "promoted",
      startedAt: "2026-03-02T08:58:00.000Z",
      firstTrafficAt: "2026-03-02T09:00:00.000Z",
      promotedAt: "2026-03-02T09:02:00.000Z",
      finishedAt: "2026-03-02T09:03:10.000Z",
      runUrl: "https://example.test/run/1",
    });
  });

  it("has no first traffic for a failure before traffic, and none for a dry run or status", () => {
    const failed = recordOf({ ...report, result: "failed-before-traffic", steps: [] }, context);
    expect(failed?.firstTrafficAt).toBeUndefined();
    expect(failed?.promotedAt).toBeUndefined();
    expect(recordOf({ ...report, dryRun: true }, context)).toBeUndefined();
    expect(recordOf({ ...report, action: "status" }, context)).toBeUndefined();
  });

  it("reads back only what this tool wrote", () => {
    const written = recordOf(report, context);
    expect(parseRecord(JSON.stringify(written))).toEqual(written);
    expect(parseRecord({})).toBeUndefined();
    expect(parseRecord({ ...written, tool: "other" })).toBeUndefined();
    expect(parseRecord({ ...written, startedAt: "yesterday" })).toBeUndefined();
    expect(parseRecord("not json")).toBeUndefined();
  });
});

describe("windows and statistics", () => {
  it("parses days and weeks within a year", () => {
    expect(parseWindow("30d")).toBe(30 * 86_400_000);
    expect(parseWindow(" 4w ")).toBe(28 * 86_400_000);
    expect(parseWindow("0d")).toBeUndefined();
    expect(parseWindow("400d")).toBeUndefined();
    expect(parseWindow("30")).toBeUndefined();
    expect(parseWindow("1h")).toBeUndefined();
  });

  it("takes the median and the nearest-rank percentile", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeUndefined();
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([5], 90)).toBe(5);
  });
});
