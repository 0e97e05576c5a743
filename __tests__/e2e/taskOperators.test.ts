/**
 * The operator verbs of the Azure Pipelines task — held deploy, promote, reject, rollback, status —
 * run through the task's real bundle as the agent runs it, proved from the emulator's journal and
 * the app's final state, the same way as the Action's.
 */
import type { AppView, Emulator } from "../../emulator/types.ts";
import {
  RESOURCE_GROUP,
  armWrites,
  expectInvariants,
  image,
  seedApp,
  startWorld,
} from "./harness.ts";
import { runTask, type TaskRun } from "./taskHarness.ts";

let emulator: Emulator;
const FAST = {
  stepWait: "500ms",
  checkInterval: "200ms",
  smokeTimeout: "5s",
  readinessTimeout: "20s",
};

beforeAll(async () => {
  emulator = await startWorld();
});
afterAll(async () => {
  await emulator?.stop();
});

type IngressBody = { properties?: { configuration?: { ingress?: unknown } } };

/** Successful ARM writes aimed at `app` or its revisions. */
function appWrites(app: string) {
  return armWrites(emulator).filter(
    (entry) =>
      entry.status < 400 &&
      (entry.path.endsWith(`/containerApps/${app}`) ||
        entry.path.includes(`/containerApps/${app}/`)),
  );
}

/** The revision actions posted, as `<revision>/<action>`, in order. */
function revisionPosts(app: string): string[] {
  return appWrites(app)
    .filter((entry) => entry.method === "POST")
    .map((entry) => entry.path.split("/").slice(-2).join("/"));
}

function revision(view: AppView, name: string) {
  return view.revisions.find((candidate) => candidate.name === name);
}

const heldTags = (app: string) =>
  Object.keys(emulator.getApp(RESOURCE_GROUP, app).tags).filter((tag) =>
    tag.startsWith("aca-blue-green.held"),
  );

function expectSucceeded(run: TaskRun) {
  expect(run.stderr).toBe("");
  expect(run.exitCode).toBe(0);
  expect(run.record.result?.result).toBe("Succeeded");
}

describe("Given the task held a deploy of v2 at 10%", () => {
  async function holdV2(app: string): Promise<AppView> {
    const seeded = await seedApp(emulator, app);
    const run = await runTask(emulator, {
      inputs: {
        containerApp: app,
        image: image("healthy-v2"),
        revisionSuffix: "v2",
        trafficSteps: "50,100",
        autoPromote: "false",
        holdAt: "10",
        ...FAST,
      },
    });
    expectSucceeded(run);
    expect(run.outputs.result).toBe("held");
    expect(run.outputs.revision).toBe(`${app}--v2`);
    const view = expectInvariants(emulator, app, run, {
      traffic: [
        { revisionName: `${app}--v1`, weight: 90, label: "blue" },
        { revisionName: `${app}--v2`, weight: 10, label: "green" },
      ],
    });
    expect(revision(view, `${app}--v1`)?.active).toBe(true);
    expect(revision(view, `${app}--v2`)?.active).toBe(true);
    expect(heldTags(app).length).toBeGreaterThan(0);
    return seeded;
  }

  test("when a second run promotes it, v2 goes through the remaining steps to 100% under the production label and v1 is deactivated", async () => {
    const app = "task-ops-promote";
    await holdV2(app);
    const run = await runTask(emulator, {
      inputs: { action: "promote", containerApp: app, ...FAST },
    });
    expectSucceeded(run);
    expect(run.outputs.result).toBe("promoted");
    expect(run.outputs.revision).toBe(`${app}--v2`);
    expect(run.stdout).toContain("[2/3] 50%");
    expect(run.stdout).toContain("[3/3] 100%");
    const view = expectInvariants(emulator, app, run, {
      traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
      production: { label: "blue", revision: `${app}--v2` },
    });
    expect(revision(view, `${app}--v1`)?.active).toBe(false);
    expect(revision(view, `${app}--v2`)?.active).toBe(true);
    expect(heldTags(app)).toEqual([]);
  });

  test("when a second run rejects it, the traffic it found is restored exactly and v2 is deactivated", async () => {
    const app = "task-ops-reject";
    const seeded = await holdV2(app);
    const run = await runTask(emulator, {
      inputs: { action: "reject", containerApp: app, ...FAST },
    });
    expectSucceeded(run);
    expect(run.outputs.result).toBe("rolled-back");
    const view = expectInvariants(emulator, app, run, {
      traffic: seeded.traffic,
      production: { label: "blue", revision: `${app}--v1` },
    });
    expect(revision(view, `${app}--v2`)?.active).toBe(false);
    expect(revision(view, `${app}--v1`)?.active).toBe(true);
    expect(heldTags(app)).toEqual([]);
  });
});

