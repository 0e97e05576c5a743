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
  it("shows a promotion at a glance, outcome first", () => {
    const markdown = renderSummary(report());
    const lines = markdown.split("\n");
    expect(lines[0]).toBe("## ✅ Promoted · `my-api`");
    expect(lines[2]).toBe(
      "**Result:** `promoted`: `deploy` of `my-api--v2` on container app `my-api` in resource group `rg-prod`.",
    );
    expect(lines[4]).toBe("**Why:** All 2 traffic steps passed; my-api--v2 now serves production.");
    expect(markdown).not.toContain("Next steps");
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
    const smoke = section(markdown, "Pre-traffic smoke checks");
    expect(smoke).toContain("Passed on the label URL before any production traffic moved: 1 of 1.");
    expect(smoke).toContain(
      "| GET /health | https://my-api---green.example.io/health | ✅ | 200 | 42 ms |  |",
    );
    const final = section(markdown, "Final traffic");
    expect(final).toContain("| my-api--v2 | 100% | blue |\n| my-api--v1 | 0% | previous |");
    expect(final).toContain("Before the run: my-api--v1 100% (blue)");
    expect(markdown).not.toContain("Error code");
    const order = [
      "**Result:**",
      "### What was deployed",
      "### Traffic timeline",
      "### Final traffic",
    ];
    const positions = order.map((text) => markdown.indexOf(text));
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it("charts phases and steps over time for GitHub, and keeps the table for Azure Pipelines", () => {
    const timed = report({
      phases: [
        { phase: "Snapshot", startedAt: 1_000, durationMs: 850 },
        { phase: "Traffic shift", startedAt: 2_000, durationMs: 73_300 },
      ],
      steps: report().steps.map((step) => ({ ...step, startedAt: step.startedAt + 2_000 })),
    });
    const github = renderSummary(timed, { flavour: "github" });
    const chart = section(github, "Phases over time");
    expect(chart).toContain("Total: 1m 14s.");
    expect(chart).toContain(
      [
        "```mermaid",
        "gantt",
        "    dateFormat x",
        "    axisFormat %H:%M:%S",
        "    todayMarker off",
        "    section Phases",
        "    Snapshot (850 ms) :1000, 1850",
        "    Traffic shift (1m 13s) :2000, 75300",
        "    section Traffic steps",
        "    Step 1 at 10% (1m 00s) :done, 2000, 62400",
        "    Step 2 at 100% (12.3 s) :done, 63000, 75300",
        "```",
      ].join("\n"),
    );
    expect(github).not.toContain("### Phase durations");

    const pipelines = renderSummary(timed, { flavour: "azure-pipelines" });
    expect(pipelines).not.toContain("mermaid");
    const phases = section(pipelines, "Phase durations");
    expect(phases).toContain("| Snapshot | 850 ms |");
    expect(phases).toContain("| Traffic shift | 1m 13s |");
    expect(phases).toContain("| **Total** | **1m 14s** |");
  });

  it("marks the failed step in the chart", () => {
    const failed = report({
      result: "rolled-back",
      phases: [{ phase: "Traffic shift", startedAt: 0, durationMs: 5_000 }],
      steps: [{ ...report().steps[0], durationMs: 5_000, ok: false, failure: "GET /: status 500" }],
    });
    expect(section(renderSummary(failed), "Phases over time")).toContain(
      "    Step 1 at 10% (5.0 s) :crit, 0, 5000",
    );
  });

  it("explains a rollback: outcome, then the failing round, and the passing smoke checks as such", () => {
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
            failedRound: {
              ok: false,
              results: [
                {
                  check: "GET /",
                  url: "https://my-api---green.example.io/",
                  ok: true,
                  status: 200,
                  latencyMs: 30,
                },
                {
                  check: "GET /health",
                  url: "https://my-api---green.example.io/health",
                  ok: false,
                  status: 500,
                  latencyMs: 12,
                  failure: "status 500, expected 200-399",
                },
              ],
            },
          },
        ],
      }),
    );
    const lines = markdown.split("\n");
    expect(lines[0]).toBe("## ↩️ Rolled back · `my-api`");
    expect(lines[2]).toBe(
      "**Result:** `rolled-back`: `deploy` of `my-api--v2` on container app `my-api` in resource group `rg-prod`.",
    );
    expect(lines[4]).toBe(
      "**Why:** Checks failed at step 2 (50% to my-api--v2): status 500, expected 200-399.",
    );
    expect(markdown).toContain("**Error code:** `ChecksFailedDuringShift`");
    expect(markdown).toContain(
      [
        "**Next steps:**",
        "",
        "- The previous traffic was restored; fix the release and deploy again.",
        "- Read what `my-api--v2` logged: `az containerapp logs show -n my-api -g rg-prod --revision my-api--v2 --type console`.",
        "- See the revisions and their traffic: `az containerapp revision list -n my-api -g rg-prod -o table`.",
      ].join("\n"),
    );
    const failing = section(
      markdown,
      "❌ Failing checks at step 2 (50% of traffic to the candidate)",
    );
    expect(failing).toContain("The round of checks that failed the step: 1 of 2 passed.");
    expect(failing).toContain(
      "| GET /health | https://my-api---green.example.io/health | ❌ | 500 | 12 ms | status 500, expected 200-399 |",
    );
    expect(section(markdown, "Traffic timeline")).toContain(
      "| 2 | 50% | my-api--v1 50% (blue), my-api--v2 50% (green) | 1/2 | 4.0 s | ❌ GET /health: status 500, expected 200-399 |",
    );
    // The smoke checks passed before any traffic moved: said so, and after the failing round.
    const smoke = section(markdown, "Pre-traffic smoke checks");
    expect(smoke).toContain("Passed on the label URL before any production traffic moved: 1 of 1.");
    expect(markdown.indexOf("### ❌ Failing checks")).toBeLessThan(
      markdown.indexOf("### Pre-traffic smoke checks"),
    );
    expect(markdown).not.toMatch(/^\d+ of \d+ passed\.?$/m);
    expect(section(markdown, "Final traffic")).not.toContain("Before the run");
  });

  it("names the real app and resource group in next steps, never a placeholder", () => {
    const markdown = renderSummary(
      report({
        app: "shop",
        resourceGroup: "rg-shop",
        candidate: "shop--v3",
        result: "failed",
        reason: "Revision shop--v3 did not become ready: provisioning failed.",
        nextSteps:
          "Look at the revision's system and console logs: `az containerapp logs show -n shop -g rg-shop --revision shop--v3 --type system`.",
      }),
    );
    const next = markdown.slice(markdown.indexOf("**Next steps:**"));
    expect(next).toContain("-n shop -g rg-shop");
    expect(next).not.toMatch(/<[a-z-]+>/);
  });

  it("never doubles punctuation where the run's sentences end", () => {
    const markdown = renderSummary(
      report({
        result: "failed",
        reason:
          "Updating traffic of my-api failed: Cannot modify container App 'my-api' because another modification is in progress. Please retry the operation..",
        nextSteps: "Nothing was changed; fix the cause and run again.;",
      }),
    );
    const why = markdown.split("\n").find((line) => line.startsWith("**Why:**")) ?? "";
    expect(why).toMatch(/Please retry the operation\.$/);
    expect(markdown).toContain("- Nothing was changed; fix the cause and run again.\n");
    expect(markdown).not.toMatch(/[.;:,]\.(\s|$)/);
    expect(renderSummary(report({ reason: "Rolled back" }))).toContain("**Why:** Rolled back.\n");
  });

  it("says production traffic never moved when the run failed before traffic", () => {
    const markdown = renderSummary(
      report({
        result: "failed-before-traffic",
        reason:
          "Smoke checks on https://my-api---green.example.io did not pass within `smoke-timeout` (2m 00s).",
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
    const smoke = section(markdown, "❌ Pre-traffic smoke checks");
    expect(smoke).toContain(
      "Failed on the label URL, so no production traffic moved: 0 of 2 passed in the last round.",
    );
    expect(smoke).toContain(
      "| GET /health | https://my-api---green.example.io/health | ❌ |  |  | connection refused |",
    );
    expect(smoke).toContain(
      '| POST /orders | https://my-api---green.example.io/orders | ❌ | 500 | 1.3 s | status 500, expected 200-399; body lacks "ok" |',
    );
    // The failing round comes straight after the outcome, before what was deployed.
    expect(markdown.indexOf("### ❌ Pre-traffic smoke checks")).toBeLessThan(
      markdown.indexOf("### What was deployed"),
    );
  });

  it("marks a held deployment and an unchanged run", () => {
    const held = renderSummary(report({ result: "held" }));
    expect(held.split("\n")[0]).toBe("## ⏸️ Held · `my-api`");
    expect(held).toContain(
      "**Next steps:** Look at `my-api--v2` on its label URL, then run this step again with `action: promote` or `action: reject`.",
    );
    const unchanged = renderSummary(
      report({ result: "unchanged", steps: [], smoke: undefined, finalTraffic: BEFORE }),
    );
    expect(unchanged.split("\n")[0]).toBe("## ➖ Unchanged · `my-api`");
    expect(unchanged).toContain("No traffic was shifted in this run.");
    expect(unchanged).not.toContain("smoke checks");
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
    expect(markdown).toContain("**Result:** `dry run (unchanged)`");
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
    expect(markdown).toContain("**Why:** Body was # not a heading.");
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
    expect(markdown).not.toContain("### Phases over time");
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
      diagnostics: "",
      gates: "",
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

describe("the diagnostics of a failed candidate", () => {
  const diagnostics = {
    revision: "my-api--v2",
    errorCode: "SmokeChecksFailed",
    collectedAt: "2026-11-27T10:00:00.000Z",
    durationMs: 1_200,
    state: {
      active: true,
      provisioningState: "Provisioned",
      runningState: "Running",
      healthState: "Healthy",
      replicas: 1,
    },
    replicas: [
      {
        name: "my-api--v2-5d9f-abcde",
        runningState: "Running",
        containers: [
          { name: "api", ready: true, started: true, restartCount: 0, runningState: "Running" },
        ],
      },
    ],
    console: [
      {
        replica: "my-api--v2-5d9f-abcde",
        container: "api",
        lines: [
          { time: "2026-11-27T09:59:59.000Z", stream: "stdout" as const, text: "Starting api" },
          {
            time: "2026-11-27T10:00:00.000Z",
            stream: "stderr" as const,
            text: "ERROR request r-1: ``` GET /health answered 500 </details>",
          },
        ],
      },
    ],
    systemEvents: [{ type: "Normal", reason: "AssigningReplica", message: "Replica scheduled" }],
    failedRequest: {
      check: "GET /health",
      method: "GET",
      url: "https://my-api---green.example.io/health",
      status: 500,
      latencyMs: 12,
      failure: "status 500, expected 200-399",
      headers: { "x-request-id": "r-1" },
      bodyPrefix: '{"error":"boom"}',
    },
    warnings: ["Could not read the system events of my-api--v2: the log stream answered 503"],
  };

  it("comes collapsed after the failing checks, its headline in the summary line", () => {
    const markdown = renderSummary(
      report({ result: "failed-before-traffic", reason: "Smoke checks failed.", diagnostics }),
    );
    const start = markdown.indexOf("<details>");
    const end = markdown.indexOf("\n</details>");
    expect(start).toBeGreaterThan(0);
    expect(markdown.indexOf("### What was deployed")).toBeGreaterThan(end);
    const block = markdown.slice(start, end);
    expect(block).toContain(
      "<summary><strong>🔎 Diagnostics of my-api--v2</strong>: provisioning Provisioned, running Running, health Healthy, 1 replica; 2 console lines; 1 system event</summary>\n\n",
    );
    expect(block).toContain(
      "| my-api--v2-5d9f-abcde | Running | api | Running, ready, started, 0 restarts |",
    );
    expect(block).toContain(
      "**Failed request** (`GET /health`): `GET https://my-api---green.example.io/health -> 500 in 12 ms`: status 500, expected 200-399",
    );
    expect(block).toContain("| x-request-id | r-1 |");
    // The app's own text cannot close the block it is shown in.
    expect(block).toContain(
      "````text\n2026-11-27T09:59:59.000Z stdout Starting api\n2026-11-27T10:00:00.000Z stderr ERROR request r-1: ``` GET /health answered 500 </details>\n````",
    );
    expect(block).toContain(
      "- ⚠️ Could not read the system events of my-api--v2: the log stream answered 503",
    );
    expect(renderOutputs(report({ diagnostics })).diagnostics).toBe(JSON.stringify(diagnostics));
  });

  it("is absent when nothing was collected", () => {
    const markdown = renderSummary(report());
    expect(markdown).not.toContain("<details>");
    expect(renderOutputs(report()).diagnostics).toBe("");
  });
});

describe("the changes a deploy made beyond traffic", () => {
  test("are listed by scope, with the warnings, the added secrets and what a restore left", () => {
    const markdown = renderSummary(
      report({
        result: "rolled-back",
        changes: [
          { scope: "revision", what: "env of api: +FEATURE_X" },
          {
            scope: "application",
            what: "secret api-key added",
            note: "new name, safe for blue; stays after a restore",
          },
        ],
        warnings: ["Application scope: secret db gets a new value — used by my-api--v1."],
        addedSecrets: ["api-key"],
        notRestored: ["the revision mode stays Multiple"],
      }),
    );
    const section = markdown.slice(markdown.indexOf("### Changes"));
    expect(section).toContain(
      "**Revision scope** (the new revision only):\n\n- env of api: +FEATURE_X",
    );
    expect(section).toContain(
      "**Application scope** (every revision at once, blue included):\n\n- secret api-key added (new name, safe for blue; stays after a restore)",
    );
    expect(section).toContain("> ⚠️ Application scope: secret db gets a new value");
    expect(section).toContain("**Secrets added:** `api-key`.");
    expect(section).toContain(
      "**Not put back by the restore:**\n\n- the revision mode stays Multiple",
    );
  });

  test("are left out when there are none", () => {
    expect(renderSummary(report())).not.toContain("### Changes");
  });
});
