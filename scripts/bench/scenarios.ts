/**
 * The work the benchmark measures, and one run of it: the Action's bundle against the emulator,
 * with the request hook loaded, the app watched and the process's peak memory sampled.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Emulator } from "../../emulator/index.ts";
import { runActionBundle } from "../../emulator/rehearsal.ts";
import type { HookLine, RunRecord } from "./analyze.ts";
import { watchApp } from "./observe.ts";
import type { Work } from "./project.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const HOOK = resolve(import.meta.dirname, "hook.ts");
export const ENTRY = resolve(ROOT, "dist/index.js");
export const RESOURCE_GROUP = "rg-bench";

/** The inputs' defaults (src/core/inputs/schema.ts): what a run on Azure bakes and checks. */
const DEFAULT_STEP_WAIT_MS = 60_000;
const DEFAULT_CHECK_INTERVAL_MS = 10_000;
/** On the fast profile bakes are short, so that a run takes seconds. */
const FAST = { stepWaitMs: 1_000, checkIntervalMs: 250 };

export type ScenarioId = "rollout-3" | "blue-green" | "failure-2" | "rollback";

export interface Scenario {
  id: ScenarioId;
  title: string;
  /** Long-running writes it should make: N + 1 for an N-step rollout that promotes. */
  expectedWrites: number;
  /** Why that many. */
  writesAre: string;
  promotes: boolean;
  /** The same work on Azure, with the inputs' default bake and check interval. */
  work: Work;
  inputs: Record<string, string>;
}

const deployWork = (steps: number, bakedSteps: number, failAtStep?: number): Work => ({
  verb: "deploy",
  steps,
  bakedSteps,
  stepWaitMs: DEFAULT_STEP_WAIT_MS,
  checkIntervalMs: DEFAULT_CHECK_INTERVAL_MS,
  ...(failAtStep ? { failAtStep } : {}),
});

export const SCENARIOS: Scenario[] = [
  {
    id: "rollout-3",
    title: "3-step rollout (10, 50, 100)",
    expectedWrites: 4,
    writesAre: "candidate + 3 steps",
    promotes: true,
    work: deployWork(3, 3),
    inputs: { "traffic-steps": "10,50,100" },
  },
  {
    id: "blue-green",
    title: "1-step blue-green (100)",
    expectedWrites: 2,
    writesAre: "candidate + 1 step",
    promotes: true,
    work: deployWork(1, 1),
    inputs: { "traffic-steps": "100" },
  },
  {
    id: "failure-2",
    title: "Failure at step 2 of 3",
    expectedWrites: 4,
    writesAre: "candidate + 2 steps + restore",
    promotes: false,
    work: deployWork(3, 1, 2),
    inputs: { "traffic-steps": "10,50,100" },
  },
  {
    id: "rollback",
    title: "Rollback (1 step, previous revision inactive)",
    expectedWrites: 2,
    writesAre: "lease + 1 step",
    promotes: true,
    work: {
      verb: "rollback",
      steps: 1,
      bakedSteps: 0,
      stepWaitMs: DEFAULT_STEP_WAIT_MS,
      checkIntervalMs: DEFAULT_CHECK_INTERVAL_MS,
    },
    inputs: { action: "rollback" },
  },
];

/** Bake and check interval of a run: the fast profile's, or the defaults at the time scale. */
export function pacing(emulator: Emulator): { stepWaitMs: number; checkIntervalMs: number } {
  const { profile, timeScale } = emulator.info.timing;
  if (profile === "fast") return FAST;
  return {
    stepWaitMs: Math.round(DEFAULT_STEP_WAIT_MS * timeScale),
    checkIntervalMs: Math.round(DEFAULT_CHECK_INTERVAL_MS * timeScale),
  };
}

export interface BundleRun {
  spawnAt: number;
  exitAt: number;
  exitCode: number | null;
  stdout: string;
  hook: HookLine[];
  peakRssMb: number;
}

