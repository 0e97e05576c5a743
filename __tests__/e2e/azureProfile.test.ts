/**
 * The real paths on the Azure-shaped timing profile (AZURE-RECORDED-FACTS.md: traffic-only writes
 * 12–50 s, template writes 6–50 s, a revision still provisioning after its write ended, no
 * Retry-After), run at 1/20 of real time; the bundle scales its own polling with it.
 */
import { startEmulator } from "../../emulator/index.ts";
import type { Emulator } from "../../emulator/types.ts";
import { armClient, updateApp } from "../emulator/support.ts";
import {
  RESOURCE_GROUP,
  armWrites,
  expectInvariants,
  image,
  runAction,
  seedApp,
} from "./harness.ts";

const SCALE = 0.05;
let emulator: Emulator;

beforeAll(async () => {
  // An expiring write fails after 3 s here, not Azure's 15 minutes scaled.
  emulator = await startEmulator({
    timing: "azure",
    timeScale: SCALE,
    seed: "e2e",
    operationExpiryMs: 3_000,
  });
});
afterAll(async () => {
  await emulator?.stop();
});

const TIMINGS = {
  "step-wait": "1s",
  "check-interval": "250ms",
  "smoke-timeout": "20s",
  "readiness-timeout": "60s",
};
const env = { ACA_BLUE_GREEN_TIME_SCALE: String(SCALE) };

function creates(app: string) {
  return armWrites(emulator).filter(
    (e) =>
      e.method === "PATCH" &&
      e.path.endsWith(`/containerApps/${app}`) &&
      JSON.stringify(e.body).includes('"revisionSuffix":"v2"'),
  );
}

describe("Given Azure's recorded durations, at 1/20", () => {
  test("a healthy v2 goes through 50, 100 and is promoted with N + 1 long-running writes", async () => {
    const app = "azp-healthy";
    await seedApp(emulator, app);
    emulator.clearJournal();
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v2"),
        "revision-suffix": "v2",
        "traffic-steps": "50,100",
        ...TIMINGS,
      },
      env,
    });
    expect(run.exitCode).toBe(0);
    expect(run.outputs.result).toBe("promoted");
    const patches = armWrites(emulator).filter(
      (e) => e.path.endsWith(`/containerApps/${app}`) && e.method === "PATCH",
    );
    // The create write and one write per step; the lease rides on them.
    expect(patches).toHaveLength(3);
    expectInvariants(emulator, app, run, {
      traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
    });
  });

  test("a v2 that crashes at start: the write succeeds, readiness sees Failed, and the run stops with the service's reason", async () => {
    const app = "azp-crash";
    const view = await seedApp(emulator, app);
    const run = await runAction(emulator, {
      inputs: { "container-app": app, image: image("crash"), "revision-suffix": "v2", ...TIMINGS },
      env,
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("failed-before-traffic");
    expect(run.stdout).toContain("RevisionFailed");
    expect(run.stdout).toContain(`provisioning failed: Container crashing: ${app}`);
    expect(run.stdout).toContain(`1/1 Container crashing: ${app}`);
    // The write itself succeeded: it was sent once.
    expect(creates(app)).toHaveLength(1);
    const final = expectInvariants(emulator, app, run, { traffic: view.traffic });
    expect(final.revisions.find((r) => r.name === `${app}--v2`)?.active).toBe(false);
  });

  test("a v2 whose write expires: the failed write is final, sent once, and the app is put back", async () => {
    const app = "azp-expired";
    const view = await seedApp(emulator, app);
    emulator.injectRevisionFault({ app, mode: "operation-expired" });
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy"),
        "revision-suffix": "v2",
        ...TIMINGS,
      },
      env,
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("failed-before-traffic");
    expect(run.stdout).toContain("Operation expired");
    expect(creates(app)).toHaveLength(1);
    expectInvariants(emulator, app, run, { traffic: view.traffic });
  });

  test("a v2 that stays Activating is not ready, and the run stops at readiness-timeout", async () => {
    const app = "azp-activating";
    const view = await seedApp(emulator, app);
    emulator.injectRevisionFault({ app, mode: "never-ready" });
    const started = Date.now();
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy"),
        "revision-suffix": "v2",
        ...TIMINGS,
        "readiness-timeout": "3s",
      },
      env,
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("failed-before-traffic");
    expect(run.stdout).toContain("Activating");
    expect(run.stdout).toContain("RevisionNotReady");
    expect(Date.now() - started).toBeLessThan(60_000);
    const final = expectInvariants(emulator, app, run, { traffic: view.traffic });
    expect(final.revisions.find((r) => r.name === `${app}--v2`)?.active).toBe(false);
  });
});

describe("Given a Single-mode app whose previous revision is still active while the newest starts", () => {
  test("the snapshot routes to the latest ready revision, and the deploy retires only what it took traffic from", async () => {
    const app = "azp-single";
    await seedApp(emulator, app, { activeRevisionsMode: "Single", traffic: undefined });
    // Someone else creates v2, which never gets ready: in Single mode v1 stays active and keeps
    // serving, while the app already names v2 its latest revision.
    emulator.injectRevisionFault({ app, mode: "never-ready" });
    const client = armClient(emulator.info);
    const found = await client.containerApps.get(RESOURCE_GROUP, app);
    await updateApp(client, RESOURCE_GROUP, app, {
      template: { ...found.template, revisionSuffix: "v2" },
    });
    const before = emulator.getApp(RESOURCE_GROUP, app);
    expect(before.latestRevisionName).toBe(`${app}--v2`);
    expect(
      before.revisions
        .filter((r) => r.active)
        .map((r) => r.name)
        .sort(),
    ).toEqual([`${app}--v1`, `${app}--v2`]);

    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v3"),
        "revision-suffix": "v3",
        ...TIMINGS,
      },
      env,
    });
    expect(run.exitCode).toBe(0);
    expect(run.outputs.result).toBe("promoted");
    // The traffic it found was v1's (latestRevision follows the latest ready revision), not v2's.
    expect(JSON.parse(run.outputs.traffic ?? "[]")).toEqual([
      { revisionName: `${app}--v3`, weight: 100, label: "blue" },
    ]);
    expect(run.outputs["previous-revision"]).toBe(`${app}--v1`);
    const view = expectInvariants(emulator, app, run, {
      traffic: [{ revisionName: `${app}--v3`, weight: 100, label: "blue" }],
    });
    expect(view.activeRevisionsMode).toBe("Multiple");
    const active = (name: string) =>
      view.revisions.find((r) => r.name === `${app}--${name}`)?.active;
    expect(active("v1")).toBe(false);
    // v2 was someone else's and had no traffic: never deactivated by this run.
    expect(active("v2")).toBe(true);
  });
});
