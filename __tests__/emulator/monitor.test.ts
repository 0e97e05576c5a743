/**
 * The emulator's Azure Monitor stand-ins, through the real SDK clients and raw HTTP: the metrics
 * API of a container app (shape of the REST spec's GetMetric example, the service's unwrapped
 * `BadRequest` errors), diagnostic settings, and the resource-scoped Log Analytics query API with
 * its KQL subset — including what it refuses, in the service's error envelope — and the
 * ingestion delay that makes data arrive late.
 */
import { readFileSync } from "node:fs";
import tls from "node:tls";
import { MonitorClient } from "@azure/arm-monitor";
import { ClientSecretCredential } from "@azure/identity";
import { Agent, fetch } from "undici";
import { startEmulator } from "../../emulator/index.ts";
import { startLoad } from "../../emulator/rehearsal.ts";
import type { Emulator } from "../../emulator/types.ts";
import { runKql, KqlError, type KqlTable } from "../../emulator/kql.ts";

let emulator: Emulator;
let credential: ClientSecretCredential;
let dispatcher: Agent;
let environmentId: string;
const app = "web";

beforeAll(async () => {
  emulator = await startEmulator({ provisioningDelayMs: 100, operationDelayMs: 100 });
  const ca = readFileSync(emulator.info.caFile, "utf8");
  tls.setDefaultCACertificates([...tls.getCACertificates("default"), ca]);
  dispatcher = new Agent({ connect: { ca } });
  credential = new ClientSecretCredential(
    emulator.info.tenantId,
    emulator.info.clientId,
    emulator.info.clientSecret,
    { authorityHost: emulator.info.authorityHost, disableInstanceDiscovery: true },
  );
  const view = await emulator.seed({
    resourceGroup: "rg",
    environment: "env",
    workspace: { name: "logs" },
    app,
    revisions: [
      { suffix: "v1", image: "emulator.test/app:healthy" },
      { suffix: "v2", image: "emulator.test/app:errors-25" },
    ],
    traffic: [
      { revisionName: `${app}--v1`, weight: 50 },
      { revisionName: `${app}--v2`, weight: 50 },
    ],
  });
  environmentId = `/subscriptions/${emulator.info.subscriptionId}/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/env`;
  const load = startLoad(emulator.info, view.fqdn, { intervalMs: 5, maxRequests: 120 });
  while (load.sent < 120) await new Promise((resolve) => setTimeout(resolve, 50));
  await load.stop();
});

afterAll(async () => {
  await dispatcher?.close();
  await emulator?.stop();
});

function monitor(): MonitorClient {
  return new MonitorClient(credential, emulator.info.subscriptionId, {
    endpoint: emulator.info.arm,
  });
}

const appId = () =>
  `subscriptions/${emulator.info.subscriptionId}/resourceGroups/rg/providers/Microsoft.App/containerApps/${app}`;

function lastMinutes(): string {
  const now = Date.now();
  return `${new Date(now - 5 * 60_000).toISOString()}/${new Date(now + 1000).toISOString()}`;
}

async function token(resource: string): Promise<string> {
  return (await credential.getToken(`${resource}/.default`)).token;
}

