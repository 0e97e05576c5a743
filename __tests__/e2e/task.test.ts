/**
 * The Azure Pipelines task end to end: its real bundle, run as the agent runs it on the Node24 and
 * the Node20_1 handlers, against the emulator, proved from the emulator's journals and the app's
 * final state — the same scenarios as the Action.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AppView, Emulator } from "../../emulator/types.ts";
import {
  RESOURCE_GROUP,
  ROOT,
  armWrites,
  expectInvariants,
  image,
  seedApp,
  startWorld,
} from "./harness.ts";
import { emulatorConnection, newJob, runTask, systemNode20 } from "./taskHarness.ts";

let emulator: Emulator;
const FAST = {
  stepWait: "1500ms",
  checkInterval: "250ms",
  smokeTimeout: "5s",
  readinessTimeout: "20s",
};

beforeAll(async () => {
  emulator = await startWorld();
});
afterAll(async () => {
  await emulator?.stop();
});

type TrafficBody = {
  properties?: { configuration?: { ingress?: { traffic?: AppView["traffic"] } } };
};

/** The traffic arrays of the PATCHes sent to `app`, in order. */
function trafficWrites(app: string): AppView["traffic"][] {
  return armWrites(emulator)
    .filter((entry) => entry.method === "PATCH" && entry.path.endsWith(`/containerApps/${app}`))
    .map((entry) => (entry.body as TrafficBody)?.properties?.configuration?.ingress?.traffic)
    .filter((traffic): traffic is AppView["traffic"] => traffic !== undefined);
}

function revision(view: AppView, name: string) {
  return view.revisions.find((candidate) => candidate.name === name);
}

