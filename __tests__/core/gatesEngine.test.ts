/**
 * The gates inside the real engine — deploy, its bakes, restore and hold — with the edges as plain
 * values: an in-memory app, an event clock, a probe answering with seeded latencies and errors,
 * and an in-memory Azure Monitor. Proves what each gate decides, and what the run does then.
 */
import lognormal from "@stdlib/random-base-lognormal";
import { deploy } from "../../src/core/actions/deploy.ts";
import type { HttpProbe, HttpRequest } from "../../src/core/checks/run.ts";
import type { HttpLogSummary, RevisionMinute, TrafficMonitor } from "../../src/core/ports.ts";
import { decodeHeldTags } from "../../src/core/tags.ts";
import { FakeApps } from "./support/fakeApps.ts";
import { inputs } from "./support/engine.ts";
import { engineDeps } from "../support/engineWorld.ts";

/** The candidate's label URL: `green` while it is tested, `blue` once it holds production. */
const CANDIDATE_HOSTS = ["shop---green.env.test", "shop---blue.env.test"];
const STABLE_HOST = "shop--v1.env.test";

/** Answers by host: the candidate's label and the stable revision's own URL. */
function seededProbe(options: {
  seed: number;
  stableMs: number;
  candidateMs: number;
  /** Every n-th request of the candidate to a path other than /healthz answers 500. */
  candidateFailsEvery?: number;
}): HttpProbe & { sent: Record<string, number> } {
  const stable = lognormal.factory(Math.log(options.stableMs), 0.4, { seed: options.seed });
  const candidate = lognormal.factory(Math.log(options.candidateMs), 0.4, {
    seed: options.seed + 104_729,
  });
  const sent: Record<string, number> = {};
  let candidateRequests = 0;
  return {
    sent,
    async send(request: HttpRequest) {
      const url = new URL(request.url);
      sent[url.host] = (sent[url.host] ?? 0) + 1;
      const isCandidate = CANDIDATE_HOSTS.includes(url.host);
      let status = 200;
      if (isCandidate && url.pathname !== "/healthz" && options.candidateFailsEvery) {
        candidateRequests++;
        if (candidateRequests % options.candidateFailsEvery === 0) status = 500;
      }
      const latencyMs = isCandidate ? candidate() : stable();
      return { status, headers: {}, body: "{}", latencyMs };
    },
  };
}

const SIDE_BY_SIDE = {
  gates: "side-by-side",
  "step-wait": "60s",
  "check-interval": "10s",
  "smoke-path": "/healthz",
  "side-by-side-requests": "- path: /\n- path: /orders",
  "traffic-steps": "25,100",
};

describe("the side-by-side judge in the engine, on seeded latencies", () => {
  test("a candidate three times slower than stable is rolled back at the first step", async () => {
    const apps = new FakeApps();
    const probe = seededProbe({ seed: 11, stableMs: 40, candidateMs: 120 });
    const deps = engineDeps(apps, probe);
    const report = await deploy(inputs(SIDE_BY_SIDE), deps);
    expect(report.result).toBe("rolled-back");
    expect(report.errorCode).toBe("GateFailed");
    expect(report.steps).toHaveLength(1);
    const latency = report.steps[0].gates?.comparisons.find(
      (c) => c.comparison === "side-by-side latency",
    );
    expect(latency?.verdict).toBe("fail");
    expect(latency?.effect).toBeGreaterThan(2.5);
    // It ended the step early, at a look before the end of the bake.
    expect(report.steps[0].gates?.looks).toBeLessThan(5);
    expect(apps.traffic).toEqual([{ revisionName: "shop--v1", weight: 100, label: "blue" }]);
  });

  test("a candidate 5% slower is promoted: the floor keeps small slowdowns from failing", async () => {
    const apps = new FakeApps();
    const probe = seededProbe({ seed: 12, stableMs: 40, candidateMs: 42 });
    const deps = engineDeps(apps, probe);
    const report = await deploy(inputs(SIDE_BY_SIDE), deps);
    expect(report.reason).toMatch(/passed/);
    expect(report.result).toBe("promoted");
    for (const step of report.steps) {
      expect(step.gates?.verdict).toBe("pass");
      expect(step.gates?.looks).toBe(5);
      const latency = step.gates?.comparisons.find((c) => c.comparison === "side-by-side latency");
      expect(latency?.effect).toBeGreaterThan(0.95);
      expect(latency?.effect).toBeLessThan(1.2);
    }
    // At 5 requests a second for 60 s, each step sent 300 requests to each revision; the
    // candidate's label also got the smoke checks.
    expect(report.steps.map((s) => s.gates?.requestsSent)).toEqual([300, 300]);
    expect(probe.sent[STABLE_HOST]).toBe(600);
    const candidate = CANDIDATE_HOSTS.reduce((sum, host) => sum + (probe.sent[host] ?? 0), 0);
    expect(candidate).toBeGreaterThan(600);
  });

  test("a candidate failing 20% of its pages, whose health check passes, is rolled back by its error rate", async () => {
    const apps = new FakeApps();
    const probe = seededProbe({ seed: 13, stableMs: 40, candidateMs: 40, candidateFailsEvery: 5 });
    const deps = engineDeps(apps, probe);
    const report = await deploy(inputs(SIDE_BY_SIDE), deps);
    expect(report.smoke?.ok).toBe(true);
    expect(report.result).toBe("rolled-back");
    const errors = report.steps[0].gates?.comparisons.find(
      (c) => c.comparison === "side-by-side errors",
    );
    expect(errors?.verdict).toBe("fail");
    expect(errors?.candidate.errorRate).toBeCloseTo(0.2, 1);
    expect(errors?.stable?.errors).toBe(0);
    expect(report.steps[0].checksPassed).toBe(report.steps[0].checksRun);
  });
});