async function query(text: string, timespan = "PT1H") {
  const base = `${emulator.info.arm}/loganalytics`;
  const response = await fetch(`${base}/v1${environmentId}/query`, {
    method: "POST",
    dispatcher,
    headers: { authorization: `Bearer ${await token(base)}`, "content-type": "application/json" },
    body: JSON.stringify({ query: text, timespan }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("the metrics API of a container app", () => {
  test("Requests split by revision and status code category, per minute, as the SDK reads it", async () => {
    const response = await monitor().metrics.list(appId(), {
      timespan: lastMinutes(),
      interval: "PT1M",
      metricnames: "Requests",
      metricnamespace: "Microsoft.App/containerApps",
      aggregation: "Total",
      filter: `revisionName eq '${app}--v1' or revisionName eq '${app}--v2' and statusCodeCategory eq '*'`,
      top: 20,
    });
    const [metric] = response.value;
    expect(metric).toMatchObject({
      type: "Microsoft.Insights/metrics",
      name: { value: "Requests" },
      unit: "Count",
      errorCode: "Success",
    });
    const totals = new Map<string, number>();
    for (const series of metric.timeseries) {
      const key = series.metadatavalues?.map((m) => `${m.name?.value}=${m.value}`).join(",");
      totals.set(
        key ?? "",
        (series.data ?? []).reduce((sum, d) => sum + (d.total ?? 0), 0),
      );
      for (const point of series.data ?? []) expect(point.timeStamp.getUTCSeconds()).toBe(0);
    }
    const routed = emulator.ingressJournal();
    const served = (revision: string, status?: number) =>
      routed.filter((e) => e.revision === revision && (status === undefined || e.status === status))
        .length;
    expect(totals.get(`revisionname=${app}--v1,statuscodecategory=2xx`)).toBe(served(`${app}--v1`));
    expect(totals.get(`revisionname=${app}--v2,statuscodecategory=5xx`)).toBe(
      served(`${app}--v2`, 500),
    );
    // errors-25: exactly a quarter of the pages failed.
    expect(served(`${app}--v2`, 500)).toBe(Math.floor(served(`${app}--v2`) / 4));
  });

  test("an unknown metric, an unknown dimension and or across dimensions answer 400 BadRequest, unwrapped", async () => {
    const list = (options: Record<string, unknown>) =>
      monitor().metrics.list(appId(), { timespan: lastMinutes(), ...options });
    await expect(list({ metricnames: "CpuPercentage" })).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringMatching(
        /Failed to find metric configuration .* metric: CpuPercentage/,
      ),
    });
    await expect(list({ metricnames: "Requests", filter: "podName eq '*'" })).rejects.toMatchObject(
      {
        statusCode: 400,
        message: expect.stringMatching(/does not support requested dimension combination: podname/),
      },
    );
    await expect(
      list({ metricnames: "Requests", filter: "revisionName eq 'a' or statusCode eq '500'" }),
    ).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringMatching(/or operator cannot separate two different metadata names/),
    });
  });

  test("requests show only once the ingestion delay has passed", async () => {
    emulator.setIngestionDelay(60_000);
    try {
      const response = await monitor().metrics.list(appId(), {
        timespan: lastMinutes(),
        metricnames: "Requests",
        filter: "revisionName eq '*'",
      });
      const total = response.value[0].timeseries
        .flatMap((s) => s.data ?? [])
        .reduce((sum, d) => sum + (d.total ?? 0), 0);
      expect(total).toBe(0);
    } finally {
      emulator.setIngestionDelay(0);
    }
  });

  test("the environment's diagnostic setting sends its HTTP logs to the seeded workspace", async () => {
    const settings = [];
    for await (const setting of monitor().diagnosticSettings.list(environmentId.slice(1))) {
      settings.push(setting);
    }
    expect(settings).toHaveLength(1);
    expect(settings[0].workspaceId).toMatch(/\/workspaces\/logs$/);
    expect(settings[0].logs?.map((log) => [log.category, log.enabled])).toEqual([
      ["ContainerAppHTTPLogs", true],
    ]);
  });
});

