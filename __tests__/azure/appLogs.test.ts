/**
 * A revision's logs in Log Analytics, through the real SDK clients against the emulator: where
 * the environment's logs destination says they are (a workspace's `_CL` tables, or the tables a
 * diagnostic setting fills), or why there are none.
 */
import { readLogAnalytics } from "../../src/azure/appLogs.ts";
import { ContainerAppsGateway } from "../../src/azure/containerApps.ts";
import { systemClock } from "../../src/core/clock.ts";
import { startEmulator } from "../../emulator/index.ts";
import type { Emulator, SeedSpec } from "../../emulator/types.ts";
import { armClient, eventually, trustProcessWide } from "../emulator/support.ts";
import { monitorClients } from "./support.ts";

const RG = "rg-app-logs";
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ provisioningDelayMs: 100, operationDelayMs: 100 });
  trustProcessWide(emulator.info);
});
afterAll(async () => {
  await emulator?.stop();
});

/** An app whose only revision crashes at start, in an environment of its own. */
async function crashingApp(app: string, workspace?: SeedSpec["workspace"]) {
  await emulator.seed({
    resourceGroup: RG,
    environment: `env-${app}`,
    ...(workspace && { workspace }),
    app,
    revisions: [{ suffix: "v1", image: "emulator.test/app:crash" }],
  });
  const revision = `${app}--v1`;
  await eventually(async () =>
    emulator.systemEvents().some((e) => e.revision === revision && e.reason === "Error")
      ? true
      : undefined,
  );
  const gateway = new ContainerAppsGateway(armClient(emulator.info), RG, app, {
    clock: systemClock,
  });
  const clients = monitorClients(emulator.info);
  const read = (environmentId?: string) =>
    readLogAnalytics(
      gateway,
      clients,
      {
        revision,
        from: Date.now() - 10 * 60_000,
        to: Date.now() + 1_000,
        lines: 50,
        ...(environmentId && { environmentId }),
      },
      { signal: AbortSignal.timeout(10_000) },
    );
  return { revision, read };
}

test("log-analytics: the revision's lines and events from the _CL tables of the workspace the environment names", async () => {
  emulator.clearJournal();
  const { revision, read } = await crashingApp("logs-workspace", { name: "logs-workspace-ws" });
  const found = await read();
  if (!found.kept) throw new Error(`not kept: ${found.why}`);
  expect(found.where).toMatch(
    /^ContainerAppConsoleLogs_CL and ContainerAppSystemLogs_CL of workspace [0-9a-f-]{36}$/,
  );
  const printed = emulator.consoleLogs().filter((line) => line.revision === revision);
  expect(found.console).toEqual([
    {
      replica: printed[0].replica,
      container: printed[0].container,
      source: "log-analytics",
      lines: printed.map((line) => ({
        time: new Date(line.time).toISOString(),
        stream: line.stream,
        text: line.text,
      })),
    },
  ]);
  expect(found.systemEvents).toContainEqual(
    expect.objectContaining({
      type: "Warning",
      reason: "Error",
      revision,
      replica: printed[0].replica,
      message: "Container 'logs-workspace' was terminated with exit code '1'",
    }),
  );
  // Oldest first, as the streams give them.
  const times = found.systemEvents.map((event) => event.time ?? "");
  expect([...times].sort()).toEqual(times);
  expect(found.latest).toBeGreaterThanOrEqual(Math.max(...printed.map((line) => line.time)));
  const queries = emulator.armJournal().filter((e) => e.path.startsWith("/loganalytics/"));
  expect(queries.map((e) => [e.method, e.path.replace(/[0-9a-f-]{36}/, "<id>"), e.status])).toEqual(
    [
      ["POST", "/loganalytics/v1/workspaces/<id>/query", 200],
      ["POST", "/loganalytics/v1/workspaces/<id>/query", 200],
    ],
  );
});

test("azure-monitor: the tables a diagnostic setting fills, queried on the environment", async () => {
  const { revision, read } = await crashingApp("logs-monitor", {
    name: "logs-monitor-ws",
    destination: "azure-monitor",
  });
  // The run knows the app's environment from its snapshot: the app is not read again.
  emulator.clearJournal();
  const found = await read(
    `/subscriptions/${emulator.info.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.App/managedEnvironments/env-logs-monitor`,
  );
  expect(
    emulator.armJournal().filter((e) => e.method === "GET" && e.path.endsWith("/logs-monitor")),
  ).toEqual([]);
  if (!found.kept) throw new Error(`not kept: ${found.why}`);
  expect(found.where).toBe(
    "ContainerAppConsoleLogs and ContainerAppSystemLogs of environment env-logs-monitor",
  );
  expect(found.console[0].lines.map((line) => line.text)).toEqual(
    emulator
      .consoleLogs()
      .filter((line) => line.revision === revision)
      .map((line) => line.text),
  );
  expect(found.systemEvents.some((event) => event.reason === "Error")).toBe(true);
});

test("an environment that keeps no logs there says why, and nothing is queried", async () => {
  emulator.clearJournal();
  const { read } = await crashingApp("logs-nowhere");
  expect(await read()).toEqual({
    kept: false,
    why: "environment env-logs-nowhere keeps no logs in Log Analytics (its logs destination is none)",
  });
  expect(emulator.armJournal().filter((e) => e.path.startsWith("/loganalytics/"))).toEqual([]);
});