/** Azure Monitor in memory: per-minute requests and log summaries the test sets. */
class MemoryMonitor implements TrafficMonitor {
  minutes: RevisionMinute[] = [];
  logs: HttpLogSummary[] = [];
  async requestsByMinute(range: { from: number; to: number }, revisions: readonly string[]) {
    return this.minutes.filter(
      (m) => revisions.includes(m.revision) && m.minute >= range.from && m.minute <= range.to,
    );
  }
  async httpLogsDestination() {
    return {
      workspaceId:
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/logs",
    };
  }
  async httpLogs() {
    return this.logs;
  }
  async httpLogDurations() {
    return [];
  }
}

describe("a candidate with no traffic ends as `inconclusive` says", () => {
  const NO_TRAFFIC = {
    gates: "production-errors",
    "step-wait": "30s",
    "traffic-steps": "50,100",
    "max-bake-extension": "1m",
    "ingestion-allowance": "30s",
  };

  async function run(policy: string) {
    const apps = new FakeApps();
    const probe = seededProbe({ seed: 21, stableMs: 40, candidateMs: 40 });
    const deps = engineDeps(apps, probe, { monitor: new MemoryMonitor() });
    const report = await deploy(inputs({ ...NO_TRAFFIC, inconclusive: policy }), deps);
    return { apps, report, deps };
  }

  test("fail: rolled back after the longest extension, naming the missing data", async () => {
    const { apps, report, deps } = await run("fail");
    expect(report.result).toBe("rolled-back");
    expect(report.errorCode).toBe("GateInconclusive");
    expect(report.steps[0].gates?.verdict).toBe("inconclusive");
    expect(report.steps[0].gates?.extendedMs).toBe(60_000);
    expect(report.steps[0].gates?.looks).toBe(10);
    expect(report.reason).toMatch(/0 requests; 100 are needed/);
    expect(apps.traffic).toEqual([{ revisionName: "shop--v1", weight: 100, label: "blue" }]);
    expect(deps.log.lines.some((l) => l.includes("Waiting up to"))).toBe(true);
  });

  test("pass: promoted, with a warning at each step", async () => {
    const { apps, report, deps } = await run("pass");
    expect(report.result).toBe("promoted");
    expect(report.steps.map((s) => s.gates?.verdict)).toEqual(["inconclusive", "inconclusive"]);
    expect(deps.log.lines.filter((l) => l.startsWith("warning: Gates of step"))).toHaveLength(2);
    expect(apps.traffic[0]).toMatchObject({ revisionName: "shop--v2", weight: 100 });
  });

  test("hold: stopped at the step's traffic as a held deployment", async () => {
    const { apps, report } = await run("hold");
    expect(report.result).toBe("held");
    expect(report.errorCode).toBe("GateInconclusive");
    expect(apps.traffic).toEqual([
      { revisionName: "shop--v1", weight: 50, label: "blue" },
      { revisionName: "shop--v2", weight: 50, label: "green" },
    ]);
    const held = decodeHeldTags(apps.tags);
    expect(held?.candidate).toBe("shop--v2");
    expect(held?.done).toBe(1);
    expect(held?.before).toEqual([{ revisionName: "shop--v1", weight: 100, label: "blue" }]);
  });

  test("hold at the last step: the candidate keeps 100%, held for a person to promote or reject", async () => {
    const apps = new FakeApps();
    const probe = seededProbe({ seed: 22, stableMs: 40, candidateMs: 40 });
    const deps = engineDeps(apps, probe, { monitor: new MemoryMonitor() });
    const report = await deploy(
      inputs({ ...NO_TRAFFIC, "traffic-steps": "100", inconclusive: "hold" }),
      deps,
    );
    expect(report.result).toBe("held");
    expect(apps.traffic[0]).toMatchObject({ revisionName: "shop--v2", weight: 100 });
    const held = decodeHeldTags(apps.tags);
    expect(held?.done).toBe(1);
    expect(held?.before).toEqual([{ revisionName: "shop--v1", weight: 100, label: "blue" }]);
    // Nothing was deactivated: the old revision stays ready for a reject.
    expect(apps.writes.filter((w) => w.startsWith("deactivate"))).toEqual([]);
  });
});
