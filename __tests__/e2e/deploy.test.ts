/**
 * `action: deploy` end to end: the real Action bundle against the emulator, proved from the
 * emulator's journals and the app's final state.
 */
import type { Emulator } from "../../emulator/types.ts";
import {
  RESOURCE_GROUP,
  armWrites,
  candidateShare,
  expectInvariants,
  image,
  runAction,
  seedApp,
  startLoad,
  startWorld,
} from "./harness.ts";
import { stepWindows } from "../../emulator/rehearsal.ts";

let emulator: Emulator;
const FAST = {
  "step-wait": "1500ms",
  "check-interval": "250ms",
  "smoke-timeout": "5s",
  "readiness-timeout": "20s",
};

beforeAll(async () => {
  emulator = await startWorld();
});
afterAll(async () => {
  await emulator?.stop();
});

describe("Given an app serving v1 at 100%", () => {
  test("when v2 is deployed through 10, 50, 100, its share of real requests rises step by step and it is promoted", async () => {
    const app = "shop-progressive";
    const view = await seedApp(emulator, app);
    const load = startLoad(emulator, view.fqdn);
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v2"),
        "revision-suffix": "v2",
        "traffic-steps": "10,50,100",
        ...FAST,
        "step-wait": "2s",
      },
    });
    await load.stop();
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);

    const windows = stepWindows(run);
    expect(windows).toHaveLength(3);
    const ingress = emulator.ingressJournal();
    const shares = windows.map((w) =>
      candidateShare(ingress, view.fqdn, `${app}--v2`, w.from + 300, w.to),
    );
    const end = windows[2].to;
    for (const { count } of shares) expect(count).toBeGreaterThan(10);
    expect(shares[0].share).toBeLessThan(0.3);
    expect(shares[1].share).toBeGreaterThan(shares[0].share);
    expect(shares[1].share).toBeGreaterThan(0.25);
    expect(shares[1].share).toBeLessThan(0.75);
    expect(shares[2].share).toBeGreaterThanOrEqual(0.95);
    const last = ingress.filter((e) => e.host === view.fqdn && e.time > end - 300);
    expect(last.every((e) => e.revision === `${app}--v2`)).toBe(true);

    const final = expectInvariants(emulator, app, run, {
      traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
      production: { label: "blue", revision: `${app}--v2` },
    });
    expect(final.revisions.find((r) => r.name === `${app}--v1`)?.active).toBe(false);
    expect(run.outputs).toMatchObject({
      result: "promoted",
      revision: `${app}--v2`,
      "previous-revision": `${app}--v1`,
      "app-url": `https://${view.fqdn}`,
      "label-url": `https://${app}---green.${view.fqdn.slice(app.length + 1)}`,
      image: image("healthy-v2"),
    });
    expect(JSON.parse(run.outputs.traffic)).toEqual([
      { revisionName: `${app}--v2`, weight: 100, label: "blue" },
    ]);
    expect(run.summary).toContain(`${app}--v2`);
    expect(run.summary).toMatch(/promoted/i);
    expect(run.summary).toContain("10%");
    expect(run.summary).toContain("50%");
  });

  test("when the candidate fails its smoke checks, it never receives production traffic and the app ends as it started", async () => {
    const app = "shop-smoke-fail";
    const view = await seedApp(emulator, app);
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("http500"),
        "revision-suffix": "bad",
        "traffic-steps": "10,100",
        ...FAST,
        "smoke-timeout": "1500ms",
      },
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("failed-before-traffic");
    expect(run.stdout).toMatch(/SmokeChecksFailed|smoke checks/i);
    const candidate = `${app}--bad`;
    const patches = armWrites(emulator).filter(
      (e) => e.method === "PATCH" && e.path.endsWith(`/containerApps/${app}`),
    );
    for (const patch of patches) {
      const traffic =
        (
          patch.body as {
            properties?: {
              configuration?: {
                ingress?: { traffic?: { revisionName?: string; weight: number }[] };
              };
            };
          }
        )?.properties?.configuration?.ingress?.traffic ?? [];
      expect(traffic.filter((e) => e.revisionName === candidate && e.weight > 0)).toEqual([]);
    }
    const servedByCandidate = emulator
      .ingressJournal()
      .filter((e) => e.host === view.fqdn && e.revision === candidate);
    expect(servedByCandidate).toEqual([]);
    const final = expectInvariants(emulator, app, run, { traffic: view.traffic });
    expect(final.revisions.find((r) => r.name === candidate)?.active).toBe(false);
    expect(final.revisions.find((r) => r.name === `${app}--v1`)?.active).toBe(true);
  });

  test("when the same release is deployed again, nothing changes and the result is unchanged", async () => {
    const app = "shop-rerun";
    await seedApp(emulator, app);
    const inputs = {
      "container-app": app,
      image: image("healthy"),
      "revision-suffix": "v2",
      ...FAST,
      "step-wait": "0s",
    };
    const first = await runAction(emulator, { inputs });
    expect(first.exitCode).toBe(0);
    emulator.clearJournal();
    const second = await runAction(emulator, { inputs });
    expect(second.exitCode).toBe(0);
    expect(second.outputs.result).toBe("unchanged");
    expect(armWrites(emulator)).toEqual([]);
    expectInvariants(emulator, app, second, {
      traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
    });
  });

  test("when the run is a dry run, the plan is printed and Azure is not written to", async () => {
    const app = "shop-dry-run";
    const view = await seedApp(emulator, app);
    emulator.clearJournal();
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy"),
        "dry-run": "true",
        "traffic-steps": "20,100",
      },
    });
    expect(run.exitCode).toBe(0);
    expect(armWrites(emulator)).toEqual([]);
    expect(run.stdout).toContain("step 1");
    expectInvariants(emulator, app, run, { traffic: view.traffic });
  });
});

