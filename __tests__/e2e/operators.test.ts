/**
 * Operator verbs end to end — held deploys, promote, reject, rollback, status, leases — proved from
 * the emulator's journal and the app's final state.
 */
import type { Emulator } from "../../emulator/types.ts";
import {
  RESOURCE_GROUP,
  armWrites,
  expectInvariants,
  image,
  runAction,
  seedApp,
  startWorld,
  visibleLog,
} from "./harness.ts";
import { startGitHubApi } from "../support/githubApi.ts";

let emulator: Emulator;
const FAST = {
  "step-wait": "500ms",
  "check-interval": "200ms",
  "smoke-timeout": "5s",
  "readiness-timeout": "20s",
};

beforeAll(async () => {
  emulator = await startWorld();
});
afterAll(async () => {
  await emulator?.stop();
});

const heldTags = (app: string) =>
  Object.keys(emulator.getApp(RESOURCE_GROUP, app).tags).filter((t) =>
    t.startsWith("aca-blue-green.held"),
  );

describe("Given a deploy held at 10%", () => {
  async function holdV2(app: string) {
    await seedApp(emulator, app);
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v2"),
        "revision-suffix": "v2",
        "traffic-steps": "50,100",
        "auto-promote": "false",
        "hold-at": "10",
        ...FAST,
      },
    });
    expect(run.exitCode).toBe(0);
    expect(run.outputs.result).toBe("held");
    expectInvariants(emulator, app, run, {
      traffic: [
        { revisionName: `${app}--v1`, weight: 90, label: "blue" },
        { revisionName: `${app}--v2`, weight: 10, label: "green" },
      ],
    });
    expect(heldTags(app).length).toBeGreaterThan(0);
    return run;
  }

  test("when it is promoted, it continues through the remaining steps to 100% and retires v1", async () => {
    const app = "ops-promote";
    await holdV2(app);
    const run = await runAction(emulator, {
      inputs: { "container-app": app, action: "promote", ...FAST },
    });
    expect(run.exitCode).toBe(0);
    expect(run.outputs.result).toBe("promoted");
    expect(run.stdout).toContain("[2/3] 50%");
    expect(run.stdout).toContain("[3/3] 100%");
    const view = expectInvariants(emulator, app, run, {
      traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
    });
    expect(view.revisions.find((r) => r.name === `${app}--v1`)?.active).toBe(false);
    expect(heldTags(app)).toEqual([]);
  });

  test("when it is rejected, the traffic it found is restored and the candidate deactivated", async () => {
    const app = "ops-reject";
    const view = await seedApp(emulator, app);
    await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v2"),
        "revision-suffix": "v2",
        "auto-promote": "false",
        "hold-at": "10",
        ...FAST,
      },
    });
    const run = await runAction(emulator, {
      inputs: { "container-app": app, action: "reject", ...FAST },
    });
    expect(run.exitCode).toBe(0);
    expect(run.outputs.result).toBe("rolled-back");
    const final = expectInvariants(emulator, app, run, { traffic: view.traffic });
    expect(final.revisions.find((r) => r.name === `${app}--v2`)?.active).toBe(false);
    expect(heldTags(app)).toEqual([]);
  });

  test("when someone changed the traffic meanwhile, promote refuses and changes nothing", async () => {
    const app = "ops-promote-drift";
    await holdV2(app);
    const drifted = [
      { revisionName: `${app}--v1`, weight: 70, label: "blue" },
      { revisionName: `${app}--v2`, weight: 30, label: "green" },
    ];
    await emulator.setTraffic(RESOURCE_GROUP, app, drifted);
    emulator.clearJournal();
    const run = await runAction(emulator, {
      inputs: { "container-app": app, action: "promote", ...FAST },
    });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain("HeldStateChanged");
    expect(armWrites(emulator)).toEqual([]);
    expect(emulator.getApp(RESOURCE_GROUP, app).traffic).toEqual(drifted);
  });

  test("when a new deploy starts, it refuses to run over the held one", async () => {
    const app = "ops-held-redeploy";
    await holdV2(app);
    emulator.clearJournal();
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v3"),
        "revision-suffix": "v3",
        ...FAST,
      },
    });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain("DeploymentHeld");
    expect(armWrites(emulator)).toEqual([]);
  });
});

