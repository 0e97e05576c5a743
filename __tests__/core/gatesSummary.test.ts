/**
 * The gates in the summary and the `gates` output, from a report with plain values.
 */
import type { StepGates } from "../../src/core/judge/types.ts";
import { renderOutputs, renderSummary } from "../../src/core/report/summary.ts";
import type { DeploymentReport, StepRecord } from "../../src/core/types.ts";

const failed: StepGates = {
  verdict: "fail",
  reason: "production 5xx rate: 18% of 100 requests failed",
  looks: 2,
  extendedMs: 0,
  waitedMs: 0,
  requestsSent: 48,
  comparisons: [
    {
      comparison: "side-by-side latency",
      verdict: "pass",
      reason:
        "1.02× the stable revision's latency: not significantly above the 1.2× floor (p = 0.929)",
      alpha: 1.25e-4,
      pValue: 0.929,
      effect: 1.02,
      floor: 1.2,
      candidate: {
        revision: "shop--v2",
        samples: 43,
        errors: 0,
        errorRate: 0,
        p50: 10,
        p95: 24,
        p99: 30,
      },
      stable: {
        revision: "shop--v1",
        samples: 43,
        errors: 0,
        errorRate: 0,
        p50: 9,
        p95: 37,
        p99: 50,
      },
    },
    {
      comparison: "production 5xx rate",
      verdict: "fail",
      reason:
        "18% of 100 requests failed, significantly above the 5% ceiling (p = 2.2e-6 < 1.3e-4)",
      alpha: 1.25e-4,
      pValue: 2.2e-6,
      effect: 0.18,
      floor: 0.05,
      candidate: { revision: "shop--v2", samples: 100, errors: 18, errorRate: 0.18 },
      window: { from: 0, to: 60_000 },
    },
  ],
};

function step(index: number, ok: boolean, gates: StepGates): StepRecord {
  return {
    index,
    weight: index === 1 ? 10 : 100,
    traffic: [],
    startedAt: 0,
    durationMs: 2_700,
    checksPassed: 5,
    checksRun: 5,
    ok,
    gates,
  };
}

function report(steps: StepRecord[]): DeploymentReport {
  return {
    action: "deploy",
    app: "shop",
    resourceGroup: "rg",
    candidate: "shop--v2",
    result: "rolled-back",
    reason: "Gates failed at step 1.",
    initialTraffic: [],
    finalTraffic: [],
    steps,
    phases: [],
    dryRun: false,
  };
}

test("the step whose gates failed is shown under the outcome, with every comparison", () => {
  const summary = renderSummary(report([step(1, false, failed)]));
  const top = summary.indexOf("### ❌ Failing gates at step 1 (10% of traffic to the candidate)");
  expect(top).toBeGreaterThan(0);
  expect(top).toBeLessThan(summary.indexOf("### What was deployed"));
  expect(summary).toContain(
    "| production 5xx rate | ❌ fail | 100 req, 18% err |  | 18% (ceiling 5%) | 2.2e-6 | 1.3e-4 |",
  );
  expect(summary).toContain("43 req, 0% err, p50 10 ms · p95 24 ms · p99 30 ms");
  expect(summary).toContain("1.02× (floor 1.2×)");
  expect(summary).toContain("Each comparison at each look needed p < 1.3e-4");
  // Shown once: no second section repeats the same step.
  expect(summary).not.toContain("### Gates");
});

test("steps that passed get their own section; the output carries every verdict as JSON", () => {
  const passed: StepGates = {
    ...failed,
    verdict: "pass",
    reason: "all passed",
    comparisons: [failed.comparisons[0]],
  };
  const full = report([step(1, true, passed), step(2, false, failed)]);
  const summary = renderSummary(full);
  expect(summary).toContain("### Gates");
  expect(summary).toContain("#### Step 1 at 10%");
  expect(summary).toContain(
    "**✅ pass** · 2 looks · 48 side-by-side requests to each revision: all passed",
  );
  const output = JSON.parse(renderOutputs(full).gates) as { verdict: string; steps: unknown[] };
  expect(output.verdict).toBe("fail");
  expect(output.steps).toHaveLength(2);
  expect(output.steps[1]).toMatchObject({ step: 2, weight: 100, verdict: "fail", looks: 2 });
});

test("without gates, the output is empty and the summary has no gates", () => {
  const plain = report([{ ...step(1, true, failed), gates: undefined }]);
  expect(renderOutputs(plain).gates).toBe("");
  const summary = renderSummary(plain);
  expect(summary).not.toContain("### Gates");
  expect(summary).not.toContain("Failing gates");
});
