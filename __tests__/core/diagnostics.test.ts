/**
 * Diagnostics of a failed candidate, on the in-memory app and the virtual clock: collected once the
 * traffic is back and before the candidate is deactivated, masked, and never delaying the restore.
 */
import { deploy } from "../../src/core/actions/deploy.ts";
import type { HttpProbe } from "../../src/core/checks/run.ts";
import type { DiagnosticsPort, Log } from "../../src/core/ports.ts";
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
