/**
 * What every figure runs against: a fresh emulator, an app seeded with a split that exercises
 * every part of a rollout (two weighted revisions to retire, a labelled bystander the tool must
 * leave alone, a tag of someone else's), and the real Action bundle run as the GitHub runner runs
 * it, signed in with a service principal's secret so that every run also shows where that secret
 * goes.
 */
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { startEmulator } from "../../emulator/index.ts";
import {
  runActionBundle,
  type RehearsalOptions,
  type RehearsalRun,
} from "../../emulator/rehearsal.ts";
import type { AppView, Emulator, TrafficEntry } from "../../emulator/types.ts";

export const ROOT = resolve(import.meta.dirname, "../..");
export const RESOURCE_GROUP = "rg-figures";
const ENVIRONMENT = "env-figures";
/** A tag someone else keeps on the app; every run must leave it. */
export const OTHERS_TAG = { team: "shop" };

export function image(behaviour: string): string {
  return `emulator.test/app:${behaviour}`;
}

/** One emulator for one scenario: no journal, fault or process is shared between scenarios. */
export function startWorld(): Promise<Emulator> {
  return startEmulator({ provisioningDelayMs: 150, operationDelayMs: 100, retryAfterSeconds: 1 });
}

/** The revisions of the seeded app, by role. */
export function revisionsOf(app: string) {
  return {
    /** Serves 80% under the production label: the tool retires it after a promotion. */
    main: `${app}--v1`,
    /** Serves 20%: retired too. */
    second: `${app}--v1b`,
    /** 0% under its own label, someone else's preview: never the tool's to deactivate. */
    bystander: `${app}--v0`,
    candidate: `${app}--v2`,
  };
}

/** The traffic the seeded app starts with. */
export function seededTraffic(app: string): TrafficEntry[] {
  const r = revisionsOf(app);
  return [
    { revisionName: r.main, weight: 80, label: "blue" },
    { revisionName: r.second, weight: 20 },
    { revisionName: r.bystander, weight: 0, label: "preview" },
  ];
}

/** The traffic after a successful rollout of the candidate. */
export function promotedTraffic(app: string): TrafficEntry[] {
  const r = revisionsOf(app);
  return [
    { revisionName: r.candidate, weight: 100, label: "blue" },
    { revisionName: r.bystander, weight: 0, label: "preview" },
  ];
}

export function seedRolloutApp(emulator: Emulator, app: string): Promise<AppView> {
  return emulator.seed({
    resourceGroup: RESOURCE_GROUP,
    environment: ENVIRONMENT,
    app,
    revisions: [
      { suffix: "v0", image: image("healthy") },
      { suffix: "v1", image: image("healthy") },
      { suffix: "v1b", image: image("healthy") },
    ],
    traffic: seededTraffic(app),
    tags: OTHERS_TAG,
  });
}

/** Fast but real: each bake runs checks, and every deadline is short enough for a matrix. */
export const FAST_INPUTS = {
  "traffic-steps": "10,50,100",
  "step-wait": "500ms",
  "check-interval": "200ms",
  "smoke-timeout": "3s",
  "readiness-timeout": "20s",
};

/** The service principal input carrying the emulator's client secret. */
export function credsInputs(emulator: Emulator): Record<string, string> {
  const { info } = emulator;
  return {
    "client-id": "",
    "tenant-id": "",
    creds: JSON.stringify({
      clientId: info.clientId,
      clientSecret: info.clientSecret,
      tenantId: info.tenantId,
      subscriptionId: info.subscriptionId,
    }),
  };
}

/** The identity of one workflow job: a re-run keeps the run id and job and bumps the attempt. */
export interface JobIdentity {
  runId: string;
  attempt: number;
  job: string;
  sha: string;
}

export function newJob(): JobIdentity {
  return {
    runId: String(randomBytes(4).readUInt32BE()),
    attempt: 1,
    job: "deploy",
    sha: randomBytes(20).toString("hex"),
  };
}

export function runBundle(
  emulator: Emulator,
  options: Omit<RehearsalOptions, "entry" | "inputs"> & {
    inputs: Record<string, string>;
    entry?: "dist/index.js" | "dist/post.js";
    job?: JobIdentity;
  },
): Promise<RehearsalRun> {
  const { job, entry, env, inputs, ...rest } = options;
  return runActionBundle(emulator.info, {
    ...rest,
    entry: join(ROOT, entry ?? "dist/index.js"),
    inputs: { "resource-group": RESOURCE_GROUP, ...inputs },
    env: {
      ACTIONS_ID_TOKEN_REQUEST_URL: undefined,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined,
      ...(job
        ? {
            GITHUB_RUN_ID: job.runId,
            GITHUB_RUN_ATTEMPT: String(job.attempt),
            GITHUB_JOB: job.job,
            GITHUB_SHA: job.sha,
          }
        : {}),
      ...env,
    },
  });
}

/** The log as the runner shows it: `::add-mask::` commands are consumed by the runner. */
export function visibleLog(run: RehearsalRun): string {
  return run.lines
    .filter((line) => !line.text.startsWith("::add-mask::"))
    .map((line) => line.text)
    .join("\n");
}

/** Every place a run leaves text a user or a later step can read, by name. */
export function runTexts(run: RehearsalRun, name: string): [string, string][] {
  return [
    [`${name} log`, visibleLog(run)],
    [`${name} stderr`, run.stderr],
    [`${name} summary`, run.summary],
    [`${name} outputs`, JSON.stringify(run.outputs)],
    [`${name} state`, JSON.stringify(run.state)],
  ];
}

export function formatTraffic(traffic: TrafficEntry[]): string {
  return (
    traffic
      .map((e) => `${e.revisionName ?? "latest"} ${e.weight}%${e.label ? ` (${e.label})` : ""}`)
      .join(", ") || "nothing"
  );
}

export function sortTraffic(traffic: TrafficEntry[]): TrafficEntry[] {
  return [...traffic]
    .map((e) => ({
      revisionName: e.revisionName,
      weight: e.weight,
      ...(e.label ? { label: e.label } : {}),
    }))
    .sort((a, b) =>
      `${a.revisionName}|${a.label ?? ""}`.localeCompare(`${b.revisionName}|${b.label ?? ""}`),
    );
}

export function sameTraffic(a: TrafficEntry[], b: TrafficEntry[]): boolean {
  return JSON.stringify(sortTraffic(a)) === JSON.stringify(sortTraffic(b));
}

/** Runs `work` over `items`, `concurrency` at a time, keeping the order of the results. */
export async function pool<T, R>(
  items: T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
