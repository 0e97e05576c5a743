import { OUTPUTS } from "../../src/core/inputs/schema.ts";
import {
  formatDuration,
  formatShortDuration,
  formatStepProgress,
  formatTraffic,
} from "../../src/core/report/format.ts";
import { renderOutputs, renderSummary } from "../../src/core/report/summary.ts";
import type { DeploymentReport, TrafficWeight } from "../../src/core/types.ts";

const BEFORE: TrafficWeight[] = [{ revisionName: "my-api--v1", weight: 100, label: "blue" }];
const AFTER: TrafficWeight[] = [
  { revisionName: "my-api--v2", weight: 100, label: "blue" },
  { revisionName: "my-api--v1", weight: 0, label: "previous" },
];
const split = (candidate: number): TrafficWeight[] => [
  { revisionName: "my-api--v1", weight: 100 - candidate, label: "blue" },
  { revisionName: "my-api--v2", weight: candidate, label: "green" },
];

function report(overrides: Partial<DeploymentReport> = {}): DeploymentReport {
  return {
    action: "deploy",
    app: "my-api",
    resourceGroup: "rg-prod",
    image: "myregistry.azurecr.io/api:1.4.2",
    candidate: "my-api--v2",
    previous: "my-api--v1",
    result: "promoted",
    reason: "All 2 traffic steps passed; my-api--v2 now serves production.",
    initialTraffic: BEFORE,
    finalTraffic: AFTER,
    smoke: {
      ok: true,
      results: [
        {
          check: "GET /health",
          url: "https://my-api---green.example.io/health",
          ok: true,
          status: 200,
          latencyMs: 42,
        },
      ],
    },
    steps: [
      {
        index: 1,
        weight: 10,
        traffic: split(10),
        startedAt: 0,
        durationMs: 60_400,
        checksPassed: 6,
        checksRun: 6,
        ok: true,
      },
      {
        index: 2,
        weight: 100,
        traffic: split(100),
        startedAt: 61_000,
        durationMs: 12_300,
        checksPassed: 2,
        checksRun: 2,
        ok: true,
      },
    ],
    phases: [
      { phase: "snapshot", durationMs: 850 },
      { phase: "readiness", durationMs: 245_000 },
    ],
    labelUrl: "https://my-api---green.example.io",
    appUrl: "https://my-api.example.io",
    dryRun: false,
    ...overrides,
  };
}

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`### ${heading}`);
  expect(start).toBeGreaterThanOrEqual(0);
  const next = markdown.indexOf("\n### ", start + 4);
  return markdown.slice(start, next === -1 ? undefined : next);
}

