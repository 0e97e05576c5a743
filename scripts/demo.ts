/**
 * `npm run demo`: a full rehearsal against the bundled emulator, no Azure account needed.
 * Seeds an app serving v1, deploys v2 through 10% → 50% → 100% with the Action's bundle while
 * requests flow, then deploys a v3 that breaks once it gets traffic and is rolled back. Prints
 * where the requests went at every step.
 */
import { resolve } from "node:path";
import { startEmulator } from "../emulator/index.ts";
import {
  runActionBundle,
  startLoad,
  stepWindows,
  type RehearsalRun,
} from "../emulator/rehearsal.ts";
import type { Emulator, IngressJournalEntry } from "../emulator/types.ts";

const ROOT = resolve(import.meta.dirname, "..");
const APP = "shop";
const RESOURCE_GROUP = "rg-demo";
const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const dim = (text: string) => (process.stdout.isTTY ? `\x1b[2m${text}\x1b[0m` : text);

async function main(): Promise<number> {
  const started = Date.now();
  console.log(bold("▶ Starting the Azure Container Apps emulator"));
  const emulator = await startEmulator({ provisioningDelayMs: 500, operationDelayMs: 300 });
  const stop = () => void emulator.stop().finally(() => process.exit(130));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    const seeded = await emulator.seed({
      resourceGroup: RESOURCE_GROUP,
      environment: "env-demo",
      // The environment keeps its console and system logs in a Log Analytics workspace.
      workspace: { name: "demo-logs" },
      app: APP,
      revisions: [{ suffix: "v1", image: "emulator.test/app:v1" }],
      traffic: [{ revisionName: `${APP}--v1`, weight: 100, label: "blue" }],
    });
    console.log(`  app ${APP} at https://${seeded.fqdn} serves ${APP}--v1 at 100% (label blue)\n`);

    console.log(bold("▶ Deploying v2 through 10% → 50% → 100% while requests flow"));
    const v2 = await deploy(emulator, seeded.fqdn, "v2", "emulator.test/app:v2");
    report(emulator, seeded.fqdn, v2, `${APP}--v2`);

    console.log(bold("\n▶ Deploying v3, which starts failing once it gets traffic"));
    const v3 = await deploy(emulator, seeded.fqdn, "v3", "emulator.test/app:unhealthy-after-12");
    report(emulator, seeded.fqdn, v3, `${APP}--v3`);

    const app = emulator.getApp(RESOURCE_GROUP, APP);
    console.log(bold("\n▶ The app now"));
    for (const entry of app.traffic) {
      console.log(
        `  ${entry.revisionName} ${entry.weight}%${entry.label ? ` (label ${entry.label})` : ""}`,
      );
    }
    const ok = v2.outputs.result === "promoted" && v3.outputs.result === "rolled-back";
    console.log(
      `\n${ok ? "✅" : "❌"} v2 ${v2.outputs.result}, v3 ${v3.outputs.result} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return ok ? 0 : 1;
  } finally {
    await emulator.stop();
  }
}

async function deploy(
  emulator: Emulator,
  fqdn: string,
  suffix: string,
  image: string,
): Promise<RehearsalRun> {
  const load = startLoad(emulator.info, fqdn, { intervalMs: 25 });
  try {
    return await runActionBundle(emulator.info, {
      entry: resolve(ROOT, "dist/index.js"),
      inputs: {
        "resource-group": RESOURCE_GROUP,
        "container-app": APP,
        image,
        "revision-suffix": suffix,
        "traffic-steps": "10,50,100",
        "step-wait": "4s",
        "check-interval": "500ms",
        "smoke-timeout": "10s",
      },
      onLine: (text) => {
        if (text.startsWith("::")) return;
        console.log(dim(`  │ ${text}`));
      },
    });
  } finally {
    await load.stop();
  }
}

/** Where the public URL's requests went during each step, from the emulator's ingress journal. */
function report(emulator: Emulator, fqdn: string, run: RehearsalRun, candidate: string): void {
  const ingress = emulator.ingressJournal().filter((e) => e.host === fqdn && e.route === "app");
  console.log(`  result: ${run.outputs.result} (exit code ${run.exitCode})`);
  for (const step of stepWindows(run)) {
    const served = ingress.filter((e) => e.time >= step.from && e.time < step.to);
    console.log(`  ${step.title}: ${describe(served, candidate)}`);
  }
}

function describe(entries: IngressJournalEntry[], candidate: string): string {
  if (entries.length === 0) return "no requests sampled";
  const toCandidate = entries.filter((e) => e.revision === candidate).length;
  const failed = entries.filter((e) => e.status >= 500).length;
  return `${toCandidate}/${entries.length} requests served by ${candidate} (${Math.round((100 * toCandidate) / entries.length)}%)${failed ? `, ${failed} failed` : ""}`;
}

process.exitCode = await main();