/** Runs the Action's bundle with `inputs`, the hook logging its requests when `hooked`. */
export async function runBundle(
  emulator: Emulator,
  inputs: Record<string, string>,
  options: { hooked?: boolean; onLine?: (text: string) => void } = {},
): Promise<BundleRun> {
  const dir = mkdtempSync(join(tmpdir(), "bench-run-"));
  const log = join(dir, "requests.jsonl");
  let pid: number | undefined;
  let peakKb = 0;
  let spawnAt = 0;
  const watcher = setInterval(() => {
    if (pid) peakKb = Math.max(peakKb, highWaterMarkKb(pid));
  }, 20);
  try {
    const run = await runActionBundle(emulator.info, {
      entry: ENTRY,
      inputs: { "resource-group": RESOURCE_GROUP, ...inputs },
      env: options.hooked ? { NODE_OPTIONS: `--import=${HOOK}`, BENCH_REQUEST_LOG: log } : {},
      onLine: options.onLine,
      onSpawn: (child) => {
        spawnAt = Date.now();
        pid = child;
      },
    });
    const exitAt = Date.now();
    const hook = options.hooked ? readHook(log) : [];
    return {
      spawnAt,
      exitAt,
      exitCode: run.exitCode,
      stdout: run.stdout,
      hook,
      peakRssMb: Math.round(peakKb / 1024),
    };
  } finally {
    clearInterval(watcher);
    rmSync(dir, { recursive: true, force: true });
  }
}

function readHook(file: string): HookLine[] {
  // No file: the bundle made no request and printed nothing.
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as HookLine);
}

/** Seeds a fresh app: `<app>--v1` serving 100% under the production label. */
export async function seedApp(emulator: Emulator, app: string): Promise<void> {
  await emulator.seed({
    resourceGroup: RESOURCE_GROUP,
    environment: "env-bench",
    app,
    revisions: [{ suffix: "v1", image: "emulator.test/app:healthy" }],
    traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
  });
}

/** One measured run of `scenario` on a fresh app. */
export async function runScenario(
  emulator: Emulator,
  scenario: Scenario,
  app: string,
): Promise<RunRecord> {
  const { stepWaitMs, checkIntervalMs } = pacing(emulator);
  await seedApp(emulator, app);
  const deploy = {
    "container-app": app,
    image: "emulator.test/app:v2",
    "revision-suffix": "v2",
    "step-wait": `${stepWaitMs}ms`,
    "check-interval": `${checkIntervalMs}ms`,
  };
  const candidate = `${app}--v2`;
  if (scenario.id === "rollback") {
    // What a rollback undoes: a promoted deploy, its previous revision deactivated.
    const setup = await runBundle(emulator, { ...deploy, "traffic-steps": "100" });
    if (setup.exitCode !== 0)
      throw new Error(`The deploy before the rollback failed:\n${setup.stdout}`);
  }
  emulator.clearJournal();
  const watch = watchApp(emulator, RESOURCE_GROUP, app);
  let failureAt: number | undefined;
  let failing: Promise<void> | undefined;
  const run = await runBundle(
    emulator,
    scenario.id === "rollback"
      ? {
          "container-app": app,
          ...scenario.inputs,
          "step-wait": deploy["step-wait"],
          "check-interval": deploy["check-interval"],
        }
      : { ...deploy, ...scenario.inputs },
    {
      hooked: true,
      onLine: (text) => {
        if (scenario.id !== "failure-2" || failing || !/^\[2\/3\] .*checks pending/.test(text)) {
          return;
        }
        failing = emulator
          .setRevisionBehaviour(RESOURCE_GROUP, app, candidate, "http500")
          .then(() => {
            failureAt = Date.now();
          });
      },
    },
  );
  await failing;
  const changes = watch.stop();
  const expectedExit = scenario.id === "failure-2" ? 1 : 0;
  if (run.exitCode !== expectedExit) {
    throw new Error(
      `${scenario.title} on ${app} exited ${run.exitCode}, expected ${expectedExit}:\n${run.stdout}`,
    );
  }
  return {
    spawnAt: run.spawnAt,
    exitAt: run.exitAt,
    journal: emulator.armJournal(),
    hook: run.hook,
    changes,
    armHost: new URL(emulator.info.arm).host,
    identityHost: new URL(emulator.info.authorityHost).host,
    revision: scenario.id === "rollback" ? `${app}--v1` : candidate,
    leaseWrite: scenario.id === "rollback",
    bakeMs: scenario.work.bakedSteps * stepWaitMs,
    ...(failureAt !== undefined ? { failureAt } : {}),
    peakRssMb: run.peakRssMb,
  };
}

/** Spawn to the first ARM request (the journal's first entry), without the hook. */
export async function coldStart(emulator: Emulator, app: string): Promise<number> {
  emulator.clearJournal();
  const run = await runBundle(emulator, { action: "status", "container-app": app });
  if (run.exitCode !== 0) throw new Error(`action: status failed:\n${run.stdout}`);
  const first = emulator.armJournal()[0];
  if (!first) throw new Error("action: status made no ARM request");
  return first.time - run.spawnAt;
}

function highWaterMarkKb(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}
