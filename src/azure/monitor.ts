/**
 * Azure Monitor for the production gates, over the SDK clients made for it: the `Requests` metric
 * of the container app, read resource-scoped with `@azure/arm-monitor` (`metrics/read` on the app;
 * the data-plane batch client would need a regional endpoint and subscription-wide rights), the
 * environment's diagnostic settings, and `ContainerAppHTTPLogs` queried on the environment itself
 * with `@azure/monitor-query-logs` (`LogsQueryClient.queryResource`), so no workspace id is needed.
 */
import type { LogsTable } from "@azure/monitor-query-logs";
import type {
  CallOptions,
  HttpLogSummary,
  HttpLogsDestination,
  RevisionMinute,
  TrafficMonitor,
} from "../core/ports.ts";
import {
  abortOptions,
  diagnosticSettingsOf,
  kqlDatetime,
  kqlString,
  queryLogs,
  sendsToWorkspace,
  type MonitorClients,
} from "./logAnalytics.ts";

export interface MonitorConnection {
  clients: MonitorClients;
  subscriptionId: string;
  resourceGroup: string;
  app: string;
  /** `appLogsConfiguration.logAnalyticsConfiguration.customerId` of an environment. */
  workspaceCustomerId(environmentId: string): Promise<string | undefined>;
}

/** The metric, its namespace and the dimensions it is split by. */
const METRIC = "Requests";
const NAMESPACE = "Microsoft.App/containerApps";
const HTTP_LOGS = "ContainerAppHTTPLogs";

export function createTrafficMonitor(connection: MonitorConnection): TrafficMonitor {
  const { clients } = connection;
  const appId = `subscriptions/${connection.subscriptionId}/resourceGroups/${connection.resourceGroup}/providers/Microsoft.App/containerApps/${connection.app}`;

  const query = (
    environmentId: string,
    text: string,
    range: { from: number; to: number },
    options?: CallOptions,
  ): Promise<LogsTable> =>
    queryLogs(clients, { resourceId: environmentId }, HTTP_LOGS, text, range, options);

  return {
    async requestsByMinute(range, revisions, options) {
      const response = await clients.arm.metrics.list(appId, {
        timespan: `${iso(range.from)}/${iso(range.to)}`,
        interval: "PT1M",
        metricnames: METRIC,
        metricnamespace: NAMESPACE,
        aggregation: "Total",
        filter: requestsFilter(revisions),
        top: Math.max(10, revisions.length * 8),
        ...abortOptions(options),
      });
      return minutesOf(response.value);
    },

    async httpLogsDestination(environmentId, options) {
      const settings = await diagnosticSettingsOf(clients, environmentId, options);
      const sending = settings.find((setting) => sendsToWorkspace(setting, HTTP_LOGS));
      const customerId = await connection.workspaceCustomerId(environmentId);
      const destination: HttpLogsDestination = {
        ...(sending?.workspaceId && { workspaceId: sending.workspaceId }),
        ...(customerId && { customerId }),
      };
      if (!sending) {
        destination.problem = `no diagnostic setting of environment ${lastSegment(environmentId)} sends ${HTTP_LOGS} to a Log Analytics workspace (${settings.length} diagnostic setting${settings.length === 1 ? "" : "s"} found). Add one with the category "Container App HTTP logs".`;
      }
      return destination;
    },

    async httpLogs(environmentId, range, revisions, options) {
      const table = await query(environmentId, summaryQuery(range, revisions), range, options);
      return summariesOf(table);
    },

    async httpLogDurations(environmentId, range, revision, size, options) {
      const table = await query(
        environmentId,
        durationsQuery(range, revision, size),
        range,
        options,
      );
      const column = table.columnDescriptors.findIndex((c) => c.name === "RequestDuration");
      return table.rows.map((row) => Number(row[column])).filter((value) => Number.isFinite(value));
    },
  };
}

