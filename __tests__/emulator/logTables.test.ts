/**
 * The console and system logs of an environment in the emulator's Log Analytics stand-in, read
 * through the real `LogsQueryClient` both ways Azure Container Apps stores them: destination
 * `log-analytics` (the workspace's `ContainerAppConsoleLogs_CL` / `ContainerAppSystemLogs_CL`,
 * workspace-scoped by customer id) and destination `azure-monitor` with a diagnostic setting (the
 * resource-specific `ContainerAppConsoleLogs` / `ContainerAppSystemLogs`, resource-scoped on the
 * environment). Rows are the logs journal's, after the ingestion delay.
 */
import { randomUUID } from "node:crypto";
import type { ContainerAppsAPIClient } from "@azure/arm-appcontainers";
import { MonitorClient } from "@azure/arm-monitor";
import {
  LogsQueryClient,
  LogsQueryResultStatus,
  type LogsQueryResult,
  type LogsTable,
} from "@azure/monitor-query-logs";
import { ProxyAgent, fetch as undiciFetch } from "undici";
import { startEmulator, type Emulator } from "../../emulator/index.ts";
import { workspaceCustomerId } from "../../emulator/telemetry.ts";
import {
  armClient,
  caOf,
  eventually,
  rejectionOf,
  secretCredential,
  updateApp,
} from "./support.ts";

const rg = "rg-la";
const image = (behaviour: string) => `emulator.test/app:${behaviour}`;
/** Destination log-analytics (the seed's default): app `web`, whose revision `web--v2` crashes. */
const laEnvironment = "env-la";
const laApp = "web";
const crashing = "web--v2";
/** Destination azure-monitor: app `api`, its one revision healthy. */
const amEnvironment = "env-am";
const amApp = "api";
const amRevision = "api--v1";

let emulator: Emulator;
let client: ContainerAppsAPIClient;
let logs: LogsQueryClient;
let started: number;
let customerId: string;

const environmentId = (name: string) =>
  `/subscriptions/${emulator.info.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.App/managedEnvironments/${name}`;

beforeAll(async () => {
  started = Date.now();
  emulator = await startEmulator({ operationDelayMs: 0, provisioningDelayMs: 100 });
  client = armClient(emulator.info);
  const credential = secretCredential(emulator.info);
  const audience = `${emulator.info.arm}/loganalytics`;
  logs = new LogsQueryClient(credential, {
    endpoint: `${audience}/v1`,
    credentials: { scopes: [`${audience}/.default`] },
    tlsOptions: { ca: caOf(emulator.info) },
    retryOptions: { maxRetries: 0 },
  });
  await emulator.seed({
    resourceGroup: rg,
    environment: laEnvironment,
    workspace: { name: "ws-la" },
    app: laApp,
    revisions: [{ suffix: "v1", image: image("healthy") }],
  });
  await updateApp(client, rg, laApp, {
    template: { revisionSuffix: "v2", containers: [{ name: laApp, image: image("crash") }] },
  });
  await eventually(() =>
    emulator
      .systemEvents()
      .some((e) => e.revision === crashing && e.reason === "RevisionProvisioningError")
      ? true
      : undefined,
  );
  await emulator.seed({
    resourceGroup: rg,
    environment: amEnvironment,
    workspace: { name: "ws-am", destination: "azure-monitor" },
    app: amApp,
    revisions: [{ suffix: "v1", image: image("healthy") }],
  });
  const environment = await client.managedEnvironments.get(rg, laEnvironment);
  customerId = environment.appLogsConfiguration?.logAnalyticsConfiguration?.customerId ?? "";
});

afterAll(async () => {
  await emulator?.stop();
});

/** From before the emulator started to a minute from now. */
function window() {
  return { startTime: new Date(started - 60_000), endTime: new Date(Date.now() + 60_000) };
}

const iso = (time: number) => new Date(time).toISOString();

/** The queries the tool sends: no `project`, it reads the columns it needs by name. */
function consoleQuery(table: string, suffix: "_s" | "", app: string, revision: string) {
  const { startTime, endTime } = window();
  return [
    table,
    `| where TimeGenerated >= datetime(${startTime.toISOString()}) and TimeGenerated <= datetime(${endTime.toISOString()})`,
    `| where ContainerAppName${suffix} == "${app}" and RevisionName${suffix} == "${revision}"`,
    "| order by TimeGenerated desc",
    "| take 900",
  ].join("\n");
}

function systemQuery(table: string, suffix: "_s" | "", app: string, revision: string) {
  const { startTime, endTime } = window();
  return [
    table,
    `| where TimeGenerated >= datetime(${startTime.toISOString()}) and TimeGenerated <= datetime(${endTime.toISOString()})`,
    `| where ContainerAppName${suffix} == "${app}" and (RevisionName${suffix} == "${revision}" or RevisionName${suffix} == "")`,
    "| order by TimeGenerated desc",
    "| take 300",
  ].join("\n");
}

