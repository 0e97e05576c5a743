/**
 * `npm run bench:judge`: how the gates judge live rollouts. Runs the real Action bundle against the
 * emulator, with production traffic on the app and every gate on, many times over: a healthy
 * candidate (the false-alarm rate: how often it is rolled back), a candidate failing 20% of its
 * pages behind a passing health check, and one three times slower (the detection rates). Prints
 * the rates and how long the gates took; exits 1 when a bad candidate got through.
 *
 * JUDGE_BENCH_RUNS (default 10) sets the runs of each kind. Run `npm run bundle` first.
 */
import { resolve } from "node:path";
import { startEmulator } from "../emulator/index.ts";
import { runActionBundle, startLoad } from "../emulator/rehearsal.ts";

const ROOT = resolve(import.meta.dirname, "..");
const RUNS = Number(process.env.JUDGE_BENCH_RUNS ?? 10);

const KINDS = [
  { name: "healthy", stable: "slow-20", candidate: "slow-20", bad: false },
  { name: "20% errors", stable: "slow-20", candidate: "errors-20", bad: true },
  { name: "3x slower", stable: "slow-20", candidate: "slow-60", bad: true },
] as const;

interface Outcome {
  result: string;
  wallMs: number;
}

async function main(): Promise<number> {
  const emulator = await startEmulator({
    operationDelayMs: 100,
    provisioningDelayMs: 100,
    ingestionDelayMs: 1000,
  });
  const outcomes = new Map<string, Outcome[]>(KINDS.map((kind) => [kind.name, []]));
  try {
    for (let i = 0; i < RUNS; i++) {
      for (const kind of KINDS) {
        const app = `judge-${kind.name.replace(/\W+/g, "-")}-${i}`.replace(/-+/g, "-");
        const view = await emulator.seed({
          resourceGroup: "rg-judge",
          environment: "env-judge",
          workspace: { name: "judge-logs" },
          app,
          revisions: [{ suffix: "v1", image: `emulator.test/app:${kind.stable}` }],
          traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
        });
        const load = startLoad(emulator.info, view.fqdn, { intervalMs: 10, maxRequests: 5000 });
        const started = Date.now();
        const run = await runActionBundle(emulator.info, {
          entry: resolve(ROOT, "dist/index.js"),
          inputs: {
            "resource-group": "rg-judge",
            "container-app": app,
            image: `emulator.test/app:${kind.candidate}`,
            "revision-suffix": "v2",
            "traffic-steps": "50,100",
            "step-wait": "6s",
            "check-interval": "1s",
            "smoke-path": "/healthz",
            gates: "side-by-side, production-errors, production-latency",
            "side-by-side-requests": "- path: /\n- path: /orders",
            "side-by-side-rate": "10",
            "min-samples": "20",
            "min-requests": "20",
            "ingestion-allowance": "2s",
            "max-bake-extension": "4s",
          },
        });
        await load.stop();
        const outcome = {
          result: run.outputs.result ?? `exit ${run.exitCode}`,
          wallMs: Date.now() - started,
        };
        outcomes.get(kind.name)?.push(outcome);
        process.stdout.write(
          `${kind.name} #${i + 1}: ${outcome.result} in ${(outcome.wallMs / 1000).toFixed(1)} s\n`,
        );
      }
    }
  } finally {
    await emulator.stop();
  }

  let missed = 0;
  process.stdout.write("\nkind         runs  rolled back  promoted  mean wall\n");
  for (const kind of KINDS) {
    const list = outcomes.get(kind.name) ?? [];
    const rolledBack = list.filter((o) => o.result === "rolled-back").length;
    const promoted = list.filter((o) => o.result === "promoted").length;
    const mean = list.reduce((sum, o) => sum + o.wallMs, 0) / Math.max(1, list.length) / 1000;
    process.stdout.write(
      `${kind.name.padEnd(12)} ${String(list.length).padStart(4)}  ${String(rolledBack).padStart(11)}  ${String(promoted).padStart(8)}  ${mean.toFixed(1).padStart(7)} s\n`,
    );
    if (kind.bad) missed += promoted;
  }
  const healthy = outcomes.get("healthy") ?? [];
  const falseAlarms = healthy.filter((o) => o.result !== "promoted").length;
  process.stdout.write(
    `\nFalse alarms: ${falseAlarms} of ${healthy.length} healthy rollouts (${((100 * falseAlarms) / Math.max(1, healthy.length)).toFixed(1)}%; the budget is 1%).\n`,
  );
  if (missed > 0) {
    process.stderr.write(`${missed} bad candidate(s) were promoted.\n`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();