/**
 * `revisionName eq 'a' or revisionName eq 'b' and statusCodeCategory eq '*'`: both revisions,
 * split by status code category ('or' may only join values of one dimension).
 */
export function requestsFilter(revisions: readonly string[]): string {
  const names = revisions.map((name) => `revisionName eq '${name.replace(/'/g, "''")}'`);
  return `${names.join(" or ")} and statusCodeCategory eq '*'`;
}

/** Per revision: answered requests, their duration percentiles and the latest record's time. */
export function summaryQuery(range: { from: number; to: number }, revisions: readonly string[]) {
  return [
    HTTP_LOGS,
    `| where TimeGenerated >= ${kqlDatetime(range.from)} and TimeGenerated < ${kqlDatetime(range.to)}`,
    `| where RevisionName in (${revisions.map(kqlString).join(", ")}) and StatusCode < 500`,
    "| summarize Requests = count(), P50 = percentile(RequestDuration, 50), P95 = percentile(RequestDuration, 95), P99 = percentile(RequestDuration, 99), Latest = max(TimeGenerated) by RevisionName",
  ].join("\n");
}

/** A random sample of one revision's durations of answered requests. */
export function durationsQuery(
  range: { from: number; to: number },
  revision: string,
  size: number,
) {
  return [
    HTTP_LOGS,
    `| where TimeGenerated >= ${kqlDatetime(range.from)} and TimeGenerated < ${kqlDatetime(range.to)}`,
    `| where RevisionName == ${kqlString(revision)} and StatusCode < 500`,
    "| project RequestDuration",
    `| sample ${Math.max(1, Math.floor(size))}`,
  ].join("\n");
}

interface MetricLike {
  timeseries: {
    metadatavalues?: { name?: { value?: string }; value?: string }[];
    data?: { timeStamp: Date; total?: number }[];
  }[];
}

function minutesOf(metrics: readonly MetricLike[]): RevisionMinute[] {
  const byKey = new Map<string, RevisionMinute>();
  for (const series of metrics[0]?.timeseries ?? []) {
    const dimension = (name: string) =>
      series.metadatavalues?.find((m) => m.name?.value?.toLowerCase() === name.toLowerCase())
        ?.value;
    const revision = dimension("revisionName");
    if (!revision) continue;
    const serverErrors = dimension("statusCodeCategory")?.toLowerCase() === "5xx";
    for (const point of series.data ?? []) {
      const total = point.total ?? 0;
      if (total <= 0) continue;
      const minute = point.timeStamp.getTime();
      const key = `${revision}|${minute}`;
      const entry = byKey.get(key) ?? { revision, minute, requests: 0, serverErrors: 0 };
      entry.requests += total;
      if (serverErrors) entry.serverErrors += total;
      byKey.set(key, entry);
    }
  }
  return [...byKey.values()].sort((a, b) => a.minute - b.minute);
}

function summariesOf(table: LogsTable): HttpLogSummary[] {
  const index = (name: string) => table.columnDescriptors.findIndex((c) => c.name === name);
  const [revision, requests, p50, p95, p99, latest] = [
    "RevisionName",
    "Requests",
    "P50",
    "P95",
    "P99",
    "Latest",
  ].map(index);
  const number = (value: unknown) =>
    value === null || value === undefined ? undefined : Number(value);
  return table.rows.map((row) => {
    const time = row[latest];
    return {
      revision: String(row[revision]),
      requests: number(row[requests]) ?? 0,
      ...(number(row[p50]) !== undefined && { p50: number(row[p50]) }),
      ...(number(row[p95]) !== undefined && { p95: number(row[p95]) }),
      ...(number(row[p99]) !== undefined && { p99: number(row[p99]) }),
      ...(time instanceof Date && { latest: time.getTime() }),
    };
  });
}

function iso(time: number): string {
  return new Date(time).toISOString();
}

function lastSegment(id: string): string {
  return id.split("/").filter(Boolean).at(-1) ?? id;
}
