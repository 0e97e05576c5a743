/**
 * Why the candidate failed, in its own words, end to end: the real Action bundle against the
 * emulator, whose revision processes print what they print and whose log streams serve it. Each
 * scenario ends with the order the journals prove and the invariants.
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
import { image, runAction, seedApp, startWorld } from "./harness.ts";

let emulator: Emulator;
const FAST = {
  "traffic-steps": "100",
  "step-wait": "0s",
  "check-interval": "250ms",
  "smoke-timeout": "1500ms",
  "readiness-timeout": "20s",
  "diagnostics-timeout": "10s",
};

beforeAll(async () => {
  emulator = await startWorld();
});
afterAll(async () => {
  await emulator?.stop();
});

describe("Given an app serving v1 at 100%", () => {
  test("when the candidate crashes at start, the summary shows the revision's crash reason and the last lines it printed before exiting", async () => {
    const app = "diag-crash";
    const view = await seedApp(emulator, app);
    const candidate = `${app}--bad`;
    const run = await runAction(emulator, {
      inputs: { "container-app": app, image: image("crash"), "revision-suffix": "bad", ...FAST },
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("failed-before-traffic");

    const section = diagnosticsSection(run, candidate);
    expect(section).toContain(
      `**Revision:** provisioning Failed, running Failed, health Unhealthy`,
    );
    expect(section).toContain(`- **Provisioning error:** Container crashing: ${app}`);
    expect(section).toMatch(
      /\| diag-crash--bad-\S+ \| NotRunning \| diag-crash \| Waiting, not ready, not started, 1 restart: Container crashing: diag-crash \|/,
    );
    expect(section).toMatch(
      /stderr Error: cannot start: image emulator\.test\/app:crash is built to exit at start\n\S+ stderr Revision diag-crash--bad of diag-crash crashed; exiting with code 1\n/,
    );
    expect(section).toContain(
      `Warning Error: Container '${app}' was terminated with exit code '1'`,
    );

    const diagnostics = diagnosticsOf(run);
    expect(diagnostics).toMatchObject({
      revision: candidate,
      errorCode: "RevisionFailed",
      state: { provisioningState: "Failed", provisioningError: `Container crashing: ${app}` },
      warnings: [],
    });
    expect(diagnostics.console[0].lines.map((line) => line.text)).toEqual(
      crashLines(app, candidate, image("crash")),
    );
    expect(diagnosticsGroup(run, candidate)).toContain(
      `  Provisioning error: Container crashing: ${app}`,
    );

    expectReadBetweenRestoreAndDeactivation(moments(emulator, app, candidate));
    expectRestored(emulator, app, candidate, run, view.traffic);
  });

  test("when the candidate answers 500, the summary shows the failing request and the app's own error line for it", async () => {
    const app = "diag-500";
    const view = await seedApp(emulator, app);
    const candidate = `${app}--bad`;
    const run = await runAction(emulator, {
      inputs: { "container-app": app, image: image("http500"), "revision-suffix": "bad", ...FAST },
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("failed-before-traffic");

    const { failedRequest, console: tails } = diagnosticsOf(run);
    const labelUrl = `https://${app}---green.${view.fqdn.slice(app.length + 1)}/`;
    expect(failedRequest).toMatchObject({ method: "GET", url: labelUrl, status: 500 });
    const requestId = failedRequest?.headers?.["x-request-id"] ?? "";
    expect(requestId).toMatch(/^[\w-]{8,}$/);
    expect(JSON.parse(failedRequest?.bodyPrefix ?? "{}")).toMatchObject({
      error: `Revision ${candidate} failed this request (http500).`,
      requestId,
    });
    const errorLine = `ERROR request ${requestId}: GET / answered 500: Revision ${candidate} failed this request (http500).`;
    expect(tails[0].lines.map((line) => line.text)).toContain(errorLine);

    const section = diagnosticsSection(run, candidate);
    expect(section).toContain(`**Failed request** (\`GET /\`): \`GET ${labelUrl} -> 500 in `);
    expect(section).toContain(`| x-request-id | ${requestId} |`);
    expect(section).toContain(`stderr ${errorLine}`);

    expectReadBetweenRestoreAndDeactivation(moments(emulator, app, candidate));
    expectRestored(emulator, app, candidate, run, view.traffic);
  });

  test("when the candidate is never ready within readiness-timeout, the summary shows its replica's states", async () => {
    const app = "diag-unready";
    const view = await seedApp(emulator, app);
    const candidate = `${app}--slow`;
    emulator.injectRevisionFault({ app, mode: "never-ready" });
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy"),
        "revision-suffix": "slow",
        ...FAST,
        "readiness-timeout": "2s",
      },
    });
    expect(run.exitCode).toBe(1);
    const diagnostics = diagnosticsOf(run);
    expect(diagnostics).toMatchObject({
      errorCode: "RevisionNotReady",
      state: { provisioningState: "Provisioned", runningState: "Activating", healthState: "None" },
    });
    expect(diagnostics.replicas?.[0].containers[0]).toMatchObject({
      ready: false,
      started: true,
      restartCount: 0,
      runningState: "Running",
    });
    const section = diagnosticsSection(run, candidate);
    expect(section).toMatch(
      /\| diag-unready--slow-\S+ \| Running \| diag-unready \| Running, not ready, started, 0 restarts: Container started at: \S+ \|/,
    );
    expect(section).toMatch(/stdout diag-unready--slow listening on http:\/\/127\.0\.0\.1:\d+/);

    expectReadBetweenRestoreAndDeactivation(moments(emulator, app, candidate));
    expectRestored(emulator, app, candidate, run, view.traffic);
  });

  test("when the candidate's log stream hangs, the run waits no longer than diagnostics-timeout for it and says so", async () => {
    const app = "diag-hang";
    const view = await seedApp(emulator, app);
    const candidate = `${app}--bad`;
    emulator.injectLogStreamFault({ app, stream: "console", kind: "hang", count: 5 });
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("crash"),
        "revision-suffix": "bad",
        ...FAST,
        "diagnostics-timeout": "2s",
      },
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("failed-before-traffic");

    const times = moments(emulator, app, candidate);
    expectReadBetweenRestoreAndDeactivation(times);
    const waited = times.deactivated - times.trafficRestored;
    // The stream never answered: the run waited for it, and only as long as its deadline.
    expect(waited).toBeGreaterThanOrEqual(1_900);
    expect(waited).toBeLessThan(2_000 + 1_500);

    const diagnostics = diagnosticsOf(run);
    expect(diagnostics.state?.provisioningError).toBe(`Container crashing: ${app}`);
    expect(diagnostics.console).toEqual([]);
    expect(diagnostics.warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Could not read the console output of ${app} in replica ${candidate}-\\S+: no answer within the diagnostics deadline \\(2\\.0 s\\)$`,
        ),
      ),
    ]);
    expect(diagnosticsSection(run, candidate)).toContain("- ⚠️ Could not read the console output");
    expect(
      run.lines.some((line) => /^::warning::Could not read the console output/.test(line.text)),
    ).toBe(true);
    expectRestored(emulator, app, candidate, run, view.traffic);
  });

  test("when the candidate crashes and its streams refuse, the summary shows its last lines and the platform's events from the environment's Log Analytics workspace", async () => {
    const app = "diag-workspace";
    const view = await seedWithWorkspaceOnly(emulator, app);
    const candidate = `${app}--bad`;
    const run = await runAction(emulator, {
      inputs: { "container-app": app, image: image("crash"), "revision-suffix": "bad", ...FAST },
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("failed-before-traffic");

    const diagnostics = diagnosticsOf(run);
    const [tail] = diagnostics.console;
    expect(tail.source).toBe("log-analytics");
    expect(tail.lines.map((line) => line.text)).toEqual(crashLines(app, candidate, image("crash")));
    // The same lines the revision printed, at the times it printed them.
    const printed = emulator.consoleLogs().filter((line) => line.revision === candidate);
    expect(tail.lines.map((line) => line.time)).toEqual(
      printed.map((line) => new Date(line.time).toISOString()),
    );
    expect(diagnostics.systemEventsSource).toBe("log-analytics");
    expect(diagnostics.systemEvents.map((event) => event.message)).toContain(
      `Container '${app}' was terminated with exit code '1'`,
    );
    expect(diagnostics.logAnalytics).toMatchObject({
      where: expect.stringMatching(
        /^ContainerAppConsoleLogs_CL and ContainerAppSystemLogs_CL of workspace [0-9a-f-]{36}$/,
      ),
      consoleLines: 3,
    });
    // The refused streams are said; the run's result is the candidate's failure, unchanged.
    expect(diagnostics.warnings.length).toBeGreaterThan(0);
    for (const warning of diagnostics.warnings) expect(warning).toMatch(/answered 503/);

    const section = diagnosticsSection(run, candidate);
    expect(section).toContain(`(last 3 lines, from Log Analytics):`);
    expect(section).toContain(
      `stderr Revision ${candidate} of ${app} crashed; exiting with code 1`,
    );
    expect(section).toMatch(/\*\*System events\*\* \(\d+, from Log Analytics\):/);
    expect(section).toMatch(
      /\*\*Log Analytics:\*\* ContainerAppConsoleLogs_CL and ContainerAppSystemLogs_CL of workspace \S+: 3 console lines and \d+ system events? of the revision, the latest of \S+ \(records arrive there minutes late\)\./,
    );

    const times = moments(emulator, app, candidate);
    expectLogAnalyticsReadInOrder(times, logAnalyticsQueries(emulator, "/workspaces/"));
    expect(times.deactivated).toBeGreaterThan(times.trafficRestored);
    expectRestored(emulator, app, candidate, run, view.traffic);
  });

  test("when no stream gives a line and the workspace has none yet, the run asks it again until they arrive, within diagnostics-timeout", async () => {
    const app = "diag-late";
    const view = await seedWithWorkspaceOnly(emulator, app);
    const candidate = `${app}--bad`;
    emulator.setIngestionDelay(3_000);
    try {
      const run = await runAction(emulator, {
        inputs: {
          "container-app": app,
          image: image("crash"),
          "revision-suffix": "bad",
          ...FAST,
          "diagnostics-timeout": "20s",
        },
      });
      expect(run.exitCode).toBe(1);
      const diagnostics = diagnosticsOf(run);
      expect(diagnostics.console[0]).toMatchObject({ source: "log-analytics" });
      expect(diagnostics.console[0].lines.map((line) => line.text)).toEqual(
        crashLines(app, candidate, image("crash")),
      );
      const waited = diagnostics.logAnalytics?.waitedMs ?? 0;
      expect(waited).toBeGreaterThanOrEqual(5_000);
      expect(waited).toBeLessThan(20_000);
      const times = moments(emulator, app, candidate);
      const queries = logAnalyticsQueries(emulator, "/workspaces/", times.trafficRestored);
      expectLogAnalyticsReadInOrder(times, queries);
      // Asked at once, then every 5 s until the lines had arrived: two console and two event queries at least.
      expect(queries.length).toBeGreaterThanOrEqual(4);
      expect(times.deactivated - times.trafficRestored).toBeLessThan(20_000);
      expectRestored(emulator, app, candidate, run, view.traffic);
    } finally {
      emulator.setIngestionDelay(0);
    }
  });

  test("when the environment's logs reach Log Analytics minutes late, the live lines are shown and the summary says Log Analytics held none yet", async () => {
    const app = "diag-monitor";
    const view = await seedApp(emulator, app, {
      environment: "env-diag-monitor",
      workspace: { name: "diag-monitor-logs", destination: "azure-monitor" },
    });
    const candidate = `${app}--bad`;
    emulator.setIngestionDelay(10 * 60_000);
    try {
      const run = await runAction(emulator, {
        inputs: {
          "container-app": app,
          image: image("http500"),
          "revision-suffix": "bad",
          ...FAST,
        },
      });
      expect(run.exitCode).toBe(1);
      const diagnostics = diagnosticsOf(run);
      expect(diagnostics.console[0].source).toBeUndefined();
      expect(diagnostics.console[0].lines.map((line) => line.text)).toContainEqual(
        expect.stringMatching(/^ERROR request \S+: GET \/ answered 500/),
      );
      expect(diagnostics.logAnalytics).toEqual({
        where: "ContainerAppConsoleLogs and ContainerAppSystemLogs of environment env-diag-monitor",
        consoleLines: 0,
        systemEvents: 0,
      });
      expect(diagnostics.warnings).toEqual([]);
      expect(diagnosticsSection(run, candidate)).toContain(
        "**Log Analytics:** ContainerAppConsoleLogs and ContainerAppSystemLogs of environment env-diag-monitor: 0 console lines and 0 system events of the revision (records arrive there minutes late).",
      );
      const times = moments(emulator, app, candidate);
      expectReadBetweenRestoreAndDeactivation(times);
      expectLogAnalyticsReadInOrder(
        times,
        logAnalyticsQueries(emulator, "/managedEnvironments/env-diag-monitor/"),
      );
      expectRestored(emulator, app, candidate, run, view.traffic);
    } finally {
      emulator.setIngestionDelay(0);
    }
  });

  test("when the environment keeps no logs in Log Analytics, the summary says so and nothing is queried there", async () => {
    const app = "diag-nowhere";
    const view = await seedApp(emulator, app);
    const candidate = `${app}--bad`;
    const since = Date.now();
    const run = await runAction(emulator, {
      inputs: { "container-app": app, image: image("crash"), "revision-suffix": "bad", ...FAST },
    });
    expect(run.exitCode).toBe(1);
    expect(diagnosticsOf(run).logAnalytics).toEqual({
      why: "environment env-shop keeps no logs in Log Analytics (its logs destination is none)",
      consoleLines: 0,
      systemEvents: 0,
    });
    expect(diagnosticsSection(run, candidate)).toContain(
      "**Log Analytics:** not read: environment env-shop keeps no logs in Log Analytics (its logs destination is none).",
    );
    expect(logAnalyticsQueries(emulator, "/", since)).toEqual([]);
    expectRestored(emulator, app, candidate, run, view.traffic);
  });
});
