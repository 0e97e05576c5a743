/**
 * Why the candidate failed, in its own words, from the Azure Pipelines task: its real bundle, run
 * as the agent runs it, against the emulator — the scenarios of the Action's diagnostics.
 */
import type { Emulator } from "../../emulator/types.ts";
import {
  crashLines,
  diagnosticsGroup,
  diagnosticsOf,
  diagnosticsSection,
  expectLogAnalyticsReadInOrder,
  expectReadBetweenRestoreAndDeactivation,
  expectRestored,
  logAnalyticsQueries,
  moments,
  seedWithWorkspaceOnly,
} from "./diagnosticsScenarios.ts";
import { image, seedApp, startWorld } from "./harness.ts";
import { runTask, systemNode20 } from "./taskHarness.ts";

let emulator: Emulator;
const FAST = {
  trafficSteps: "100",
  stepWait: "0s",
  checkInterval: "250ms",
  smokeTimeout: "1500ms",
  readinessTimeout: "20s",
  diagnosticsTimeout: "10s",
};

beforeAll(async () => {
  emulator = await startWorld();
});
afterAll(async () => {
  await emulator?.stop();
});

describe.each([
  ["Node 24, the Node24 handler", () => process.execPath, "24"],
  ["Node 20, the Node20_1 handler", systemNode20, "20"],
])("Given the task on %s", (_handler, nodeBinary, major) => {
  test("when the candidate crashes at start, the summary shows the crash reason and the last lines it printed", async () => {
    const app = `task-diag-crash-${major}`;
    const view = await seedApp(emulator, app);
    const candidate = `${app}--bad`;
    const run = await runTask(emulator, {
      node: nodeBinary(),
      inputs: { containerApp: app, image: image("crash"), revisionSuffix: "bad", ...FAST },
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("failed-before-traffic");
    const section = diagnosticsSection(run, candidate);
    expect(section).toContain(`- **Provisioning error:** Container crashing: ${app}`);
    expect(section).toContain(
      `stderr Error: cannot start: image ${image("crash")} is built to exit at start`,
    );
    expect(section).toContain(
      `stderr Revision ${candidate} of ${app} crashed; exiting with code 1`,
    );
    expect(diagnosticsOf(run).replicas?.[0].containers[0]).toMatchObject({
      restartCount: 1,
      runningState: "Waiting",
    });
    expect(diagnosticsGroup(run, candidate)).toContain(
      `  Provisioning error: Container crashing: ${app}`,
    );
    expectReadBetweenRestoreAndDeactivation(moments(emulator, app, candidate));
    expectRestored(emulator, app, candidate, run, view.traffic);
  });
});

describe("Given the task on Node 24", () => {
  test("when the candidate answers 500, the summary shows the failing request and the app's own error line", async () => {
    const app = "task-diag-500";
    const view = await seedApp(emulator, app);
    const candidate = `${app}--bad`;
    const run = await runTask(emulator, {
      inputs: { containerApp: app, image: image("http500"), revisionSuffix: "bad", ...FAST },
    });
    expect(run.exitCode).toBe(1);
    const { failedRequest } = diagnosticsOf(run);
    const requestId = failedRequest?.headers?.["x-request-id"] ?? "";
    expect(requestId).not.toBe("");
    const section = diagnosticsSection(run, candidate);
    expect(section).toContain(
      `\`GET https://${app}---green.${view.fqdn.slice(app.length + 1)}/ -> 500 in `,
    );
    expect(section).toContain(`| x-request-id | ${requestId} |`);
    expect(section).toContain(
      `stderr ERROR request ${requestId}: GET / answered 500: Revision ${candidate} failed this request (http500).`,
    );
    expectReadBetweenRestoreAndDeactivation(moments(emulator, app, candidate));
    expectRestored(emulator, app, candidate, run, view.traffic);
  });

  test("when the candidate is never ready within readinessTimeout, the summary shows its replica's states", async () => {
    const app = "task-diag-unready";
    const view = await seedApp(emulator, app);
    const candidate = `${app}--slow`;
    emulator.injectRevisionFault({ app, mode: "never-ready" });
    const run = await runTask(emulator, {
      inputs: {
        containerApp: app,
        image: image("healthy"),
        revisionSuffix: "slow",
        ...FAST,
        readinessTimeout: "2s",
      },
    });
    expect(run.exitCode).toBe(1);
    expect(diagnosticsSection(run, candidate)).toMatch(
      /\| task-diag-unready--slow-\S+ \| Running \| task-diag-unready \| Running, not ready, started, 0 restarts: /,
    );
    expectReadBetweenRestoreAndDeactivation(moments(emulator, app, candidate));
    expectRestored(emulator, app, candidate, run, view.traffic);
  });

  test("when the candidate's log stream hangs, the run waits no longer than diagnosticsTimeout and warns", async () => {
    const app = "task-diag-hang";
    const view = await seedApp(emulator, app);
    const candidate = `${app}--bad`;
    emulator.injectLogStreamFault({ app, stream: "console", kind: "hang", count: 5 });
    const run = await runTask(emulator, {
      inputs: {
        containerApp: app,
        image: image("crash"),
        revisionSuffix: "bad",
        ...FAST,
        diagnosticsTimeout: "2s",
      },
    });
    expect(run.exitCode).toBe(1);
    const times = moments(emulator, app, candidate);
    expectReadBetweenRestoreAndDeactivation(times);
    expect(times.deactivated - times.trafficRestored).toBeGreaterThanOrEqual(1_900);
    expect(times.deactivated - times.trafficRestored).toBeLessThan(2_000 + 1_500);
    const warnings = run.commands
      .filter(
        (command) => command.command === "task.logissue" && command.properties.type === "warning",
      )
      .map((command) => command.message);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^Could not read the console output of .+: no answer within the diagnostics deadline \(2\.0 s\)$/,
      ),
    ]);
    expectRestored(emulator, app, candidate, run, view.traffic);
  });

  test("when the candidate crashes and its streams refuse, the summary shows its last lines from the environment's Log Analytics workspace", async () => {
    const app = "task-diag-workspace";
    const view = await seedWithWorkspaceOnly(emulator, app);
    const candidate = `${app}--bad`;
    const run = await runTask(emulator, {
      inputs: { containerApp: app, image: image("crash"), revisionSuffix: "bad", ...FAST },
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("failed-before-traffic");
    const diagnostics = diagnosticsOf(run);
    expect(diagnostics.console[0]).toMatchObject({ source: "log-analytics" });
    expect(diagnostics.console[0].lines.map((line) => line.text)).toEqual(
      crashLines(app, candidate, image("crash")),
    );
    const section = diagnosticsSection(run, candidate);
    expect(section).toContain("(last 3 lines, from Log Analytics):");
    expect(section).toMatch(
      /\*\*Log Analytics:\*\* ContainerAppConsoleLogs_CL and ContainerAppSystemLogs_CL of workspace \S+: 3 console lines/,
    );
    const times = moments(emulator, app, candidate);
    expectLogAnalyticsReadInOrder(times, logAnalyticsQueries(emulator, "/workspaces/"));
    expectRestored(emulator, app, candidate, run, view.traffic);
  });
});