describe("Given the task promoted v2 over v1, with v1 deactivated", () => {
  async function promoted(app: string) {
    await seedApp(emulator, app);
    const run = await runTask(emulator, {
      inputs: {
        containerApp: app,
        image: image("healthy-v2"),
        revisionSuffix: "v2",
        ...FAST,
      },
    });
    expectSucceeded(run);
    expect(run.outputs.result).toBe("promoted");
    const view = expectInvariants(emulator, app, run, {
      traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
    });
    expect(revision(view, `${app}--v1`)?.active).toBe(false);
  }

  test("when a run rolls back, v1 is activated, given 100% in one traffic write, and v2 is deactivated", async () => {
    const app = "task-ops-rollback";
    await promoted(app);
    emulator.clearJournal();
    const run = await runTask(emulator, {
      inputs: { action: "rollback", containerApp: app, ...FAST },
    });
    expectSucceeded(run);
    expect(run.outputs.result).toBe("rolled-back");
    expect(run.outputs.revision).toBe(`${app}--v1`);
    expect(revisionPosts(app)).toEqual([`${app}--v1/activate`, `${app}--v2/deactivate`]);
    const trafficWrites = appWrites(app).filter(
      (entry) =>
        entry.method === "PATCH" && (entry.body as IngressBody)?.properties?.configuration?.ingress,
    );
    expect(trafficWrites).toHaveLength(1);
    const checked = emulator
      .ingressJournal()
      .filter((entry) => entry.route === "revision" && entry.revision === `${app}--v1`);
    expect(checked.length).toBeGreaterThan(0);
    const view = expectInvariants(emulator, app, run, {
      traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
      production: { label: "blue", revision: `${app}--v1` },
    });
    expect(revision(view, `${app}--v1`)?.active).toBe(true);
    expect(revision(view, `${app}--v2`)?.active).toBe(false);
  });

  test("when a run asks for the status, the status output variable lists the revisions and traffic as JSON and nothing is written", async () => {
    const app = "task-ops-status";
    await promoted(app);
    const before = emulator.getApp(RESOURCE_GROUP, app);
    emulator.clearJournal();
    const run = await runTask(emulator, { inputs: { action: "status", containerApp: app } });
    expectSucceeded(run);
    expect(emulator.armJournal().length).toBeGreaterThan(0);
    expect(armWrites(emulator)).toEqual([]);
    expect(run.outputs.status).toBeDefined();
    const status = JSON.parse(run.outputs.status) as {
      traffic: AppView["traffic"];
      revisions: { name: string }[];
      lastPromotion?: unknown;
    };
    expect(status.traffic).toEqual([{ revisionName: `${app}--v2`, weight: 100, label: "blue" }]);
    expect(status.revisions.map((r) => r.name).sort()).toEqual([`${app}--v1`, `${app}--v2`]);
    expect(status.lastPromotion).toMatchObject({ revision: `${app}--v2`, previous: `${app}--v1` });
    expect(run.summary).toContain(`${app}--v2`);
    expectInvariants(emulator, app, run, { traffic: before.traffic });
    expect(emulator.getApp(RESOURCE_GROUP, app)).toEqual(before);
  });
});
