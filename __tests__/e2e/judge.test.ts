/**
 * The gates end to end: the real Action bundle against the emulator, whose Azure Monitor stand-ins
 * answer from the requests its ingress really routed. Durations are short but real; every
 * verdict is proved from the emulator's journals and the app's final state.
 */
import type { AppView, Emulator, IngressJournalEntry } from "../../emulator/types.ts";
import { stepWindows } from "../../emulator/rehearsal.ts";
import {
  RESOURCE_GROUP,
  expectInvariants,
  image,
  runAction,
  startLoad,
  startWorld,
  type ActionRun,
} from "./harness.ts";
import { runTask } from "./taskHarness.ts";

/** An environment whose diagnostic setting sends its HTTP logs to a workspace. */
const ENVIRONMENT = "env-judged";

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startWorld();
});
afterAll(async () => {
  await emulator?.stop();
});

function seed(app: string): Promise<AppView> {
  return emulator.seed({
    resourceGroup: RESOURCE_GROUP,
    environment: ENVIRONMENT,
    workspace: { name: "logs-judged" },
    app,
    revisions: [{ suffix: "v1", image: image("healthy") }],
    traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
  });
}

const FAST = {
  "check-interval": "500ms",
  "smoke-timeout": "10s",
  "readiness-timeout": "30s",
  "smoke-path": "/healthz",
};

interface GatesOutput {
  verdict: string;
  steps: {
    step: number;
    weight: number;
    verdict: string;
    reason: string;
    looks: number;
    extendedMs: number;
    waitedMs: number;
    comparisons: {
      comparison: string;
      verdict: string;
      reason: string;
      candidate: { revision: string; samples: number; errors?: number };
      stable?: { revision: string; samples: number; errors?: number };
      window?: { from: number; to: number };
    }[];
  }[];
}

function gates(run: ActionRun): GatesOutput {
  return JSON.parse(run.outputs.gates) as GatesOutput;
}

const BEFORE = (app: string) => [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }];

describe("Given an app with production traffic, and a candidate failing 20% of its pages behind a passing health check", () => {
  test("the production 5xx gate rolls it back at the first step, judging complete windows of late metrics", async () => {
    const app = "judge-prod-5xx";
    const view = await seed(app);
    emulator.setIngestionDelay(1000);
    const load = startLoad(emulator, view.fqdn);
    let run: ActionRun;
    try {
      run = await runAction(emulator, {
        inputs: {
          "container-app": app,
          image: image("errors-20"),
          "revision-suffix": "v2",
          "traffic-steps": "50,100",
          "step-wait": "8s",
          gates: "production-errors",
          "min-requests": "30",
          "ingestion-allowance": "2s",
          "max-bake-extension": "0s",
          ...FAST,
        },
      });
    } finally {
      await load.stop();
      emulator.setIngestionDelay(0);
    }
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("rolled-back");
    // The smoke checks passed, before and during the step: only the gate saw the failures.
    expect(run.stdout).toContain("GateFailed");
    expect(run.stdout).not.toMatch(/ChecksFailedDuringShift|SmokeChecksFailed/);
    const verdicts = gates(run);
    expect(verdicts.verdict).toBe("fail");
    expect(verdicts.steps).toHaveLength(1);
    const failed = verdicts.steps[0].comparisons.filter((c) => c.verdict === "fail");
    // The production 5xx gate caught it: by its rate against the threshold, or against stable's
    // rate, whichever look came first (the step ends at the first failing look).
    expect(failed.map((c) => c.comparison)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^production 5xx (rate|vs stable)$/)]),
    );

    // Each count is that of a complete window: every request the ingress routed to the
    // candidate up to the window's end is in it, despite the 1 s ingestion delay.
    const routed = emulator.ingressJournal().filter((e) => e.revision === `${app}--v2`);
    for (const comparison of verdicts.steps[0].comparisons) {
      const window = comparison.window!;
      const minuteEnd = Math.floor(window.to / 60_000) * 60_000 + 60_000;
      const upToEnd = count(routed, window.from, window.to + 1);
      expect(comparison.candidate.samples).toBeGreaterThanOrEqual(upToEnd);
      expect(comparison.candidate.samples).toBeLessThanOrEqual(
        count(routed, window.from, minuteEnd),
      );
    }
    expect(run.summary).toContain("Failing gates at step 1");
    expect(run.summary).toContain("production 5xx rate");
    expectInvariants(emulator, app, run, { traffic: BEFORE(app) });
  });
});

