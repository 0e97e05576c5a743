/**
 * `npm run bench`: how much a rollout costs beyond its floor (provisioning, the configured bakes
 * and the checks), how many Azure calls it makes, and how much memory the Action needs. Runs the
 * real bundle against the emulator several times and checks each figure against its target;
 * exits 1 when one is missed.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { startEmulator } from "../emulator/index.ts";
import { runActionBundle } from "../emulator/rehearsal.ts";
import type { ArmJournalEntry } from "../emulator/types.ts";

const ROOT = resolve(import.meta.dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** The emulator answers every operation after this long, with Retry-After: 1. */
const OPERATION_DELAY_MS = 200;

interface Sample {
  wallMs: number;
  /** Time spent waiting on Azure operations (LRO polls) and readiness: the floor we do not own. */
  floorMs: number;
  armCalls: number;
  armWrites: number;
  peakRssMb: number;
}

const TARGETS = {
  /** Our own time per rollout, beyond Azure's operations: process start, auth, checks, logic. */
  overheadMs: 3_000,
  /** Writes for a 3-step rollout: lease, create, 3 steps, deactivate, release. */
  armWrites: 7,
  /** Every call, polls included. */
  armCalls: 40,
  peakRssMb: 200,
};

async function main(): Promise<number> {
  const emulator = await startEmulator({
    operationDelayMs: OPERATION_DELAY_MS,
    provisioningDelayMs: 200,
    retryAfterSeconds: 1,
  });
  const samples: Sample[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const app = `bench-${i}`;
      await emulator.seed({
        resourceGroup: "rg-bench",
        environment: "env-bench",
        app,
        revisions: [{ suffix: "v1", image: "emulator.test/app:healthy" }],
        traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
      });
      emulator.clearJournal();
      let peakKb = 0;
      let pid: number | undefined;
      const watcher = setInterval(() => {
        if (pid) peakKb = Math.max(peakKb, highWaterMarkKb(pid));
      }, 20);
      const started = Date.now();
      const run = await runActionBundle(emulator.info, {
        entry: resolve(ROOT, "dist/index.js"),
        inputs: {
          "resource-group": "rg-bench",
          "container-app": app,
          image: "emulator.test/app:v2",
          "revision-suffix": "v2",
          "traffic-steps": "10,50,100",
          "step-wait": "0s",
        },
        onSpawn: (child) => (pid = child),
      });
      clearInterval(watcher);
      const wallMs = Date.now() - started;
      if (run.exitCode !== 0) throw new Error(`run ${i + 1} failed:\n${run.stdout}`);
      const journal = emulator.armJournal();
      samples.push({
        wallMs,
        floorMs: operationFloor(journal),
        armCalls: journal.length,
        armWrites: journal.filter((e) => e.method !== "GET").length,
        peakRssMb: Math.round(peakKb / 1024),
      });
    }
  } finally {
    await emulator.stop();
  }

  const median = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const figures = {
    overheadMs: median(samples.map((s) => s.wallMs - s.floorMs)),
    armWrites: Math.max(...samples.map((s) => s.armWrites)),
    armCalls: Math.max(...samples.map((s) => s.armCalls)),
    peakRssMb: Math.max(...samples.map((s) => s.peakRssMb)),
  };
  console.log(`Rollout 10% -> 50% -> 100%, no bake, ${RUNS} runs against the emulator`);
  console.log(`  wall time (median)      ${median(samples.map((s) => s.wallMs))} ms`);
  console.log(`  Azure operations floor  ${median(samples.map((s) => s.floorMs))} ms`);
  let ok = true;
  for (const [name, target] of Object.entries(TARGETS) as [keyof typeof TARGETS, number][]) {
    const value = figures[name];
    const pass = value <= target;
    ok &&= pass;
    console.log(
      `  ${pass ? "ok  " : "MISS"} ${name.padEnd(20)} ${String(value).padStart(6)}  (target <= ${target})`,
    );
  }
  return ok ? 0 : 1;
}

/**
 * Time the rollout spent waiting on Azure: from each write that starts an operation to the last
 * poll of that operation. That part is Azure's (here: the emulator's delay and Retry-After).
 */
function operationFloor(journal: ArmJournalEntry[]): number {
  let floor = 0;
  let openedAt: number | undefined;
  let lastPoll = 0;
  for (const entry of journal) {
    const isPoll = entry.method === "GET" && /operation/i.test(entry.path);
    if (entry.method === "PATCH" || entry.method === "PUT") {
      if (openedAt !== undefined) floor += lastPoll - openedAt;
      openedAt = entry.time;
      lastPoll = entry.time;
    } else if (isPoll && openedAt !== undefined) {
      lastPoll = entry.time;
    } else if (openedAt !== undefined && !isPoll) {
      floor += lastPoll - openedAt;
      openedAt = undefined;
    }
  }
  if (openedAt !== undefined) floor += lastPoll - openedAt;
  return floor;
}

function highWaterMarkKb(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

process.exitCode = await main();
