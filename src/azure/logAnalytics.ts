/**
 * Azure Monitor's clients, made once per connection and shared by the production gates and the
 * diagnostics: `@azure/arm-monitor` for metrics and diagnostic settings, and
 * `@azure/monitor-query-logs` for Log Analytics queries, either on a resource (`queryResource`:
 * the tables a diagnostic setting of the resource fills) or on a workspace (`queryWorkspace`:
 * the `_CL` tables an environment with the `log-analytics` logs destination fills).
 */
import { MonitorClient, type DiagnosticSettingsResource } from "@azure/arm-monitor";
import type { TokenCredential } from "@azure/core-auth";
import { LogsQueryClient, LogsQueryResultStatus, type LogsTable } from "@azure/monitor-query-logs";
import type { CallOptions } from "../core/ports.ts";
import { AzureError } from "./errors.ts";

export interface MonitorClientsOptions {
  credential: TokenCredential;
  subscriptionId: string;
  armEndpoint: string;
  armScope: string;
  /** The Log Analytics query API's resource (its audience), e.g. https://api.loganalytics.io. */
  logAnalytics?: string;
  userAgent: string;
}

export interface MonitorClients {
  /** Metrics and diagnostic settings. */
  readonly arm: MonitorClient;
  /** The query client; throws when the cloud names no Log Analytics endpoint. */
  logs(): LogsQueryClient;
}

export function createMonitorClients(options: MonitorClientsOptions): MonitorClients {
  let arm: MonitorClient | undefined;
  let logs: LogsQueryClient | undefined;
  return {
    get arm() {
      arm ??= new MonitorClient(options.credential, options.subscriptionId, {
        endpoint: options.armEndpoint,
        credentials: { scopes: [options.armScope] },
        userAgentOptions: { userAgentPrefix: options.userAgent },
      });
      return arm;
    },
    logs() {
      if (!options.logAnalytics) {
        throw new AzureError(
          "This cloud names no Log Analytics query endpoint (logAnalyticsResourceId in its metadata)",
          { code: "LogAnalyticsEndpointUnknown" },
        );
      }
      const base = options.logAnalytics.replace(/\/+$/, "");
      logs ??= new LogsQueryClient(options.credential, {
        endpoint: `${base}/v1`,
        credentials: { scopes: [`${base}/.default`] },
        userAgentOptions: { userAgentPrefix: options.userAgent },
      });
      return logs;
    },
  };
}

/** Every diagnostic setting of a resource. */
export async function diagnosticSettingsOf(
  clients: MonitorClients,
  resourceId: string,
  options?: CallOptions,
): Promise<DiagnosticSettingsResource[]> {
  const settings: DiagnosticSettingsResource[] = [];
  for await (const setting of clients.arm.diagnosticSettings.list(
    trimSlash(resourceId),
    abortOptions(options),
  )) {
    settings.push(setting);
  }
  return settings;
}

/** Whether a diagnostic setting sends a log category (by name, or as `allLogs`) to a workspace. */
export function sendsToWorkspace(setting: DiagnosticSettingsResource, category: string): boolean {
  return (
    Boolean(setting.workspaceId) &&
    (setting.logs ?? []).some(
      (log) =>
        log.enabled &&
        (log.category?.toLowerCase() === category.toLowerCase() ||
          log.categoryGroup?.toLowerCase() === "alllogs"),
    )
  );
}

/** Where a query runs: a resource's tables, or a workspace's (by its customer id). */
export type QueryScope = { resourceId: string } | { workspace: string };

/** The query's first table; a partial result or no table is an error naming `what`. */
export async function queryLogs(
  clients: MonitorClients,
  scope: QueryScope,
  what: string,
  text: string,
  range: { from: number; to: number },
  options?: CallOptions,
): Promise<LogsTable> {
  const client = clients.logs();
  const timespan = {
    startTime: new Date(range.from),
    endTime: new Date(Math.max(range.to, range.from + 1)),
  };
  const result =
    "workspace" in scope
      ? await client.queryWorkspace(scope.workspace, text, timespan, abortOptions(options))
      : await client.queryResource(
          trimSlash(scope.resourceId),
          text,
          timespan,
          abortOptions(options),
        );
  if (result.status === LogsQueryResultStatus.PartialFailure) {
    throw new AzureError(
      `The ${what} query returned partial results: ${result.partialError.message}`,
      { code: result.partialError.code },
    );
  }
  const table = result.tables[0];
  if (!table) throw new AzureError(`The ${what} query returned no table`, { code: "NoTable" });
  return table;
}

/** A table's column by name: `(row) => value`, undefined when the table has no such column. */
export function columnOf(
  table: LogsTable,
  name: string,
): ((row: unknown[]) => unknown) | undefined {
  const index = table.columnDescriptors.findIndex((c) => c.name === name);
  return index < 0 ? undefined : (row) => row[index];
}

export function kqlString(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export function kqlDatetime(time: number): string {
  return `datetime(${new Date(time).toISOString()})`;
}

export function trimSlash(id: string): string {
  return id.replace(/^\/+/, "");
}

export function abortOptions(options?: CallOptions) {
  return options?.signal ? { abortSignal: options.signal } : {};
}