describe("Given no production traffic at all", () => {
  test("the side-by-side judge rolls the 20% failing candidate back at the first step, sending its requests only while baking", async () => {
    const app = "judge-side-by-side";
    const view = await seed(app);
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("errors-20"),
        "revision-suffix": "v2",
        "traffic-steps": "50,100",
        "step-wait": "8s",
        gates: "side-by-side",
        "side-by-side-requests": "- path: /\n- path: /orders",
        "side-by-side-rate": "20",
        "side-by-side-budget": "300",
        "side-by-side-warm-up": "2",
        "min-samples": "40",
        ...FAST,
      },
    });
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("rolled-back");
    const step = gates(run).steps[0];
    const errors = step.comparisons.find((c) => c.comparison === "side-by-side errors");
    expect(errors?.verdict).toBe("fail");
    expect(errors?.stable?.errors).toBe(0);
    expect(errors!.candidate.errors! / errors!.candidate.samples).toBeCloseTo(0.2, 1);
    // It ended the step early, before the last look.
    expect(step.looks).toBeLessThan(5);

    // The stable revision was asked on its own URL, only while the step baked.
    const domain = view.fqdn.slice(app.length + 1);
    const stableHost = `${app}--v1.${domain}`;
    const [window] = stepWindows(run);
    const asked = emulator.ingressJournal().filter((e) => e.host === stableHost);
    expect(asked.length).toBeGreaterThanOrEqual(40);
    expect(asked.length).toBeLessThanOrEqual(300);
    expect(asked.every((e) => e.time >= window.from - 1000 && e.time <= window.to + 1000)).toBe(
      true,
    );
    expect(asked.every((e) => ["/", "/orders"].includes(e.path))).toBe(true);
    const toCandidate = emulator
      .ingressJournal()
      .filter((e) => e.host === `${app}---green.${domain}` && e.path !== "/healthz");
    expect(Math.abs(toCandidate.length - asked.length)).toBeLessThanOrEqual(1);
    expectInvariants(emulator, app, run, { traffic: BEFORE(app) });
  });
});

describe("Given a healthy candidate and production traffic", () => {
  test("it is promoted with every gate on", async () => {
    const app = "judge-healthy";
    const view = await seed(app);
    emulator.setIngestionDelay(500);
    const load = startLoad(emulator, view.fqdn);
    let run: ActionRun;
    try {
      run = await runAction(emulator, {
        inputs: {
          "container-app": app,
          image: image("healthy-v2"),
          "revision-suffix": "v2",
          "traffic-steps": "50,100",
          "step-wait": "6s",
          gates: "side-by-side, production-errors, production-latency",
          "side-by-side-requests": "- path: /\n- path: /orders",
          "side-by-side-rate": "10",
          "min-samples": "20",
          "min-requests": "20",
          "ingestion-allowance": "1500ms",
          "max-bake-extension": "4s",
          ...FAST,
        },
      });
    } finally {
      await load.stop();
      emulator.setIngestionDelay(0);
    }
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(run.outputs.result).toBe("promoted");
    const verdicts = gates(run);
    expect(verdicts.verdict).toBe("pass");
    const [first, last] = verdicts.steps;
    expect(first.comparisons.map((c) => [c.comparison, c.verdict])).toEqual([
      ["side-by-side errors", "pass"],
      ["side-by-side latency", "pass"],
      ["production 5xx rate", "pass"],
      ["production 5xx vs stable", "pass"],
      ["production latency", "pass"],
    ]);
    // At 100% the stable revision serves no production traffic: nothing to compare it with.
    expect(
      last.comparisons.filter((c) => c.verdict === "skipped").map((c) => c.comparison),
    ).toEqual(["production 5xx vs stable", "production latency"]);
    expect(run.stdout).toMatch(/HTTP logs of the environment go to workspace .*logs-judged/);
    expect(run.summary).toContain("### Gates");
    expectInvariants(emulator, app, run, {
      traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
      production: { label: "blue", revision: `${app}--v2` },
    });
  });
});

