/**
 * A restore whose traffic write the service reports as failed: the write is final, so the app is
 * read back first, and the previous traffic is sent again only when the app still differs from it —
 * within the restore's deadline.
 */
import type { AppState, ContainerAppsPort } from "../../src/core/ports.ts";
import { restoreTraffic } from "../../src/core/rollout/restore.ts";
import type { TrafficWeight } from "../../src/core/types.ts";
import { silent } from "./support/engine.ts";
import { VirtualClock } from "./support/virtualClock.ts";

class FailedOperation extends Error {
  operationFailed = true;
  code = "ContainerAppOperationError";
}

const SNAPSHOT: TrafficWeight[] = [{ revisionName: "web--v1", weight: 100, label: "blue" }];
const SHIFTED: TrafficWeight[] = [
  { revisionName: "web--v1", weight: 50, label: "blue" },
  { revisionName: "web--v2", weight: 50, label: "green" },
];

/** An app whose traffic writes fail as operations `failures` times; `applies` says whether a failed one still took effect. */
function app(options: { failures: number; applies: boolean }) {
  let traffic = SHIFTED;
  let tags: Record<string, string> = { "aca-blue-green.lease": "run" };
  const writes: string[] = [];
  let failuresLeft = options.failures;
  const state = (): AppState => ({
    name: "web",
    resourceGroup: "rg",
    provisioningState: "Succeeded",
    activeRevisionsMode: "Multiple",
    ingress: { external: true, traffic: traffic.map((e) => ({ ...e })) },
    containers: [],
    template: { containers: [] },
    configuration: {},
    tags: { ...tags },
  });
  const apps = {
    getApp: async () => state(),
    updateTraffic: async (next: TrafficWeight[], write?: { tags?: Record<string, string> }) => {
      const nextTags = write?.tags;
      writes.push("traffic");
      if (failuresLeft > 0) {
        failuresLeft--;
        if (options.applies) {
          traffic = next;
          if (nextTags) tags = nextTags;
        }
        throw new FailedOperation("Updating traffic failed: Operation expired.");
      }
      traffic = next;
      if (nextTags) tags = nextTags;
      return state();
    },
    listRevisions: async () => [],
    deactivateRevision: async (name: string) => {
      writes.push(`deactivate ${name}`);
    },
  } as unknown as ContainerAppsPort;
  return { apps, writes };
}

const journal = {
  candidate: "web--v2",
  createdCandidate: true,
  keepFailedRevision: false,
  before: SNAPSHOT,
  expected: [SHIFTED],
};
const run = { runId: "test:1", holder: "the test run" };
const deps = (clock: VirtualClock) => ({
  log: silent,
  clock,
  run,
  waitReady: async () => undefined,
});

test("a failed traffic write that took effect anyway is read back and not sent again", async () => {
  const { apps, writes } = app({ failures: 1, applies: true });
  const outcome = await restoreTraffic(apps, journal, deps(new VirtualClock(0)));
  expect(outcome.traffic).toEqual(SNAPSHOT);
  expect(writes).toEqual(["traffic", "deactivate web--v2"]);
});

test("a failed traffic write that left the app as it was is sent again until it holds", async () => {
  const { apps, writes } = app({ failures: 2, applies: false });
  const outcome = await restoreTraffic(apps, journal, deps(new VirtualClock(0)));
  expect(outcome.traffic).toEqual(SNAPSHOT);
  expect(writes).toEqual(["traffic", "traffic", "traffic", "deactivate web--v2"]);
});

test("a traffic write that keeps failing gives up at the restore's deadline", async () => {
  const { apps } = app({ failures: 1_000, applies: false });
  const clock = new VirtualClock(0);
  await expect(
    restoreTraffic(apps, journal, { ...deps(clock), retryForMs: 60_000 }),
  ).rejects.toThrow(/Operation expired/);
  expect(clock.now()).toBeLessThanOrEqual(60_000);
});

test("what runs before the candidate is retired runs once the previous traffic is back, and before the deactivation", async () => {
  const { apps, writes } = app({ failures: 1, applies: false });
  const outcome = await restoreTraffic(apps, journal, {
    ...deps(new VirtualClock()),
    beforeRetire: async () => {
      writes.push("diagnostics");
    },
  });
  expect(outcome.candidateDeactivated).toBe(true);
  expect(writes).toEqual(["traffic", "traffic", "diagnostics", "deactivate web--v2"]);
});