function tableOf(result: LogsQueryResult): LogsTable {
  if (result.status !== LogsQueryResultStatus.Success) {
    throw new Error(`The query did not succeed: ${JSON.stringify(result)}`);
  }
  return result.tables[0];
}

/** The rows as objects by column name, datetimes as ISO strings. */
function records(table: LogsTable): Record<string, unknown>[] {
  return table.rows.map((row) =>
    Object.fromEntries(
      table.columnDescriptors.map((column, i) => {
        const value = row[i];
        return [column.name!, value instanceof Date ? value.toISOString() : value];
      }),
    ),
  );
}

async function workspaceRows(workspace: string, query: string) {
  return records(tableOf(await logs.queryWorkspace(workspace, query, window())));
}

async function resourceRows(environment: string, query: string) {
  return records(
    tableOf(await logs.queryResource(environmentId(environment).slice(1), query, window())),
  );
}

/** Newest first, equal times in the journal's order: what `order by TimeGenerated desc` gives. */
function newestFirst<T extends { time: number }>(entries: T[]): T[] {
  return entries.slice().sort((a, b) => b.time - a.time);
}

async function semanticError(query: Promise<unknown>) {
  const error = await rejectionOf(query);
  expect(error).toMatchObject({ statusCode: 400, code: "BadArgumentError" });
  expect(JSON.stringify(error.details)).toContain("SemanticError");
  return error;
}

/** The diagnostic settings of an environment, as the Monitor SDK lists them. */
async function diagnosticSettingsOf(environment: string) {
  const monitor = new MonitorClient(secretCredential(emulator.info), emulator.info.subscriptionId, {
    endpoint: emulator.info.arm,
    tlsOptions: { ca: caOf(emulator.info) },
  });
  const settings = [];
  for await (const setting of monitor.diagnosticSettings.list(
    environmentId(environment).slice(1),
  )) {
    settings.push(setting);
  }
  return settings;
}

describe("destination log-analytics: the workspace's _CL tables, workspace-scoped", () => {
  test("the environment reads its customer id; the diagnostic settings send only HTTP logs", async () => {
    expect(customerId).toBe(workspaceCustomerId("ws-la"));
    const environment = await client.managedEnvironments.get(rg, laEnvironment);
    expect(environment.appLogsConfiguration).toEqual({
      destination: "log-analytics",
      logAnalyticsConfiguration: { customerId },
    });
    const settings = await diagnosticSettingsOf(laEnvironment);
    expect(settings.map((s) => [s.name, s.logs?.map((l) => l.category)])).toEqual([
      ["http-logs", ["ContainerAppHTTPLogs"]],
    ]);
  });

  test("ContainerAppConsoleLogs_CL has the crashing revision's lines as the journal has them", async () => {
    const rows = await workspaceRows(
      customerId,
      consoleQuery("ContainerAppConsoleLogs_CL", "_s", laApp, crashing),
    );
    const printed = emulator
      .consoleLogs()
      .filter((l) => l.app === laApp && l.revision === crashing);
    expect(printed.map((l) => l.text)).toEqual([
      `Starting ${laApp} (revision ${crashing}, image ${image("crash")}, behaviour crash)`,
      `Error: cannot start: image ${image("crash")} is built to exit at start`,
      `Revision ${crashing} of ${laApp} crashed; exiting with code 1`,
    ]);
    const journal = newestFirst(printed);
    expect(rows).toEqual(
      journal.map((line) => ({
        TimeGenerated: iso(line.time),
        ContainerAppName_s: laApp,
        EnvironmentName_s: laEnvironment,
        RevisionName_s: crashing,
        ContainerGroupName_s: line.replica,
        ContainerName_s: line.container,
        ContainerImage_s: image("crash"),
        Stream_s: line.stream,
        Log_s: line.text,
        Type: "ContainerAppConsoleLogs_CL",
      })),
    );
    expect(rows[0].ContainerGroupName_s).toMatch(new RegExp(`^${crashing}-`));
  });

  test("ContainerAppSystemLogs_CL has the crash's events, and those naming no revision", async () => {
    const rows = await workspaceRows(
      customerId,
      systemQuery("ContainerAppSystemLogs_CL", "_s", laApp, crashing),
    );
    const journal = newestFirst(
      emulator
        .systemEvents()
        .filter((e) => e.app === laApp && (e.revision === crashing || e.revision === undefined)),
    );
    expect(rows).toEqual(
      journal.map((event) => ({
        TimeGenerated: iso(event.time),
        ContainerAppName_s: laApp,
        EnvironmentName_s: laEnvironment,
        RevisionName_s: event.revision ?? "",
        ReplicaName_s: event.replica ?? "",
        Type_s: event.type,
        Reason_s: event.reason,
        EventSource_s: "ContainerAppController",
        Log_s: event.message,
        Count_d: event.count,
        Type: "ContainerAppSystemLogs_CL",
      })),
    );
    const crash = rows.filter((row) => row.RevisionName_s === crashing);
    expect(crash.map((row) => [row.Type_s, row.Reason_s, row.Log_s])).toEqual(
      expect.arrayContaining([
        ["Warning", "Error", `Container '${laApp}' was terminated with exit code '1'`],
        [
          "Warning",
          "RevisionProvisioningError",
          `Error provisioning revision ${crashing}. ErrorCode: [ContainerCrashing]`,
        ],
      ]),
    );
  });

  test("the environment serves no console or system table resource-scoped", async () => {
    for (const table of [
      "ContainerAppConsoleLogs",
      "ContainerAppSystemLogs",
      "ContainerAppConsoleLogs_CL",
    ]) {
      const error = await semanticError(
        logs.queryResource(environmentId(laEnvironment).slice(1), `${table} | take 1`, window()),
      );
      expect(JSON.stringify(error.details)).toContain(
        `Failed to resolve table or column expression named '${table}'`,
      );
    }
    // Its HTTP logs still are, as before.
    const http = await resourceRows(laEnvironment, "ContainerAppHTTPLogs | take 1");
    expect(Array.isArray(http)).toBe(true);
  });
});

