/**
 * Diagnostics of a failed candidate, on the in-memory app and the virtual clock: collected once the
 * traffic is back and before the candidate is deactivated, masked, and never delaying the restore.
 */
import { deploy } from "../../src/core/actions/deploy.ts";
import type { HttpProbe } from "../../src/core/checks/run.ts";
import { systemClock } from "../../src/core/clock.ts";
import { collectDiagnostics } from "../../src/core/diagnostics/collect.ts";
import { describeDiagnostics } from "../../src/core/diagnostics/describe.ts";
import type {
  DiagnosticsPort,
  LogAnalyticsRequest,
  LoggedLines,
  Log,
} from "../../src/core/ports.ts";
import { VirtualClock } from "./support/virtualClock.ts";
import { engine, healthy, inputs, silent } from "./support/engine.ts";
import { FakeApps } from "./support/fakeApps.ts";

describe("diagnostics of a failed candidate", () => {
  test("a candidate that crashes is diagnosed once the traffic is back and before it is deactivated; its secrets are masked", async () => {
    const apps = new FakeApps();
    apps.nextRevision = {
      provisioningState: "Failed",
      runningState: "Failed",
      healthState: "Unhealthy",
      provisioningError: "Container crashing: shop",
    };
    const diagnostics: DiagnosticsPort = {
      listReplicas: async () => {
        apps.writes.push("read replicas");
        return [{ name: "shop--v2-abc", containers: [{ name: "shop", restartCount: 1 }] }];
      },
      readConsole: async () => {
        apps.writes.push("read console");
        return [{ stream: "stderr", text: "cannot reach db: password=hunter22 s3cret-token" }];
      },
      readSystemEvents: async () => [],
      readLogAnalytics: async () => ({ kept: false, why: "its logs destination is none" }),
    };
    const logged: string[] = [];
    const log: Log = {
      ...silent,
      info: (line) => logged.push(line),
      group: (title, fn) => (logged.push(`[${title}]`), fn()),
    };
    const { deps } = engine(apps, healthy, { diagnostics, log, secrets: () => ["s3cret-token"] });
    const report = await deploy(inputs({}), deps);
    expect(report.errorCode).toBe("RevisionFailed");
    expect(apps.writes).toEqual([
      "create",
      "traffic",
      "read replicas",
      "read console",
      "deactivate shop--v2",
    ]);
    expect(report.diagnostics).toMatchObject({
      revision: "shop--v2",
      errorCode: "RevisionFailed",
      state: { provisioningError: "Container crashing: shop" },
      console: [{ lines: [{ text: "cannot reach db: password=*** ***" }] }],
      warnings: [],
    });
    const group = logged.indexOf("[Diagnostics of shop--v2]");
    expect(group).toBeGreaterThan(logged.indexOf("[Restore]"));
    expect(logged.slice(group)).toContain("  stderr cannot reach db: password=*** ***");
  });

  test("diagnostics-timeout 0s collects nothing, and a cancelled run skips them", async () => {
    const apps = new FakeApps();
    apps.nextRevision = { runningState: "Failed", healthState: "Unhealthy" };
    const { deps } = engine(apps, healthy);
    const off = await deploy(inputs({ "diagnostics-timeout": "0s" }), deps);
    expect(off.errorCode).toBe("RevisionFailed");
    expect(off.diagnostics).toBeUndefined();

    const cancelled = new FakeApps();
    const cancel = new AbortController();
    cancelled.onCreate = () => cancel.abort(new Error("cancelled"));
    const run = await deploy(
      inputs({}),
      engine(cancelled, healthy, { signal: cancel.signal }).deps,
    );
    expect(run.errorCode).toBe("Cancelled");
    expect(run.diagnostics).toBeUndefined();
    expect(cancelled.writes).toContain("deactivate shop--v2");
  });

  test("a check that fails while a step bakes is the failed request of the diagnostics", async () => {
    const apps = new FakeApps();
    let requests = 0;
    const failsLater: HttpProbe = {
      send: async (request) =>
        ++requests <= 2
          ? healthy.send(request)
          : {
              status: 503,
              headers: { "x-ms-request-id": "ms-1", "x-request-id": "r-7", server: "envoy" },
              body: "upstream connect error",
              latencyMs: 31,
            },
    };
    const { deps } = engine(apps, failsLater);
    const report = await deploy(
      inputs({ "traffic-steps": "50,100", "step-wait": "1m", "check-interval": "30s" }),
      deps,
    );
    expect(report.result).toBe("rolled-back");
    expect(report.errorCode).toBe("ChecksFailedDuringShift");
    expect(report.diagnostics?.failedRequest).toEqual({
      check: "GET /",
      method: "GET",
      url: "https://shop---green.env.test/",
      status: 503,
      latencyMs: 31,
      failure: "status 503, expected 200-399",
      headers: { "x-ms-request-id": "ms-1", "x-request-id": "r-7" },
      bodyPrefix: "upstream connect error",
    });
    expect(apps.writes.at(-1)).toBe("deactivate shop--v2");
  });
});