describe("renderSummary", () => {
  it("shows a promotion at a glance", () => {
    const markdown = renderSummary(report());
    expect(markdown.split("\n")[0]).toBe("## ✅ Promoted · `my-api`");
    expect(section(markdown, "What was deployed")).toContain(
      "- **Image:** `myregistry.azurecr.io/api:1.4.2`\n- **Candidate revision:** `my-api--v2`\n- **Previous revision:** `my-api--v1`\n- **Label URL:** <https://my-api---green.example.io>\n- **App URL:** <https://my-api.example.io>",
    );
    const timeline = section(markdown, "Traffic timeline");
    expect(timeline).toContain(
      "| Step | To candidate | Traffic split | Checks passed | Duration | Result |\n| ---: | ---: | --- | ---: | ---: | --- |",
    );
    expect(timeline).toContain(
      "| 1 | 10% | my-api--v1 90% (blue), my-api--v2 10% (green) | 6/6 | 1m 00s | ✅ passed |",
    );
    expect(timeline).toContain(
      "| 2 | 100% | my-api--v1 0% (blue), my-api--v2 100% (green) | 2/2 | 12.3 s | ✅ passed |",
    );
    expect(section(markdown, "Smoke checks")).toContain(
      "| GET /health | https://my-api---green.example.io/health | ✅ | 200 | 42 ms |  |",
    );
    expect(section(markdown, "Outcome")).toContain("**Result:** `promoted`");
    const phases = section(markdown, "Phase durations");
    expect(phases).toContain("| snapshot | 850 ms |");
    expect(phases).toContain("| readiness | 4m 05s |");
    expect(phases).toContain("| **Total** | **4m 06s** |");
    const final = section(markdown, "Final traffic");
    expect(final).toContain("| my-api--v2 | 100% | blue |\n| my-api--v1 | 0% | previous |");
    expect(final).toContain("Before the run: my-api--v1 100% (blue)");
    expect(markdown).not.toContain("Error code");
  });

  it("explains a rollback with the failing step, the error code and next steps", () => {
    const markdown = renderSummary(
      report({
        result: "rolled-back",
        reason: "Checks failed at step 2 (50% to my-api--v2): status 500, expected 200-399.",
        errorCode: "ChecksFailedDuringShift",
        nextSteps: "The previous traffic was restored; fix the release and deploy again.",
        finalTraffic: BEFORE,
        steps: [
          { ...report().steps[0] },
          {
            index: 2,
            weight: 50,
            traffic: split(50),
            startedAt: 61_000,
            durationMs: 4_000,
            checksPassed: 1,
            checksRun: 2,
            ok: false,
            failure: "GET /health: status 500, expected 200-399",
          },
        ],
      }),
    );
    expect(markdown.split("\n")[0]).toBe("## ↩️ Rolled back · `my-api`");
    expect(section(markdown, "Traffic timeline")).toContain(
      "| 2 | 50% | my-api--v1 50% (blue), my-api--v2 50% (green) | 1/2 | 4.0 s | ❌ GET /health: status 500, expected 200-399 |",
    );
    const outcome = section(markdown, "Outcome");
    expect(outcome).toContain("**Result:** `rolled-back`");
    expect(outcome).toContain(
      "**Why:** Checks failed at step 2 (50% to my-api--v2): status 500, expected 200-399.",
    );
    expect(outcome).toContain("**Error code:** `ChecksFailedDuringShift`");
    expect(outcome).toContain(
      "**Next steps:** The previous traffic was restored; fix the release and deploy again.",
    );
    expect(section(markdown, "Final traffic")).not.toContain("Before the run");
  });

  it("says production traffic never moved when the run failed before traffic", () => {
    const markdown = renderSummary(
      report({
        result: "failed-before-traffic",
        reason:
          "Smoke checks on https://my-api---green.example.io did not pass within smoke-timeout (2m 00s).",
        errorCode: "SmokeChecksFailed",
        finalTraffic: BEFORE,
        steps: [],
        smoke: {
          ok: false,
          results: [
            {
              check: "GET /health",
              url: "https://my-api---green.example.io/health",
              ok: false,
              failure: "connection refused",
            },
            {
              check: "POST /orders",
              url: "https://my-api---green.example.io/orders",
              ok: false,
              status: 500,
              latencyMs: 1_250,
              failure: 'status 500, expected 200-399; body lacks "ok"',
            },
          ],
        },
      }),
    );
    expect(markdown.split("\n")[0]).toBe("## ❌ Failed before traffic · `my-api`");
    expect(section(markdown, "Traffic timeline")).toContain(
      "No traffic was shifted: production traffic never reached the candidate.",
    );
    const smoke = section(markdown, "Smoke checks");
    expect(smoke).toContain("0 of 2 passed; the last round is shown.");
    expect(smoke).toContain(
      "| GET /health | https://my-api---green.example.io/health | ❌ |  |  | connection refused |",
    );
    expect(smoke).toContain(
      '| POST /orders | https://my-api---green.example.io/orders | ❌ | 500 | 1.3 s | status 500, expected 200-399; body lacks "ok" |',
    );
  });

  it("marks a held deployment and an unchanged run", () => {
    expect(renderSummary(report({ result: "held" })).split("\n")[0]).toBe("## ⏸️ Held · `my-api`");
    const unchanged = renderSummary(
      report({ result: "unchanged", steps: [], smoke: undefined, finalTraffic: BEFORE }),
    );
    expect(unchanged.split("\n")[0]).toBe("## ➖ Unchanged · `my-api`");
    expect(unchanged).toContain("No traffic was shifted in this run.");
    expect(unchanged).not.toContain("### Smoke checks");
    expect(renderSummary(report({ result: "failed" })).split("\n")[0]).toBe(
      "## ❌ Failed · `my-api`",
    );
  });

  it("shows the planned traffic of a dry run", () => {
    const markdown = renderSummary(
      report({
        dryRun: true,
        result: "unchanged",
        reason: "Dry run: the plan was printed and nothing was changed.",
        steps: [],
        smoke: undefined,
        finalTraffic: BEFORE,
        plan: [split(0), split(10), split(100)],
      }),
    );
    expect(markdown.split("\n")[0]).toBe("## 🧪 Dry run · `my-api`");
    expect(markdown).toContain("### What would be deployed");
    const planned = section(markdown, "Planned traffic");
    expect(planned).toContain("Nothing was changed in Azure.");
    expect(planned).toContain("| 1 | 0% | my-api--v1 100% (blue), my-api--v2 0% (green) |");
    expect(planned).toContain("| 2 | 10% | my-api--v1 90% (blue), my-api--v2 10% (green) |");
    expect(planned).toContain("| 3 | 100% | my-api--v1 0% (blue), my-api--v2 100% (green) |");
    expect(markdown).toContain("### Traffic (unchanged)");
    expect(markdown).not.toContain("### Traffic timeline");
  });

  it("keeps text from the run from breaking tables and lines", () => {
    const markdown = renderSummary(
      report({
        result: "rolled-back",
        reason: "Body was\n# not a heading",
        smoke: {
          ok: false,
          results: [
            {
              check: "GET /a|b",
              url: "https://x/a|b",
              ok: false,
              failure: 'body lacks "a|b"\nsecond line',
            },
          ],
        },
      }),
    );
    expect(markdown).toContain("**Why:** Body was # not a heading");
    expect(markdown).toContain(
      '| GET /a\\|b | https://x/a\\|b | ❌ |  |  | body lacks "a\\|b" second line |',
    );
  });

  it("says so when the run stopped before choosing a revision", () => {
    const markdown = renderSummary(
      report({
        result: "failed",
        image: undefined,
        candidate: undefined,
        previous: undefined,
        labelUrl: undefined,
        appUrl: undefined,
        steps: [],
        phases: [],
        smoke: undefined,
        finalTraffic: [],
        initialTraffic: [],
      }),
    );
    expect(markdown).toContain("Nothing: the run stopped before choosing a revision.");
    expect(markdown).toContain("The app reported no traffic entries.");
    expect(markdown).not.toContain("### Phase durations");
  });
});

