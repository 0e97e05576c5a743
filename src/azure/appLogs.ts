/**
 * A revision's console lines and system events as Log Analytics keeps them, read where the app's
 * environment sends them (`appLogsConfiguration.destination`):
 *
 * - `log-analytics`: the workspace named by `logAnalyticsConfiguration.customerId` holds the
 *   custom tables `ContainerAppConsoleLogs_CL` and `ContainerAppSystemLogs_CL`, with `_s` / `_d`
 *   column names; they are queried on that workspace (`LogsQueryClient.queryWorkspace`), as
 *   `az monitor log-analytics query --workspace <customerId>` does.
 * - `azure-monitor`: a diagnostic setting of the environment sends the categories
 *   `ContainerAppConsoleLogs` and `ContainerAppSystemLogs` to a workspace, whose tables of those
 *   names are queried on the environment itself (`queryResource`), like `ContainerAppHTTPLogs`.
 *
 * Anything else (`none`, no destination, or no setting that sends them) keeps none there, and
 * says why. The queries name no column they do not filter on; the rows are read by column name.
 */
import type { LogsTable } from "@azure/monitor-query-logs";
import type { ConsoleTail, SystemEvent } from "../core/diagnostics/types.ts";
import type { LogAnalyticsRequest, LoggedLines } from "../core/ports.ts";
import type { ContainerAppsGateway } from "./containerApps.ts";
import {
  columnOf,
  diagnosticSettingsOf,
  kqlDatetime,
  kqlString,
  queryLogs,
  sendsToWorkspace,
  type MonitorClients,
  type QueryScope,
} from "./logAnalytics.ts";

const CONSOLE = "ContainerAppConsoleLogs";
const SYSTEM = "ContainerAppSystemLogs";
/** Rows of console output read at most, of every replica and container of the revision. */
const MAX_CONSOLE_ROWS = 3_000;

/** Where an environment's console and system logs can be queried. */
interface Destination {
  scope: QueryScope;
  where: string;
  /** The `_CL` tables and their suffixed columns. */
  custom: boolean;
  console: boolean;
  system: boolean;
}

export async function readLogAnalytics(
  gateway: ContainerAppsGateway,
  clients: MonitorClients,
  request: LogAnalyticsRequest,
  options: { signal: AbortSignal },
): Promise<LoggedLines> {
  const destination = await destinationOf(gateway, clients, request.environmentId, options);
  if ("why" in destination) return { kept: false, why: destination.why };
  const names = columnNames(destination.custom);
  const table = (base: string) => (destination.custom ? `${base}_CL` : base);
  const query = (base: string, filter: string, take: number) =>
    queryLogs(
      clients,
      destination.scope,
      table(base),
      [
        table(base),
        `| where TimeGenerated >= ${kqlDatetime(request.from)} and TimeGenerated <= ${kqlDatetime(request.to)}`,
        `| where ${names.app} == ${kqlString(gateway.appName)} and ${filter}`,
        "| order by TimeGenerated desc",
        `| take ${take}`,
      ].join("\n"),
      request,
      options,
    );
  const revision = kqlString(request.revision);
  const [consoleRows, systemRows] = await Promise.all([
    destination.console
      ? query(
          CONSOLE,
          `${names.revision} == ${revision}`,
          Math.min(MAX_CONSOLE_ROWS, Math.max(1, request.lines) * 10),
        )
      : undefined,
    destination.system
      ? query(
          SYSTEM,
          `(${names.revision} == ${revision} or ${names.revision} == "")`,
          Math.max(request.lines, 100),
        )
      : undefined,
  ]);
  const console = consoleRows ? consoleTails(consoleRows, names, request.lines) : [];
  const systemEvents = systemRows ? events(systemRows, names).slice(-request.lines) : [];
  const latest = Math.max(
    ...[consoleRows, systemRows].flatMap((rows) => (rows ? latestOf(rows) : [])),
  );
  return {
    kept: true,
    where: destination.where,
    console,
    systemEvents,
    ...(Number.isFinite(latest) && { latest }),
  };
}