/** The failed candidate, as collecting its diagnostics reads it. */
const revision = "shop--v2";
const created = "2026-12-01T10:00:00.000Z";
const apps = {
  getRevision: async () => ({
    name: revision,
    active: true,
    provisioningState: "Provisioned",
    runningState: "Failed",
    healthState: "Unhealthy",
    trafficWeight: 0,
    containers: [{ name: "shop", image: "shop:2" }],
    createdTime: created,
  }),
};

describe("what Log Analytics keeps of a failed candidate's logs", () => {
  const line = (time: string, text: string) => ({ time, stream: "stderr" as const, text });
  const logged = {
    kept: true as const,
    where: "ContainerAppConsoleLogs_CL and ContainerAppSystemLogs_CL of workspace 1a2b",
    console: [
      {
        replica: "shop--v2-abc",
        container: "shop",
        source: "log-analytics" as const,
        lines: [line("2026-12-01T10:00:05.000Z", "Error: cannot start")],
      },
      {
        replica: "shop--v2-gone",
        container: "shop",
        source: "log-analytics" as const,
        lines: [line("2026-12-01T10:00:02.000Z", "Error: first attempt")],
      },
    ],
    systemEvents: [
      {
        time: "2026-12-01T10:00:06.000Z",
        type: "Warning",
        reason: "Error",
        message: "Container 'shop' was terminated with exit code '1'",
        revision,
      },
      { time: "2026-12-01T10:00:07.000Z", message: "another revision's", revision: "shop--v1" },
    ],
    latest: Date.parse("2026-12-01T10:00:07.000Z"),
  };

  function port(overrides: Partial<DiagnosticsPort> = {}): {
    port: DiagnosticsPort;
    asked: LogAnalyticsRequest[];
  } {
    const asked: LogAnalyticsRequest[] = [];
    return {
      asked,
      port: {
        listReplicas: async () => [{ name: "shop--v2-abc", containers: [{ name: "shop" }] }],
        readConsole: async () => [],
        readSystemEvents: async () => [],
        readLogAnalytics: async (request) => (asked.push(request), logged),
        ...overrides,
      },
    };
  }
  const collect = (diagnostics: DiagnosticsPort) =>
    collectDiagnostics(
      { apps, diagnostics, clock: systemClock },
      { revision, lines: 20, deadlineMs: 5_000 },
    );

  test("fills a container whose live stream had nothing, adds a replica no longer listed, and takes the events when the stream had none", async () => {
    const { port: diagnostics, asked } = port();
    const found = await collect(diagnostics);
    expect(asked).toEqual([
      { revision, from: Date.parse(created) - 60_000, to: expect.any(Number), lines: 20 },
    ]);
    expect(found.console).toEqual(logged.console);
    expect(found.systemEvents).toEqual([logged.systemEvents[0]]);
    expect(found.systemEventsSource).toBe("log-analytics");
    expect(found.logAnalytics).toEqual({
      where: logged.where,
      consoleLines: 2,
      systemEvents: 1,
      latest: "2026-12-01T10:00:07.000Z",
    });
    expect(found.warnings).toEqual([]);
    const text = describeDiagnostics(found).join("\n");
    expect(text).toContain("Console of shop in shop--v2-gone (last 1 line, from Log Analytics):");
    expect(text).toContain("System events (1, from Log Analytics):");
    expect(text).toContain(
      `Log Analytics: ${logged.where}: 2 console lines and 1 system event of the revision, the latest of 2026-12-01T10:00:07.000Z (records arrive there minutes late)`,
    );
  });

  test("what the live streams gave is kept as they gave it", async () => {
    const live = [line("2026-12-01T10:00:05.100Z", "Error: cannot start (live)")];
    const events = [{ message: `Deactivating revision ${revision}`, revision }];
    const found = await collect(
      port({ readConsole: async () => live, readSystemEvents: async () => events }).port,
    );
    expect(found.console[0]).toEqual({ replica: "shop--v2-abc", container: "shop", lines: live });
    expect(found.console.map((tail) => tail.replica)).toEqual(["shop--v2-abc", "shop--v2-gone"]);
    expect(found.systemEvents).toEqual(events);
    expect(found.systemEventsSource).toBeUndefined();
  });

  test("an environment that keeps no logs there says why, without a warning; a failed query is a warning and the rest is kept", async () => {
    const none = await collect(
      port({
        readLogAnalytics: async () => ({
          kept: false,
          why: "environment env keeps no logs in Log Analytics (its logs destination is none)",
        }),
      }).port,
    );
    expect(none.logAnalytics).toEqual({
      why: "environment env keeps no logs in Log Analytics (its logs destination is none)",
      consoleLines: 0,
      systemEvents: 0,
    });
    expect(none.warnings).toEqual([]);
    expect(describeDiagnostics(none)).toContain(
      "Log Analytics: not read: environment env keeps no logs in Log Analytics (its logs destination is none)",
    );

    const failed = await collect(
      port({
        readLogAnalytics: async () => {
          throw new Error("403 InsufficientAccessError");
        },
      }).port,
    );
    expect(failed.warnings).toEqual([
      `Could not read the logs of ${revision} in Log Analytics: 403 InsufficientAccessError`,
    ]);
    expect(failed.logAnalytics).toBeUndefined();
    expect(failed.state?.runningState).toBe("Failed");
    expect(failed.replicas).toHaveLength(1);
  });
});