describe("destination azure-monitor: the resource-specific tables, resource-scoped", () => {
  test("the environment reads destination azure-monitor; a diagnostic setting sends both categories", async () => {
    const environment = await client.managedEnvironments.get(rg, amEnvironment);
    expect(environment.appLogsConfiguration).toEqual({ destination: "azure-monitor" });
    const settings = await diagnosticSettingsOf(amEnvironment);
    expect(settings.map((s) => [s.name, s.logs?.map((l) => l.category)])).toEqual([
      ["http-logs", ["ContainerAppHTTPLogs"]],
      ["app-logs", ["ContainerAppConsoleLogs", "ContainerAppSystemLogs"]],
    ]);
    expect(settings[1].workspaceId).toMatch(/\/workspaces\/ws-am$/);
  });

  test("ContainerAppConsoleLogs has the revision's lines, with Location and _ResourceId", async () => {
    const printed = emulator
      .consoleLogs()
      .filter((l) => l.app === amApp && l.revision === amRevision);
    expect(printed.map((l) => l.text)).toEqual([
      `Starting ${amApp} (revision ${amRevision}, image ${image("healthy")}, behaviour healthy)`,
      expect.stringMatching(new RegExp(`^${amRevision} listening on http://127\\.0\\.0\\.1:\\d+$`)),
    ]);
    const journal = newestFirst(printed);
    const rows = await resourceRows(
      amEnvironment,
      consoleQuery("ContainerAppConsoleLogs", "", amApp, amRevision),
    );
    expect(rows).toEqual(
      journal.map((line) => ({
        TimeGenerated: iso(line.time),
        ContainerAppName: amApp,
        EnvironmentName: amEnvironment,
        RevisionName: amRevision,
        ContainerGroupName: line.replica,
        ContainerName: line.container,
        ContainerImage: image("healthy"),
        Stream: line.stream,
        Log: line.text,
        Location: emulator.info.location,
        _ResourceId: environmentId(amEnvironment).toLowerCase(),
        Type: "ContainerAppConsoleLogs",
      })),
    );
  });

  test("ContainerAppSystemLogs has its events, Type being the severity", async () => {
    const rows = await resourceRows(
      amEnvironment,
      systemQuery("ContainerAppSystemLogs", "", amApp, amRevision),
    );
    const journal = newestFirst(
      emulator
        .systemEvents()
        .filter((e) => e.app === amApp && (e.revision === amRevision || e.revision === undefined)),
    );
    expect(journal.length).toBeGreaterThan(0);
    expect(rows).toEqual(
      journal.map((event) => ({
        TimeGenerated: iso(event.time),
        ContainerAppName: amApp,
        EnvironmentName: amEnvironment,
        RevisionName: event.revision ?? "",
        ReplicaName: event.replica ?? "",
        Type: event.type,
        Reason: event.reason,
        EventSource: "ContainerAppController",
        Log: event.message,
        Count: event.count,
        Location: emulator.info.location,
        _ResourceId: environmentId(amEnvironment).toLowerCase(),
      })),
    );
  });

  test("no _CL table: neither resource-scoped nor in its workspace, which has the resource-specific ones", async () => {
    await semanticError(
      logs.queryResource(
        environmentId(amEnvironment).slice(1),
        consoleQuery("ContainerAppConsoleLogs_CL", "_s", amApp, amRevision),
        window(),
      ),
    );
    const workspace = workspaceCustomerId("ws-am");
    await semanticError(
      logs.queryWorkspace(
        workspace,
        consoleQuery("ContainerAppConsoleLogs_CL", "_s", amApp, amRevision),
        window(),
      ),
    );
    const inWorkspace = await workspaceRows(
      workspace,
      consoleQuery("ContainerAppConsoleLogs", "", amApp, amRevision),
    );
    expect(inWorkspace.map((row) => row.Log)).toEqual(
      (
        await resourceRows(
          amEnvironment,
          consoleQuery("ContainerAppConsoleLogs", "", amApp, amRevision),
        )
      ).map((row) => row.Log),
    );
    // And the other environment's workspace has none of this one's rows.
    const elsewhere = await workspaceRows(
      customerId,
      consoleQuery("ContainerAppConsoleLogs_CL", "_s", amApp, amRevision),
    );
    expect(elsewhere).toEqual([]);
  });
});