describe("Given an app split over three revisions with custom labels", () => {
  test("when the candidate starts failing during step 2, the exact original split is restored", async () => {
    const app = "shop-three-way";
    const view = await seedApp(emulator, app, {
      revisions: [
        { suffix: "a", image: image("healthy") },
        { suffix: "b", image: image("healthy") },
        { suffix: "c", image: image("healthy") },
      ],
      traffic: [
        { revisionName: `${app}--a`, weight: 60, label: "stable" },
        { revisionName: `${app}--b`, weight: 30, label: "beta" },
        { revisionName: `${app}--c`, weight: 10 },
      ],
    });
    const candidate = `${app}--d`;
    let broke = false;
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy"),
        "revision-suffix": "d",
        "traffic-steps": "10,50,100",
        "production-label": "stable",
        ...FAST,
        "step-wait": "3s",
      },
      onLine: (text) => {
        if (!broke && text.startsWith("[2/3]")) {
          broke = true;
          void emulator.setRevisionBehaviour(RESOURCE_GROUP, app, candidate, "http500");
        }
      },
    });
    expect(broke).toBe(true);
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("rolled-back");
    expect(run.summary).toMatch(/rolled back/i);
    const final = expectInvariants(emulator, app, run, { traffic: view.traffic });
    for (const name of ["a", "b", "c"]) {
      expect(final.revisions.find((r) => r.name === `${app}--${name}`)?.active).toBe(true);
    }
    expect(final.revisions.find((r) => r.name === candidate)?.active).toBe(false);
  });
});