describe("Log Analytics asked again while its records have not arrived", () => {
  const arrived = {
    kept: true as const,
    where: "ContainerAppConsoleLogs_CL and ContainerAppSystemLogs_CL of workspace 1a2b",
    console: [
      {
        replica: "shop--v2-abc",
        container: "shop",
        source: "log-analytics" as const,
        lines: [{ time: "2026-11-27T10:00:01.000Z", text: "Error: cannot start" }],
      },
    ],
    systemEvents: [],
  };
  const empty = { ...arrived, console: [] };

  function streamsWithNothing(answers: LoggedLines[]) {
    const clock = new VirtualClock();
    const asked: number[] = [];
    const diagnostics: DiagnosticsPort = {
      listReplicas: async () => [{ name: "shop--v2-abc", containers: [{ name: "shop" }] }],
      readConsole: async () => [],
      readSystemEvents: async () => [],
      readLogAnalytics: async () => (asked.push(clock.now()), answers.shift() ?? empty),
    };
    return { clock, asked, diagnostics };
  }

  test("when no stream gave a line, it is asked every 5 s until the lines are there", async () => {
    const { clock, asked, diagnostics } = streamsWithNothing([empty, empty, arrived]);
    const started = clock.now();
    const found = await collectDiagnostics(
      { apps, diagnostics, clock },
      { revision, lines: 20, deadlineMs: 30_000 },
    );
    expect(asked.map((time) => time - started)).toEqual([0, 5_000, 10_000]);
    expect(found.console).toEqual(arrived.console);
    expect(found.logAnalytics).toMatchObject({ consoleLines: 1, waitedMs: 10_000 });
    expect(describeDiagnostics(found).join("\n")).toContain(
      ", after waiting 10.0 s for them (records arrive there minutes late)",
    );
  });

  test("it is asked no longer than another answer fits before the deadline", async () => {
    const { clock, asked, diagnostics } = streamsWithNothing([]);
    const started = clock.now();
    const found = await collectDiagnostics(
      { apps, diagnostics, clock },
      { revision, lines: 20, deadlineMs: 30_000 },
    );
    expect(asked.map((time) => time - started)).toEqual([0, 5_000, 10_000, 15_000, 20_000]);
    expect(found.console).toEqual([{ replica: "shop--v2-abc", container: "shop", lines: [] }]);
    expect(found.logAnalytics).toMatchObject({ consoleLines: 0, waitedMs: 20_000 });
    expect(found.warnings).toEqual([]);
  });

  test("lines from a live stream end it at once", async () => {
    const { clock, asked, diagnostics } = streamsWithNothing([]);
    diagnostics.readConsole = async () => [{ text: "live line" }];
    await collectDiagnostics(
      { apps, diagnostics, clock },
      { revision, lines: 20, deadlineMs: 30_000 },
    );
    expect(asked).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });
});