async function destinationOf(
  gateway: ContainerAppsGateway,
  clients: MonitorClients,
  known: string | undefined,
  options: { signal: AbortSignal },
): Promise<Destination | { why: string }> {
  const environmentId = known ?? (await environmentOf(gateway, options));
  if (!environmentId) return { why: `${gateway.appName} names no managed environment` };
  const environment = await gateway.getEnvironment(environmentId, options);
  const name = environment.name ?? environmentId.split("/").at(-1);
  const logs = environment.appLogsConfiguration;
  const destination = logs?.destination || "none";
  if (destination === "log-analytics") {
    const customerId = logs?.logAnalyticsConfiguration?.customerId;
    if (!customerId) {
      return {
        why: `environment ${name} sends its logs to Log Analytics but names no workspace (logAnalyticsConfiguration.customerId)`,
      };
    }
    return {
      scope: { workspace: customerId },
      where: `${CONSOLE}_CL and ${SYSTEM}_CL of workspace ${customerId}`,
      custom: true,
      console: true,
      system: true,
    };
  }
  if (destination === "azure-monitor") {
    const settings = await diagnosticSettingsOf(clients, environmentId, options);
    const console = settings.some((setting) => sendsToWorkspace(setting, CONSOLE));
    const system = settings.some((setting) => sendsToWorkspace(setting, SYSTEM));
    if (!console && !system) {
      return {
        why: `environment ${name} sends its logs to Azure Monitor, and none of its ${settings.length} diagnostic setting${settings.length === 1 ? "" : "s"} sends ${CONSOLE} or ${SYSTEM} to a Log Analytics workspace`,
      };
    }
    const tables = [console && CONSOLE, system && SYSTEM].filter(Boolean).join(" and ");
    return {
      scope: { resourceId: environmentId },
      where: `${tables} of environment ${name}`,
      custom: false,
      console,
      system,
    };
  }
  return {
    why: `environment ${name} keeps no logs in Log Analytics (its logs destination is ${destination})`,
  };
}

async function environmentOf(
  gateway: ContainerAppsGateway,
  options: { signal: AbortSignal },
): Promise<string | undefined> {
  const app = await gateway.getApp(options);
  return app.environmentId ?? app.managedEnvironmentId;
}

interface ColumnNames {
  app: string;
  revision: string;
  replica: string;
  group: string;
  container: string;
  stream: string;
  log: string;
  type: string;
  reason: string;
  count: string;
}

/** The `_CL` tables name their columns with the type's suffix: `RevisionName_s`, `Count_d`. */
function columnNames(custom: boolean): ColumnNames {
  const s = (name: string) => (custom ? `${name}_s` : name);
  return {
    app: s("ContainerAppName"),
    revision: s("RevisionName"),
    replica: s("ReplicaName"),
    group: s("ContainerGroupName"),
    container: s("ContainerName"),
    stream: s("Stream"),
    log: s("Log"),
    type: s("Type"),
    reason: s("Reason"),
    count: custom ? "Count_d" : "Count",
  };
}

/** The rows grouped per replica and container, oldest line first. */
function consoleTails(table: LogsTable, names: ColumnNames, lines: number): ConsoleTail[] {
  const [time, group, container, stream, log] = [
    "TimeGenerated",
    names.group,
    names.container,
    names.stream,
    names.log,
  ].map((name) => columnOf(table, name));
  const tails = new Map<string, ConsoleTail>();
  for (const row of oldestFirst(table, time)) {
    const replica = text(group?.(row)) ?? "";
    const name = text(container?.(row)) ?? "";
    const key = `${replica}\n${name}`;
    const tail = tails.get(key) ?? { replica, container: name, lines: [], source: "log-analytics" };
    const kind = text(stream?.(row));
    tail.lines.push({
      ...isoOf(time?.(row)),
      ...((kind === "stdout" || kind === "stderr") && { stream: kind }),
      text: text(log?.(row)) ?? "",
    });
    tails.set(key, tail);
  }
  return [...tails.values()].map((tail) => ({ ...tail, lines: tail.lines.slice(-lines) }));
}

function events(table: LogsTable, names: ColumnNames): SystemEvent[] {
  const [time, revision, replica, type, reason, log, count] = [
    "TimeGenerated",
    names.revision,
    names.replica,
    names.type,
    names.reason,
    names.log,
    names.count,
  ].map((name) => columnOf(table, name));
  return oldestFirst(table, time).map((row) => {
    const times = Number(count?.(row));
    return {
      ...isoOf(time?.(row)),
      ...optional("type", text(type?.(row))),
      ...optional("reason", text(reason?.(row))),
      message: text(log?.(row)) ?? "",
      ...optional("revision", text(revision?.(row))),
      ...optional("replica", text(replica?.(row))),
      ...(Number.isFinite(times) && times > 0 && { count: times }),
    };
  });
}

/**
 * The rows by time, oldest first. Rows of the same time stay in the order the service gave them:
 * which of two lines printed in one tick came first, only the order of the answer can tell.
 */
function oldestFirst(table: LogsTable, time: ((row: unknown[]) => unknown) | undefined) {
  const at = (row: unknown[]) => timeOf(time?.(row)) ?? 0;
  return [...table.rows].sort((a, b) => at(a) - at(b));
}

function latestOf(table: LogsTable): number[] {
  const time = columnOf(table, "TimeGenerated");
  return table.rows
    .map((row) => timeOf(time?.(row)))
    .filter((value): value is number => value !== undefined);
}

function timeOf(value: unknown): number | undefined {
  const time = value instanceof Date ? value.getTime() : Date.parse(String(value));
  return Number.isFinite(time) ? time : undefined;
}

function isoOf(value: unknown): { time?: string } {
  const time = timeOf(value);
  return time === undefined ? {} : { time: new Date(time).toISOString() };
}

function text(value: unknown): string | undefined {
  return value === null || value === undefined ? undefined : String(value);
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value ? ({ [key]: value } as Record<K, string>) : {};
}