describe.each([
  ["Node 24, the Node24 handler", () => process.execPath],
  ["Node 20, the Node20_1 handler", systemNode20],
])("Given the task on %s", (_handler, nodeBinary) => {
  let node: string;
  let major: string;

  beforeAll(() => {
    node = nodeBinary();
    major = execFileSync(node, ["-p", "process.versions.node.split('.')[0]"], {
      encoding: "utf8",
    }).trim();
  });

  test("runs on that Node", () => {
    expect(["20", "24"]).toContain(major);
    expect(major).toBe(node === process.execPath ? "24" : "20");
  });

  test("when v2 is deployed through 10, 50, 100, it is promoted, v1 is deactivated, and the outputs and summary reach the run", async () => {
    const app = `task-progressive-${major}`;
    const view = await seedApp(emulator, app);
    const candidate = `${app}--v2`;
    const run = await runTask(emulator, {
      node,
      inputs: {
        containerApp: app,
        image: image("healthy-v2"),
        revisionSuffix: "v2",
        trafficSteps: "10,50,100",
        ...FAST,
      },
    });
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);

    const weights = trafficWrites(app).map(
      (traffic) => traffic.find((entry) => entry.revisionName === candidate)?.weight ?? 0,
    );
    expect(weights.filter((weight, i) => weight !== weights[i - 1])).toEqual([0, 10, 50, 100]);
    const final = expectInvariants(emulator, app, run, {
      traffic: [{ revisionName: candidate, weight: 100, label: "blue" }],
      production: { label: "blue", revision: candidate },
    });
    expect(revision(final, `${app}--v1`)?.active).toBe(false);

    const declared = (
      JSON.parse(readFileSync(join(ROOT, "task", "task.json"), "utf8")) as {
        outputVariables: { name: string }[];
      }
    ).outputVariables.map((output) => output.name);
    expect(Object.keys(run.outputs).sort()).toEqual([...declared].sort());
    expect(run.outputs).toMatchObject({
      result: "promoted",
      revision: candidate,
      previousRevision: `${app}--v1`,
      labelUrl: `https://${app}---green.${view.fqdn.slice(app.length + 1)}`,
      appUrl: `https://${view.fqdn}`,
      traffic: JSON.stringify([{ revisionName: candidate, weight: 100, label: "blue" }]),
      image: image("healthy-v2"),
    });
    expect(run.record.result).toEqual({
      result: "Succeeded",
      message: `Result: promoted (${candidate})`,
    });
    expect(run.record.summaries).toHaveLength(1);
    expect(run.summary).toContain(candidate);
    expect(run.summary).toMatch(/promoted/i);
    expect(run.summary).toContain("10%");
    expect(run.summary).toContain("50%");
    expect(run.lines.some((line) => line.text.startsWith("##[group]"))).toBe(true);
    expect(run.lines.filter((line) => line.text === "##[endgroup]").length).toBe(
      run.lines.filter((line) => line.text.startsWith("##[group]")).length,
    );
  });

  test("when the candidate fails its smoke checks, it never receives production traffic and the app ends as it started", async () => {
    const app = `task-smoke-fail-${major}`;
    const view = await seedApp(emulator, app);
    const candidate = `${app}--bad`;
    const run = await runTask(emulator, {
      node,
      inputs: {
        containerApp: app,
        image: image("http500"),
        revisionSuffix: "bad",
        trafficSteps: "10,100",
        ...FAST,
        smokeTimeout: "1500ms",
      },
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("failed-before-traffic");
    for (const traffic of trafficWrites(app)) {
      expect(
        traffic.filter((entry) => entry.revisionName === candidate && entry.weight > 0),
      ).toEqual([]);
    }
    const servedByCandidate = emulator
      .ingressJournal()
      .filter((entry) => entry.host === view.fqdn && entry.revision === candidate);
    expect(servedByCandidate).toEqual([]);
    const final = expectInvariants(emulator, app, run, { traffic: view.traffic });
    expect(revision(final, candidate)?.active).toBe(false);
    expect(revision(final, `${app}--v1`)?.active).toBe(true);
    expect(run.record.result?.result).toBe("Failed");
    expect(run.record.result?.message).toMatch(/smoke check/i);
    expect(run.record.issues.some((issue) => issue.type === "error")).toBe(true);
  });

  test("when the candidate starts failing during step 2, the exact original split is restored", async () => {
    const app = `task-three-way-${major}`;
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
    const run = await runTask(emulator, {
      node,
      inputs: {
        containerApp: app,
        image: image("healthy"),
        revisionSuffix: "d",
        trafficSteps: "10,50,100",
        productionLabel: "stable",
        ...FAST,
        stepWait: "3s",
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
    expect(trafficWrites(app).some((traffic) => traffic.some((e) => e.weight === 50))).toBe(true);
    const final = expectInvariants(emulator, app, run, { traffic: view.traffic });
    for (const name of ["a", "b", "c"])
      expect(revision(final, `${app}--${name}`)?.active).toBe(true);
    expect(revision(final, candidate)?.active).toBe(false);
    expect(run.record.result?.result).toBe("Failed");
  });

  test("when an input is invalid, the task exits 1 naming it and Azure is never called", async () => {
    const app = `task-inputs-${major}`;
    await seedApp(emulator, app);
    emulator.clearJournal();
    const run = await runTask(emulator, {
      node,
      inputs: { containerApp: app, image: image("healthy"), trafficSteps: "50,10" },
    });
    expect(run.exitCode).toBe(1);
    const errors = run.record.issues.filter((issue) => issue.type === "error");
    expect(errors.some((issue) => issue.message.startsWith("trafficSteps:"))).toBe(true);
    expect(run.record.result).toEqual({
      result: "Failed",
      message: "Invalid input: trafficSteps. Nothing was changed in Azure.",
    });
    expect(emulator.armJournal()).toEqual([]);
  });

  test("when the job is cancelled during step 1, the task restores the original traffic itself and the post-job step has nothing left to do", async () => {
    const app = `task-cancel-${major}`;
    const view = await seedApp(emulator, app);
    const job = newJob();
    const inputs = {
      containerApp: app,
      image: image("healthy"),
      revisionSuffix: "v2",
      trafficSteps: "10,50,100",
      ...FAST,
      stepWait: "20s",
    };
    const main = await runTask(emulator, {
      node,
      job,
      inputs,
      signalOn: { pattern: /^\[1\/3\]/, signal: "SIGINT" },
    });
    expect(main.exitCode).toBe(1);
    expect(main.record.result?.result).toBe("Failed");
    const candidateWeights = trafficWrites(app).flatMap((traffic) =>
      traffic.filter((entry) => entry.revisionName === `${app}--v2`).map((entry) => entry.weight),
    );
    expect(candidateWeights).toContain(10);
    expect(main.stdout).toContain("Traffic restored");
    const final = expectInvariants(emulator, app, main, { traffic: view.traffic });
    expect(revision(final, `${app}--v2`)?.active).toBe(false);
    const post = await runTask(emulator, {
      node,
      job,
      entry: "task/post.js",
      inputs,
      taskVariables: main.state,
    });
    expect(post.exitCode).toBe(0);
    expect(post.stdout).not.toContain("Traffic restored");
  });

  test("when the process is killed outright during step 1, the post-job step restores the original traffic", async () => {
    const app = `task-killed-${major}`;
    const view = await seedApp(emulator, app);
    const job = newJob();
    const inputs = {
      containerApp: app,
      image: image("healthy"),
      revisionSuffix: "v2",
      trafficSteps: "10,50,100",
      ...FAST,
      stepWait: "20s",
    };
    const main = await runTask(emulator, {
      node,
      job,
      inputs,
      signalOn: { pattern: /^\[1\/3\]/, signal: "SIGKILL" },
    });
    expect(main.signal).toBe("SIGKILL");
    expect(emulator.getApp(RESOURCE_GROUP, app).traffic).toContainEqual(
      expect.objectContaining({ revisionName: `${app}--v2`, weight: 10 }),
    );
    expect(Object.keys(main.state)).toEqual(["aca_blue_green_journal"]);
    const post = await runTask(emulator, {
      node,
      job,
      entry: "task/post.js",
      inputs,
      taskVariables: main.state,
    });
    expect(post.exitCode).toBe(0);
    expect(post.stdout).toContain("Traffic restored");
    const final = expectInvariants(emulator, app, post, { traffic: view.traffic });
    expect(revision(final, `${app}--v2`)?.active).toBe(false);
  });

  test("with a service principal secret, a dry run signs in, writes nothing, and the secret stays out of the log", async () => {
    const app = `task-secret-${major}`;
    const view = await seedApp(emulator, app);
    emulator.clearJournal();
    const { clientSecret } = emulator.info;
    const run = await runTask(emulator, {
      node,
      connection: emulatorConnection(emulator.info, "ServicePrincipal"),
      inputs: {
        containerApp: app,
        image: image("healthy"),
        dryRun: "true",
        trafficSteps: "20,100",
      },
    });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("step 1");
    expect(emulator.armJournal().length).toBeGreaterThan(0);
    expect(armWrites(emulator)).toEqual([]);
    expect(run.record.secrets).toContain(clientSecret);
    // Only two lines carry it: its registration with the agent, and the task library's trace of
    // the connection, which the agent masks like every confidential parameter.
    const carrying = run.rawStdout.split("\n").filter((line) => line.includes(clientSecret));
    for (const line of carrying) {
      expect(line).toMatch(/^##vso\[task\.(setsecret\]|debug\].* auth param )/);
    }
    expectInvariants(emulator, app, run, { traffic: view.traffic });
  });
});