describe("Given a candidate that gets no traffic, it ends as `inconclusive` says", () => {
  const NO_TRAFFIC = {
    "revision-suffix": "v2",
    "traffic-steps": "50,100",
    "step-wait": "2s",
    gates: "production-errors",
    "min-requests": "50",
    "ingestion-allowance": "500ms",
    "max-bake-extension": "1s",
    ...FAST,
  };

  test.each([
    ["fail", 1, "rolled-back"],
    ["pass", 0, "promoted"],
    ["hold", 0, "held"],
  ])("inconclusive: %s", async (policy, exitCode, result) => {
    const app = `judge-quiet-${policy}`;
    await seed(app);
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v2"),
        inconclusive: policy,
        ...NO_TRAFFIC,
      },
    });
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(exitCode);
    expect(run.outputs.result).toBe(result);
    const steps = gates(run).steps;
    expect(steps[0].verdict).toBe("inconclusive");
    expect(steps[0].extendedMs).toBe(1000);
    expect(steps[0].reason).toMatch(/too little data/);
    const candidate = `${app}--v2`;
    if (policy === "fail") expectInvariants(emulator, app, run, { traffic: BEFORE(app) });
    if (policy === "pass") {
      expect(steps.map((s) => s.verdict)).toEqual(["inconclusive", "inconclusive"]);
      expect(run.stdout).toContain("going on as `inconclusive: pass` says");
      expectInvariants(emulator, app, run, {
        traffic: [{ revisionName: candidate, weight: 100, label: "blue" }],
      });
    }
    if (policy === "hold") {
      expect(steps).toHaveLength(1);
      const view = expectInvariants(emulator, app, run, {
        traffic: [
          { revisionName: `${app}--v1`, weight: 50, label: "blue" },
          { revisionName: candidate, weight: 50, label: "green" },
        ],
      });
      expect(Object.keys(view.tags).some((tag) => tag.startsWith("aca-blue-green.held"))).toBe(
        true,
      );
    }
  });
});

describe("Given gates that cannot read their data", () => {
  test("production-latency on an environment without HTTP logs fails naming `gates`, before any write", async () => {
    const app = "judge-no-logs";
    await emulator.seed({
      resourceGroup: RESOURCE_GROUP,
      environment: "env-unlogged",
      app,
      revisions: [{ suffix: "v1", image: image("healthy") }],
      traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
    });
    const writesBefore = emulator.armJournal().filter((e) => e.method === "PATCH").length;
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v2"),
        "traffic-steps": "50,100",
        "step-wait": "2s",
        gates: "production-latency",
        ...FAST,
      },
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("failed");
    expect(run.stdout).toMatch(
      /`gates`: production-latency: no diagnostic setting of environment env-unlogged sends ContainerAppHTTPLogs/,
    );
    expect(emulator.armJournal().filter((e) => e.method === "PATCH")).toHaveLength(writesBefore);
  });
});

function count(entries: IngressJournalEntry[], from: number, to: number): number {
  return entries.filter((e) => e.time >= from && e.time < to).length;
}

describe("Given the Azure Pipelines task", () => {
  test("its gates roll back the candidate failing 20% of its pages, with the verdicts in its outputs and summary", async () => {
    const app = "judge-task";
    const view = await seed(app);
    const load = startLoad(emulator, view.fqdn);
    let run: Awaited<ReturnType<typeof runTask>>;
    try {
      run = await runTask(emulator, {
        inputs: {
          containerApp: app,
          image: image("errors-20"),
          revisionSuffix: "v2",
          trafficSteps: "50,100",
          stepWait: "8s",
          checkInterval: "500ms",
          smokeTimeout: "10s",
          readinessTimeout: "30s",
          smokePath: "/healthz",
          gates: "side-by-side, production-errors",
          sideBySideRequests: "- path: /",
          sideBySideRate: "20",
          minSamples: "40",
          minRequests: "30",
          ingestionAllowance: "2s",
        },
      });
    } finally {
      await load.stop();
    }
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("rolled-back");
    const verdicts = JSON.parse(run.outputs.gates) as GatesOutput;
    expect(verdicts.verdict).toBe("fail");
    expect(verdicts.steps[0].comparisons.some((c) => c.verdict === "fail")).toBe(true);
    expect(run.summary).toContain("Failing gates at step 1");
    expectInvariants(emulator, app, run, { traffic: BEFORE(app) });
  });
});