describe("renderOutputs", () => {
  it("gives every output of the schema", () => {
    const outputs = renderOutputs(report());
    expect(Object.keys(outputs)).toEqual(OUTPUTS.map((output) => output.name));
    expect(outputs).toEqual({
      result: "promoted",
      revision: "my-api--v2",
      "previous-revision": "my-api--v1",
      "label-url": "https://my-api---green.example.io",
      "app-url": "https://my-api.example.io",
      traffic: JSON.stringify(AFTER),
      image: "myregistry.azurecr.io/api:1.4.2",
      status: "",
      insights: "",
    });
    expect(JSON.parse(outputs.traffic)).toEqual(AFTER);
  });

  it("leaves outputs empty that the run never reached", () => {
    const outputs = renderOutputs(
      report({ result: "failed", candidate: undefined, labelUrl: undefined, finalTraffic: BEFORE }),
    );
    expect(outputs.result).toBe("failed");
    expect(outputs.revision).toBe("");
    expect(outputs["label-url"]).toBe("");
    expect(JSON.parse(outputs.traffic)).toEqual(BEFORE);
  });
});

describe("format", () => {
  it.each([
    [0, "0 ms"],
    [850, "850 ms"],
    [999.6, "1.0 s"],
    [12_345, "12.3 s"],
    [59_940, "59.9 s"],
    [59_960, "1m 00s"],
    [245_000, "4m 05s"],
    [3_725_000, "1h 02m 05s"],
  ])("formatDuration(%d) is %j", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([
    [250, "250ms"],
    [60_000, "60s"],
    [1_500, "1.5s"],
    [90_000, "90s"],
    [900_000, "15m"],
    [750_000, "12m 30s"],
    [7_200_000, "2h"],
  ])("formatShortDuration(%d) is %j", (ms, text) => {
    expect(formatShortDuration(ms)).toBe(text);
  });

  it("formats traffic with weights and labels", () => {
    expect(
      formatTraffic([
        { revisionName: "app--v1", weight: 90, label: "blue" },
        { revisionName: "app--v2", weight: 10, label: "green" },
        { revisionName: "app--v0", weight: 0 },
      ]),
    ).toBe("app--v1 90% (blue), app--v2 10% (green), app--v0 0%");
    expect(formatTraffic([])).toBe("no traffic entries");
  });

  it("formats a step's progress", () => {
    const step = { index: 2, total: 3, weight: 50, label: "green", bakeMs: 60_000 };
    expect(formatStepProgress({ ...step, checksPassed: 6, checksRun: 6 })).toBe(
      "[2/3] 50% -> green, baking 60s, checks 6/6 ok",
    );
    expect(formatStepProgress({ ...step, checksPassed: 4, checksRun: 6 })).toBe(
      "[2/3] 50% -> green, baking 60s, checks 4/6, 2 failed",
    );
    expect(formatStepProgress({ ...step, bakeMs: 0, checksPassed: 0, checksRun: 0 })).toBe(
      "[2/3] 50% -> green, no bake, checks pending",
    );
  });
});