describe("Given a candidate that cannot start", () => {
  test("when its provisioning fails, the deploy ends cleanly before any traffic", async () => {
    const app = "shop-provision-fail";
    const view = await seedApp(emulator, app);
    emulator.injectRevisionFault({ app, mode: "fail-provisioning" });
    const run = await runAction(emulator, {
      inputs: { "container-app": app, image: image("healthy"), "revision-suffix": "v2", ...FAST },
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("failed-before-traffic");
    // The service reports the failed write as final: it is sent once, never again.
    expect(run.stdout).toContain("ContainerAppOperationError");
    const creates = armWrites(emulator).filter(
      (e) =>
        e.method === "PATCH" &&
        e.path.endsWith(`/containerApps/${app}`) &&
        JSON.stringify(e.body).includes('"revisionSuffix":"v2"'),
    );
    expect(creates).toHaveLength(1);
    expectInvariants(emulator, app, run, { traffic: view.traffic });
  });

  test("when it crashes at start, the deploy ends cleanly before any traffic", async () => {
    const app = "shop-crash";
    const view = await seedApp(emulator, app);
    const run = await runAction(emulator, {
      inputs: { "container-app": app, image: image("crash"), "revision-suffix": "v2", ...FAST },
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("failed-before-traffic");
    expectInvariants(emulator, app, run, { traffic: view.traffic });
  });

  test("when it is not ready before readiness-timeout, the deploy ends cleanly before any traffic", async () => {
    const app = "shop-never-ready";
    const view = await seedApp(emulator, app);
    emulator.injectRevisionFault({ app, mode: "never-ready" });
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy"),
        "revision-suffix": "v2",
        ...FAST,
        "readiness-timeout": "2s",
      },
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("failed-before-traffic");
    expect(run.stdout).toContain("readiness-timeout");
    const final = expectInvariants(emulator, app, run, { traffic: view.traffic });
    expect(final.revisions.find((r) => r.name === `${app}--v2`)?.active).toBe(false);
  });
});

describe("Given a deploy interrupted during the bake of step 2", () => {
  test("when the runner sends SIGTERM, the original traffic is restored and the post step has nothing left to do", async () => {
    const app = "shop-sigterm";
    const view = await seedApp(emulator, app);
    const inputs = {
      "container-app": app,
      image: image("healthy"),
      "revision-suffix": "v2",
      "traffic-steps": "10,50,100",
      ...FAST,
      "step-wait": "3s",
    };
    const main = await runAction(emulator, {
      inputs,
      signalOn: { pattern: /^\[2\/3\]/, signal: "SIGTERM" },
    });
    expect(main.exitCode).toBe(1);
    const post = await runAction(emulator, { inputs, entry: "dist/post.js", state: main.state });
    expect(post.exitCode).toBe(0);
    expectInvariants(emulator, app, main, { traffic: view.traffic });
  });

  test("when the process is killed outright, the post step restores the original traffic", async () => {
    const app = "shop-sigkill";
    const view = await seedApp(emulator, app);
    const inputs = {
      "container-app": app,
      image: image("healthy"),
      "revision-suffix": "v2",
      "traffic-steps": "10,50,100",
      ...FAST,
      "step-wait": "3s",
    };
    const main = await runAction(emulator, {
      inputs,
      signalOn: { pattern: /^\[2\/3\]/, signal: "SIGKILL" },
    });
    expect(main.signal).toBe("SIGKILL");
    expect(emulator.getApp(RESOURCE_GROUP, app).traffic.some((e) => e.weight === 50)).toBe(true);
    const post = await runAction(emulator, { inputs, entry: "dist/post.js", state: main.state });
    expect(post.exitCode).toBe(0);
    expect(post.stdout).toContain("Traffic restored");
    const final = expectInvariants(emulator, app, post, { traffic: view.traffic });
    expect(final.revisions.find((r) => r.name === `${app}--v2`)?.active).toBe(false);
  });
});

describe("Given an app in Single revision mode", () => {
  test("when v2 is deployed, the app switches to Multiple in the same write and v2 is promoted", async () => {
    const app = "shop-single";
    await seedApp(emulator, app, { activeRevisionsMode: "Single", traffic: undefined });
    const run = await runAction(emulator, {
      inputs: { "container-app": app, image: image("healthy"), "revision-suffix": "v2", ...FAST },
    });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("switching it to Multiple");
    const view = expectInvariants(emulator, app, run, {
      traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
    });
    expect(view.activeRevisionsMode).toBe("Multiple");
  });
});

describe("Given a service principal with a client secret (creds)", () => {
  test("when it deploys, the secret authenticates, is masked, and never reaches the log, summary or outputs", async () => {
    const app = "shop-creds";
    await seedApp(emulator, app);
    const { info } = emulator;
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy"),
        "revision-suffix": "v2",
        "client-id": "",
        "tenant-id": "",
        creds: JSON.stringify({
          clientId: info.clientId,
          clientSecret: info.clientSecret,
          tenantId: info.tenantId,
          subscriptionId: info.subscriptionId,
        }),
        ...FAST,
        "step-wait": "0s",
      },
      env: { ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined },
    });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("with a client secret");
    expect(run.stdout).toContain(`::add-mask::${info.clientSecret}`);
    expectInvariants(emulator, app, run, {
      traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
    });
  });
});