describe("the Log Analytics query API on the environment", () => {
  test("summarize by revision: counts and percentiles of every routed request", async () => {
    const { status, body } = await query(
      `ContainerAppHTTPLogs
| where RevisionName in ("${app}--v1", "${app}--v2")
| summarize Requests = count(), P95 = percentile(RequestDuration, 95), Latest = max(TimeGenerated) by RevisionName`,
    );
    expect(status).toBe(200);
    const [table] = body.tables as {
      columns: { name: string; type: string }[];
      rows: unknown[][];
    }[];
    expect(table.columns).toEqual([
      { name: "RevisionName", type: "string" },
      { name: "Requests", type: "long" },
      { name: "P95", type: "long" },
      { name: "Latest", type: "datetime" },
    ]);
    const counts = Object.fromEntries(table.rows.map((row) => [row[0], row[1]]));
    const routed = emulator.ingressJournal();
    expect(counts[`${app}--v1`]).toBe(routed.filter((e) => e.revision === `${app}--v1`).length);
    expect(typeof table.rows[0][3]).toBe("string");
  });

  test("where, project, sample and take", async () => {
    const { body } = await query(
      `ContainerAppHTTPLogs | where RevisionName == "${app}--v2" and StatusCode >= 500 | project StatusCode, RequestDuration | sample 5`,
    );
    const [table] = body.tables as { rows: unknown[][] }[];
    expect(table.rows).toHaveLength(5);
    expect(table.rows.every((row) => row[0] === 500)).toBe(true);
  });

  test("a syntax error, an unknown column and an operator outside the subset answer 400 BadArgumentError", async () => {
    const syntax = await query("ContainerAppHTTPLogs | where StatusCode >");
    expect(syntax.status).toBe(400);
    expect(syntax.body).toMatchObject({
      error: {
        code: "BadArgumentError",
        innererror: { code: "SyntaxError", innererror: { code: "SYN0002" } },
      },
    });
    const semantic = await query("ContainerAppHTTPLogs | where Revision == 'x'");
    expect(semantic.body).toMatchObject({
      error: {
        innererror: {
          code: "SemanticError",
          innererror: {
            code: "SEM0100",
            message: "'where' operator: Failed to resolve scalar expression named 'Revision'",
          },
        },
      },
    });
    const unsupported = await query("ContainerAppHTTPLogs | extend Slow = RequestDuration > 100");
    expect(unsupported.body).toMatchObject({
      error: {
        code: "BadArgumentError",
        innererror: {
          code: "NotSupportedInEmulator",
          message: expect.stringMatching(/does not run the 'extend' operator/),
        },
      },
    });
  });

  test("a token for another resource is refused", async () => {
    const response = await fetch(`${emulator.info.arm}/loganalytics/v1${environmentId}/query`, {
      method: "POST",
      dispatcher,
      headers: {
        authorization: `Bearer ${await token("https://management.azure.com")}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ query: "ContainerAppHTTPLogs | take 1" }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "InvalidTokenError" } });
  });

  test("the cloud metadata names the query API as logAnalyticsResourceId", async () => {
    const response = await fetch(`${emulator.info.arm}/metadata/endpoints?api-version=2022-09-01`, {
      dispatcher,
    });
    expect(await response.json()).toMatchObject({
      logAnalyticsResourceId: `${emulator.info.arm}/loganalytics`,
    });
  });
});

describe("the KQL subset", () => {
  const table: KqlTable = {
    name: "T",
    columns: [
      { name: "Name", type: "string" },
      { name: "Value", type: "long" },
    ],
    rows: [
      ["a", 1],
      ["b", 5],
      ["a", 3],
      ["c", 10],
    ],
  };
  const run = (text: string) => runKql(text, (name) => (name === "T" ? table : undefined));

  test("filters, summarizes without by, orders and takes", () => {
    expect(run("T | where Value between (2 .. 9) or Name == 'c'").rows).toEqual([
      ["b", 5],
      ["a", 3],
      ["c", 10],
    ]);
    expect(run("T | summarize count(), avg(Value)").rows).toEqual([[4, 4.75]]);
    expect(run("T | order by Value asc | take 2 | project Name").rows).toEqual([["a"], ["a"]]);
    expect(run("T | where Value > 100 | summarize n = count()").rows).toEqual([[0]]);
  });

  test("refuses what it does not run, and names the unknown", () => {
    expect(() => run("T | where Value > ago(1h)")).toThrow(KqlError);
    expect(() => run("T | summarize dcount(Name)")).toThrow(
      /does not run the aggregate 'dcount\(\)'/,
    );
    expect(() => run("Missing | take 1")).toThrow(
      "'take' operator: Failed to resolve table or column expression named 'Missing'",
    );
    expect(() => run("T | frobnicate")).toThrow(/Query could not be parsed at 'frobnicate'/);
  });
});