describe("Given an app promoted from v1 to v2, with v1 deactivated", () => {
  async function promoted(app: string) {
    await seedApp(emulator, app);
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v2"),
        "revision-suffix": "v2",
        ...FAST,
      },
    });
    expect(run.exitCode).toBe(0);
    expect(
      emulator.getApp(RESOURCE_GROUP, app).revisions.find((r) => r.name === `${app}--v1`)?.active,
    ).toBe(false);
  }

  test("when it is rolled back, v1 is activated, checked and given 100% with one traffic write", async () => {
    const app = "ops-rollback";
    await promoted(app);
    emulator.clearJournal();
    const run = await runAction(emulator, {
      inputs: { "container-app": app, action: "rollback", ...FAST },
    });
    expect(run.exitCode).toBe(0);
    expect(run.outputs.result).toBe("rolled-back");
    expect(run.outputs.revision).toBe(`${app}--v1`);
    const writes = armWrites(emulator).filter((e) => e.status < 400);
    const posts = writes
      .filter((e) => e.method === "POST")
      .map((e) => e.path.split("/").slice(-2).join("/"));
    expect(posts).toEqual([`${app}--v1/activate`, `${app}--v2/deactivate`]);
    const trafficWrites = writes.filter(
      (e) =>
        e.method === "PATCH" &&
        (e.body as { properties?: { configuration?: { ingress?: unknown } } })?.properties
          ?.configuration?.ingress,
    );
    expect(trafficWrites).toHaveLength(1);
    const served = emulator
      .ingressJournal()
      .filter((e) => e.route === "revision" && e.revision === `${app}--v1`);
    expect(served.length).toBeGreaterThan(0);
    const view = expectInvariants(emulator, app, run, {
      traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
    });
    expect(view.revisions.find((r) => r.name === `${app}--v2`)?.active).toBe(false);
  });

  test("when it is rolled back to an explicit revision by suffix, that revision serves 100%", async () => {
    const app = "ops-rollback-to";
    await promoted(app);
    await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v3"),
        "revision-suffix": "v3",
        ...FAST,
      },
    });
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        action: "rollback",
        "rollback-to": "v1",
        "skip-checks": "true",
        ...FAST,
      },
    });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("skip-checks");
    expectInvariants(emulator, app, run, {
      traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
    });
  });

  test("when the status is asked for, the revisions, traffic and last promotion come back as JSON", async () => {
    const app = "ops-status";
    await promoted(app);
    emulator.clearJournal();
    const run = await runAction(emulator, { inputs: { "container-app": app, action: "status" } });
    expect(run.exitCode).toBe(0);
    expect(armWrites(emulator)).toEqual([]);
    const status = JSON.parse(run.outputs.status);
    expect(status.traffic).toEqual([{ revisionName: `${app}--v2`, weight: 100, label: "blue" }]);
    expect(status.revisions.map((r: { name: string }) => r.name).sort()).toEqual([
      `${app}--v1`,
      `${app}--v2`,
    ]);
    expect(status.lastPromotion).toMatchObject({ revision: `${app}--v2`, previous: `${app}--v1` });
    expect(run.summary).toContain(`${app}--v2`);
  });
});