describe("what the queries see", () => {
  test("the ingestion delay hides the rows until it has passed", async () => {
    const setDelay = async (ms: number) => {
      const response = await fetch(`${emulator.info.control}/monitor/ingestion-delay`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ms }),
      });
      expect(response.status).toBe(204);
    };
    const query = consoleQuery("ContainerAppConsoleLogs_CL", "_s", laApp, crashing);
    const system = systemQuery("ContainerAppSystemLogs", "", amApp, amRevision);
    await setDelay(10 * 60_000);
    try {
      expect(await workspaceRows(customerId, query)).toEqual([]);
      expect(await resourceRows(amEnvironment, system)).toEqual([]);
    } finally {
      await setDelay(0);
    }
    expect(await workspaceRows(customerId, query)).toHaveLength(3);
    expect((await resourceRows(amEnvironment, system)).length).toBeGreaterThan(0);
  });

  test("rows outside the request's timespan are left out", async () => {
    const query = consoleQuery("ContainerAppConsoleLogs_CL", "_s", laApp, crashing);
    const before = await logs.queryWorkspace(customerId, query, {
      startTime: new Date(started - 3_600_000),
      endTime: new Date(started - 60_000),
    });
    expect(tableOf(before).rows).toEqual([]);
  });

  test("a line printed later shows too: the error line of a request the app fails", async () => {
    const revision = `${laApp}--v1`;
    await emulator.setRevisionBehaviour(rg, laApp, revision, "http500");
    const proxy = new ProxyAgent({
      uri: emulator.info.proxy,
      requestTls: { ca: caOf(emulator.info) },
    });
    try {
      const response = await undiciFetch(`https://${emulator.getApp(rg, laApp).fqdn}/orders`, {
        dispatcher: proxy,
      });
      expect(response.status).toBe(500);
      await response.text();
    } finally {
      await proxy.close();
    }
    const rows = await eventually(async () => {
      const found = await workspaceRows(
        customerId,
        consoleQuery("ContainerAppConsoleLogs_CL", "_s", laApp, revision),
      );
      return found.some((row) => String(row.Log_s).startsWith("ERROR request")) ? found : undefined;
    });
    expect(rows[0]).toMatchObject({
      Stream_s: "stderr",
      Log_s: expect.stringMatching(/^ERROR request \S+: GET \/orders answered 500: /),
    });
    expect(rows.map((row) => row.Log_s)).toEqual(
      newestFirst(
        emulator.consoleLogs().filter((l) => l.app === laApp && l.revision === revision),
      ).map((l) => l.text),
    );
  });

  test("an unknown workspace answers 404 WorkspaceNotFoundError", async () => {
    const error = await rejectionOf(
      logs.queryWorkspace(randomUUID(), "ContainerAppConsoleLogs_CL | take 1", window()),
    );
    expect(error).toMatchObject({ statusCode: 404, code: "WorkspaceNotFoundError" });
  });

  test("a query outside the subset fails as before", async () => {
    const error = await rejectionOf(
      logs.queryWorkspace(
        customerId,
        'ContainerAppConsoleLogs_CL | where Log_s contains "crash"',
        window(),
      ),
    );
    expect(error).toMatchObject({ statusCode: 400, code: "BadArgumentError" });
    expect(JSON.stringify(error.details)).toContain("NotSupportedInEmulator");
    await semanticError(
      logs.queryWorkspace(customerId, "ContainerAppConsoleLogs_CL | where Log == 'x'", window()),
    );
  });

  test("a seed's workspace destination is log-analytics or azure-monitor", async () => {
    await expect(
      emulator.seed({
        resourceGroup: rg,
        environment: "env-bad",
        workspace: { name: "ws-bad", destination: "elsewhere" as "azure-monitor" },
        app: "bad",
        revisions: [{ suffix: "v1", image: image("healthy") }],
      }),
    ).rejects.toMatchObject({ status: 400 });
  });
});
