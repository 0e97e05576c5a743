/**
 * End-to-end fixtures: the emulator, the real Action bundle run as the GitHub runner runs it, a
 * load generator on the app's public URL, and the invariants every scenario ends by asserting.
 */
import { join, resolve } from "node:path";
import { startEmulator } from "../../emulator/index.ts";
import {
  runActionBundle,
  startLoad as startRehearsalLoad,
  type RehearsalOptions,
  type RehearsalRun,
} from "../../emulator/rehearsal.ts";
import type { AppView, Emulator, IngressJournalEntry, SeedSpec } from "../../emulator/types.ts";

export const ROOT = resolve(import.meta.dirname, "../..");
export const RESOURCE_GROUP = "rg-shop";
export const ENVIRONMENT = "env-shop";

export async function startWorld(): Promise<Emulator> {
  return startEmulator({ provisioningDelayMs: 150, operationDelayMs: 100, retryAfterSeconds: 1 });
}

export function image(behaviour: string): string {
  return `emulator.test/app:${behaviour}`;
}

/** Seeds `app` serving v1 at 100% under the production label. */
export function seedApp(
  emulator: Emulator,
  app: string,
  extra: Partial<SeedSpec> = {},
): Promise<AppView> {
  return emulator.seed({
    resourceGroup: RESOURCE_GROUP,
    environment: ENVIRONMENT,
    app,
    revisions: [{ suffix: "v1", image: image("healthy") }],
    traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
    ...extra,
  });
}

export type { RehearsalRun as ActionRun } from "../../emulator/rehearsal.ts";

/** Runs a bundle of the Action against the emulator, as the GitHub runner would. */
export function runAction(
  emulator: Emulator,
  options: Omit<RehearsalOptions, "entry" | "inputs"> & {
    inputs: Record<string, string>;
    entry?: "dist/index.js" | "dist/post.js";
  },
): Promise<RehearsalRun> {
  return runActionBundle(emulator.info, {
    ...options,
    entry: join(ROOT, options.entry ?? "dist/index.js"),
    inputs: { "resource-group": RESOURCE_GROUP, ...options.inputs },
  });
}

export function startLoad(emulator: Emulator, host: string) {
  return startRehearsalLoad(emulator.info, host);
}

/** Share of app-URL requests the candidate served between two moments. */
export function candidateShare(
  entries: IngressJournalEntry[],
  host: string,
  candidate: string,
  from: number,
  to: number,
): { share: number; count: number } {
  const window = entries.filter(
    (e) => e.host === host && e.route === "app" && e.time >= from && e.time < to,
  );
  const served = window.filter((e) => e.revision === candidate).length;
  return { share: window.length ? served / window.length : 0, count: window.length };
}

/** The invariants of DESIGN.md, asserted at the end of every scenario. */
export function expectInvariants(
  emulator: Emulator,
  app: string,
  run: RehearsalRun,
  expected: { traffic: AppView["traffic"]; production?: { label: string; revision: string } },
): AppView {
  const view = emulator.getApp(RESOURCE_GROUP, app);
  const total = view.traffic.reduce((sum, e) => sum + e.weight, 0);
  expect(total).toBe(100);
  const byName = new Map(view.revisions.map((r) => [r.name, r]));
  for (const entry of view.traffic) {
    const revision = byName.get(entry.revisionName ?? view.latestRevisionName);
    expect(revision?.active).toBe(true);
    expect(revision?.healthState).not.toBe("Unhealthy");
  }
  const labels = view.traffic.map((e) => e.label).filter(Boolean);
  expect(new Set(labels).size).toBe(labels.length);
  expect(sortTraffic(view.traffic)).toEqual(sortTraffic(expected.traffic));
  if (expected.production) {
    const entry = view.traffic.find((e) => e.label === expected.production?.label);
    expect(entry?.revisionName).toBe(expected.production.revision);
  }
  expect(
    Object.keys(view.tags).filter(
      (t) => t === "aca-blue-green.lease" || t.startsWith("aca-blue-green.lease."),
    ),
  ).toEqual([]);
  const secret = emulator.info.clientSecret;
  for (const text of [visibleLog(run), run.stderr, run.summary, JSON.stringify(run.outputs)]) {
    expect(text.includes(secret)).toBe(false);
  }
  return view;
}

export function sortTraffic(traffic: AppView["traffic"]) {
  return [...traffic]
    .map((e) => ({ revisionName: e.revisionName, weight: e.weight, label: e.label ?? undefined }))
    .sort((a, b) =>
      `${a.revisionName}|${a.label ?? ""}`.localeCompare(`${b.revisionName}|${b.label ?? ""}`),
    );
}

/** The log as the runner shows it: `::add-mask::` commands are consumed by the runner, not shown. */
export function visibleLog(run: RehearsalRun): string {
  return run.lines
    .filter((line) => !line.text.startsWith("::add-mask::"))
    .map((line) => line.text)
    .join("\n");
}

/** ARM calls that change something. */
export function armWrites(emulator: Emulator) {
  return emulator.armJournal().filter((e) => ["PUT", "PATCH", "POST", "DELETE"].includes(e.method));
}

/**
 * The one set of timings every e2e run starts from, by the inputs' schema names: short bakes and
 * check intervals so a scenario takes seconds, deadlines long enough that a healthy revision on a
 * loaded machine is never failed. A scenario overrides one only when it is what the scenario is
 * about (a bake long enough to act during it, a smoke deadline a failing candidate soon reaches).
 */
export const FAST: Readonly<Record<string, string>> = {
  "step-wait": "500ms",
  "check-interval": "200ms",
  "smoke-timeout": "5s",
  "readiness-timeout": "20s",
};

/** For a candidate meant to fail its smoke checks: the run gives up on it soon. */
export const SHORT_SMOKE: Readonly<Record<string, string>> = { "smoke-timeout": "1500ms" };

type IngressBody = {
  properties?: { configuration?: { ingress?: { traffic?: AppView["traffic"] } } };
};

/**
 * The traffic of every PATCH sent to `app` that set it, in order: what the tool asked the weights
 * to be, whether or not Azure took it. `accepted` keeps only the writes Azure accepted.
 */
export function trafficWrites(
  emulator: Emulator,
  app: string,
  options: { accepted?: boolean } = {},
): AppView["traffic"][] {
  return armWrites(emulator)
    .filter(
      (entry) =>
        entry.method === "PATCH" &&
        entry.path.endsWith(`/containerApps/${app}`) &&
        (!options.accepted || entry.status < 400),
    )
    .map((entry) => (entry.body as IngressBody)?.properties?.configuration?.ingress?.traffic)
    .filter((traffic): traffic is AppView["traffic"] => traffic !== undefined);
}
