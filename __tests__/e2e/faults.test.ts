/**
 * Transient Azure failures during a rollout, end to end: throttling, server errors and broken
 * connections are retried until the rollout completes, and a restore keeps going through them.
 */
import type { Emulator } from "../../emulator/types.ts";
import { expectInvariants, image, runAction, seedApp, startWorld } from "./harness.ts";

let emulator: Emulator;
const FAST = {
  "step-wait": "500ms",
  "check-interval": "200ms",
  "smoke-timeout": "3s",
  "readiness-timeout": "20s",
};

beforeAll(async () => {
  emulator = await startWorld();
});
afterAll(async () => {
  await emulator?.stop();
});

describe("Given an Azure that throttles, fails and drops connections now and then", () => {
  test("when v2 is deployed through 50, 100, the rollout retries through every fault and is promoted", async () => {
    const app = "faults-deploy";
    await seedApp(emulator, app);
    emulator.clearJournal();
    const path = `/containerApps/${app}`;
    emulator.injectArmFault({
      kind: "status",
      status: 429,
      retryAfterSeconds: 1,
      count: 1,
      match: { method: "GET", pathContains: path },
    });
    emulator.injectArmFault({
      kind: "status",
      status: 503,
      count: 5,
      match: { method: "PATCH", pathContains: path },
    });
    emulator.injectArmFault({
      kind: "reset",
      count: 1,
      match: { method: "POST", pathContains: "/deactivate" },
    });
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v2"),
        "revision-suffix": "v2",
        "traffic-steps": "50,100",
        ...FAST,
      },
    });
    expect(run.exitCode).toBe(0);
    expect(run.outputs.result).toBe("promoted");
    const faults = emulator.armJournal().filter((e) => e.fault);
    expect(faults.map((e) => e.fault).sort()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/429/),
        expect.stringMatching(/503/),
        expect.stringMatching(/reset/),
      ]),
    );
    expect(faults.filter((e) => e.method === "PATCH")).toHaveLength(5);
    const view = expectInvariants(emulator, app, run, {
      traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
    });
    expect(view.revisions.find((r) => r.name === `${app}--v1`)?.active).toBe(false);
  });

  test("when the candidate fails and Azure errors while the snapshot is restored, the restore keeps trying and succeeds", async () => {
    const app = "faults-restore";
    const view = await seedApp(emulator, app);
    emulator.clearJournal();
    let injected = false;
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("http500"),
        "revision-suffix": "bad",
        ...FAST,
      },
      onLine: (text) => {
        if (!injected && text.startsWith("Stopping:")) {
          injected = true;
          emulator.injectArmFault({
            kind: "status",
            status: 500,
            count: 6,
            match: { method: "PATCH" },
          });
        }
      },
    });
    expect(injected).toBe(true);
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("failed-before-traffic");
    expect(run.stdout).toContain("Traffic restored");
    expect(emulator.armJournal().filter((e) => e.fault && e.method === "PATCH")).toHaveLength(6);
    expectInvariants(emulator, app, run, { traffic: view.traffic });
  });
});