describe("Given two runs against the same app", () => {
  test("when two deploys start together, one fails fast naming the holder and the app stays consistent", async () => {
    const app = "ops-race";
    await seedApp(emulator, app);
    const deployOf = (suffix: string) =>
      runAction(emulator, {
        inputs: {
          "container-app": app,
          image: image(`healthy-${suffix}`),
          "revision-suffix": suffix,
          "traffic-steps": "50,100",
          ...FAST,
        },
      });
    const [a, b] = await Promise.all([deployOf("va"), deployOf("vb")]);
    const runs = [a, b];
    const winners = runs.filter((r) => r.exitCode === 0);
    const losers = runs.filter((r) => r.exitCode !== 0);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expect(losers[0].stdout).toMatch(/LeaseHeld|LeaseLost/);
    expect(losers[0].stdout).toContain('workflow "Deploy" run');
    const winner = winners[0].outputs.revision;
    expectInvariants(emulator, app, winners[0], {
      traffic: [{ revisionName: winner, weight: 100, label: "blue" }],
    });
  });

  test("when a lease is left by a run that is gone, the next deploy takes it over and says so", async () => {
    const app = "ops-stale-lease";
    await seedApp(emulator, app, {
      tags: {
        "aca-blue-green.lease": JSON.stringify({
          runId: "github:contoso/shop/1/1",
          holder: 'workflow "Deploy" run 1 attempt 1 in contoso/shop',
          since: "2026-01-01T00:00:00.000Z",
          until: "2026-01-01T01:00:00.000Z",
        }),
      },
    });
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v2"),
        "revision-suffix": "v2",
        ...FAST,
      },
    });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/Taking over the lease of workflow "Deploy" run 1/);
    expectInvariants(emulator, app, run, {
      traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
    });
  });
});

describe("Given a workflow token that may write deployments", () => {
  test("when v2 then v3 are deployed, GitHub gets a deployment each, marked as the tool's, success with the app URL, and v2's turns inactive", async () => {
    const app = "ops-deployments";
    const view = await seedApp(emulator, app);
    const api = await startGitHubApi({
      tokens: { "ghs-deploy-token": "write" },
      repository: "contoso/shop",
    });
    try {
      const deployOf = (suffix: string) =>
        runAction(emulator, {
          inputs: {
            "container-app": app,
            image: image(`healthy-${suffix}`),
            "revision-suffix": suffix,
            "github-token": "ghs-deploy-token",
            ...FAST,
          },
          env: { GITHUB_API_URL: api.url, NO_PROXY: "127.0.0.1" },
        });
      const v2 = await deployOf("v2");
      expect(v2.exitCode).toBe(0);
      const v3 = await deployOf("v3");
      expect(v3.exitCode).toBe(0);
      const deployments = api.deployments().filter((d) => d.environment === app);
      expect(deployments).toHaveLength(2);
      expect(deployments[0].states).toEqual(["success", "inactive"]);
      expect(deployments[1].states).toEqual(["success"]);
      expect(deployments[1].payload).toMatchObject({
        tool: "aca-blue-green",
        action: "deploy",
        revision: `${app}--v3`,
        result: "promoted",
      });
      const created = api.requests.find(
        (r) => r.method === "POST" && r.path.endsWith("/deployments"),
      );
      expect(created?.body).toMatchObject({ task: "deploy:aca-blue-green", environment: app });
      expect(deployments[1].environmentUrl).toBe(`https://${view.fqdn}`);
      expect(visibleLog(v3)).not.toContain("ghs-deploy-token");
    } finally {
      await api.close();
    }
  });
});

describe("Given v2 promoted with deactivate-previous: false", () => {
  test("when it is rolled back, v1 (still running under the previous label) takes 100% without an activation", async () => {
    const app = "ops-kept-previous";
    await seedApp(emulator, app);
    const deployed = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v2"),
        "revision-suffix": "v2",
        "deactivate-previous": "false",
        ...FAST,
      },
    });
    expect(deployed.exitCode).toBe(0);
    expectInvariants(emulator, app, deployed, {
      traffic: [
        { revisionName: `${app}--v2`, weight: 100, label: "blue" },
        { revisionName: `${app}--v1`, weight: 0, label: "previous" },
      ],
    });
    emulator.clearJournal();
    const run = await runAction(emulator, {
      inputs: { "container-app": app, action: "rollback", ...FAST },
    });
    expect(run.exitCode).toBe(0);
    const posts = armWrites(emulator)
      .filter((e) => e.method === "POST" && e.status < 400)
      .map((e) => e.path.split("/").slice(-2).join("/"));
    expect(posts).toEqual([`${app}--v2/deactivate`]);
    expectInvariants(emulator, app, run, {
      traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
    });
  });
});
