/**
 * The Log Analytics query API as the emulator serves it, on the ARM server (the cloud metadata
 * names the base as `logAnalyticsResourceId`, which is also the token audience, as on Azure),
 * both ways `LogsQueryClient` calls it, with `{"query", "timespan"}`:
 *
 * - resource-scoped, `POST /loganalytics/v1/{managed environment id}/query`
 *   (`queryResource`): the resource-specific tables the environment's diagnostic settings send —
 *   `ContainerAppHTTPLogs` (one record per request its ingress routed), and, when its
 *   `appLogsConfiguration.destination` is `azure-monitor`, `ContainerAppConsoleLogs` and
 *   `ContainerAppSystemLogs`;
 * - workspace-scoped, `POST /loganalytics/v1/workspaces/{customerId}/query` (`queryWorkspace`):
 *   `ContainerAppConsoleLogs_CL` and `ContainerAppSystemLogs_CL` of every environment whose
 *   destination is `log-analytics` with that customer id, and the resource-specific tables of
 *   every environment whose diagnostic settings send them to that workspace.
 *
 * Rows show once the ingestion delay has passed and within the request's timespan. Queries run in
 * the KQL subset of kql.ts; anything outside it is refused in the service's error envelope
 * (`BadArgumentError` with a nested `innererror`); a table the scope does not have is an unknown
 * table.
 */
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { Identity } from "./identity.ts";
import { KqlError, runKql, type KqlColumn, type KqlTable, type KqlValue } from "./kql.ts";
import { sendJson } from "./http.ts";
import type { ConsoleEntry, LogStreams, SystemEventEntry } from "./logs.ts";
import type { ManagedEnvironment, ResourceStore } from "./store.ts";
import {
  appLogsDestination,
  CONSOLE_LOGS,
  HTTP_LOGS,
  SYSTEM_LOGS,
  workspaceCustomerId,
  type RequestRecord,
  type Telemetry,
} from "./telemetry.ts";

export const LOG_ANALYTICS_PREFIX = "/loganalytics";
/** The public cloud's Log Analytics resource: tokens for it are accepted too. */
const PUBLIC_RESOURCE = "https://api.loganalytics.io";
/** The tables the `log-analytics` destination fills in the workspace. */
const CONSOLE_LOGS_CL = "ContainerAppConsoleLogs_CL";
const SYSTEM_LOGS_CL = "ContainerAppSystemLogs_CL";

/** A column and how a journal entry gives its value, in the environment it belongs to. */
type Column<T> = KqlColumn & { of: (entry: T, environment: ManagedEnvironment) => KqlValue };

const HTTP_LOG_COLUMNS: Column<RequestRecord>[] = [
  { name: "TimeGenerated", type: "datetime", of: (r) => r.time },
  { name: "StartTime", type: "datetime", of: (r) => r.time - r.durationMs },
  { name: "ContainerAppName", type: "string", of: (r) => r.app },
  { name: "EnvironmentName", type: "string", of: (r) => r.environment },
  { name: "RevisionName", type: "string", of: (r) => r.revision },
  { name: "ReplicaName", type: "string", of: (r) => r.replica ?? "" },
  { name: "Method", type: "string", of: (r) => r.method },
  { name: "Path", type: "string", of: (r) => r.path },
  { name: "Authority", type: "string", of: (r) => r.host },
  { name: "StatusCode", type: "int", of: (r) => r.status },
  { name: "RequestDuration", type: "long", of: (r) => r.durationMs },
  { name: "Location", type: "string", of: (_, e) => e.location },
  { name: "_ResourceId", type: "string", of: (r) => r.environmentId.toLowerCase() },
  { name: "Type", type: "string", of: () => HTTP_LOGS },
];

/** `ContainerAppConsoleLogs`: the resource-specific table of the Azure Monitor tables reference. */
const CONSOLE_LOG_COLUMNS: Column<ConsoleEntry>[] = [
  { name: "TimeGenerated", type: "datetime", of: (c) => c.time },
  { name: "ContainerAppName", type: "string", of: (c) => c.app },
  { name: "EnvironmentName", type: "string", of: (c) => c.environment },
  { name: "RevisionName", type: "string", of: (c) => c.revision },
  { name: "ContainerGroupName", type: "string", of: (c) => c.replica },
  { name: "ContainerName", type: "string", of: (c) => c.container },
  { name: "ContainerImage", type: "string", of: (c) => c.image },
  { name: "Stream", type: "string", of: (c) => c.stream },
  { name: "Log", type: "string", of: (c) => c.text },
  { name: "Location", type: "string", of: (_, e) => e.location },
  { name: "_ResourceId", type: "string", of: (_, e) => e.id.toLowerCase() },
  { name: "Type", type: "string", of: () => CONSOLE_LOGS },
];

/** `ContainerAppSystemLogs`: here `Type` is the event's severity, as the reference has it. */
const SYSTEM_LOG_COLUMNS: Column<SystemEventEntry>[] = [
  { name: "TimeGenerated", type: "datetime", of: (s) => s.time },
  { name: "ContainerAppName", type: "string", of: (s) => s.app },
  { name: "EnvironmentName", type: "string", of: (s) => s.environment },
  { name: "RevisionName", type: "string", of: (s) => s.revision ?? "" },
  { name: "ReplicaName", type: "string", of: (s) => s.replica ?? "" },
  { name: "Type", type: "string", of: (s) => s.type },
  { name: "Reason", type: "string", of: (s) => s.reason },
  { name: "EventSource", type: "string", of: () => "ContainerAppController" },
  { name: "Log", type: "string", of: (s) => s.message },
  { name: "Count", type: "int", of: (s) => s.count },
  { name: "Location", type: "string", of: (_, e) => e.location },
  { name: "_ResourceId", type: "string", of: (_, e) => e.id.toLowerCase() },
];

/** `ContainerAppConsoleLogs_CL`: the custom table of the `log-analytics` destination. */
const CONSOLE_LOG_CL_COLUMNS: Column<ConsoleEntry>[] = [
  { name: "TimeGenerated", type: "datetime", of: (c) => c.time },
  { name: "ContainerAppName_s", type: "string", of: (c) => c.app },
  { name: "EnvironmentName_s", type: "string", of: (c) => c.environment },
  { name: "RevisionName_s", type: "string", of: (c) => c.revision },
  { name: "ContainerGroupName_s", type: "string", of: (c) => c.replica },
  { name: "ContainerName_s", type: "string", of: (c) => c.container },
  { name: "ContainerImage_s", type: "string", of: (c) => c.image },
  { name: "Stream_s", type: "string", of: (c) => c.stream },
  { name: "Log_s", type: "string", of: (c) => c.text },
  { name: "Type", type: "string", of: () => CONSOLE_LOGS_CL },
];

const SYSTEM_LOG_CL_COLUMNS: Column<SystemEventEntry>[] = [
  { name: "TimeGenerated", type: "datetime", of: (s) => s.time },
  { name: "ContainerAppName_s", type: "string", of: (s) => s.app },
  { name: "EnvironmentName_s", type: "string", of: (s) => s.environment },
  { name: "RevisionName_s", type: "string", of: (s) => s.revision ?? "" },
  { name: "ReplicaName_s", type: "string", of: (s) => s.replica ?? "" },
  { name: "Type_s", type: "string", of: (s) => s.type },
  { name: "Reason_s", type: "string", of: (s) => s.reason },
  { name: "EventSource_s", type: "string", of: () => "ContainerAppController" },
  { name: "Log_s", type: "string", of: (s) => s.message },
  { name: "Count_d", type: "real", of: (s) => s.count },
  { name: "Type", type: "string", of: () => SYSTEM_LOGS_CL },
];

const environmentQuery =
  /^\/loganalytics\/v1\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.App\/managedEnvironments\/([^/]+)\/query$/i;
const workspaceQuery = /^\/loganalytics\/v1\/workspaces\/([^/]+)\/query$/i;

export interface LogAnalyticsApi {
  /** Whether a path is the Log Analytics API's (served before the ARM token check). */
  matches(pathname: string): boolean;
  /** Answers one query request; returns the status sent. */
  handle(
    request: { method: string; url: URL; authorization?: string; body: unknown },
    response: ServerResponse,
  ): number;
}

/** What a query reads from the logs journal (logs.ts). */
export type LogJournal = Pick<LogStreams, "consoleWhere" | "systemEventsWhere">;

interface Span {
  from: number;
  to: number;
}

export function createLogAnalyticsApi(options: {
  store: ResourceStore;
  telemetry: Telemetry;
  identity: Identity;
  logs: LogJournal;
}): LogAnalyticsApi {
  const { store, telemetry, identity, logs } = options;
  // The three journals, read the same way: every entry `keep` selects.
  const consoleOf = (keep: (entry: Readonly<ConsoleEntry>) => boolean) => logs.consoleWhere(keep);
  const eventsOf = (keep: (entry: Readonly<SystemEventEntry>) => boolean) =>
    logs.systemEventsWhere(keep);

  function handle(
    request: { method: string; url: URL; authorization?: string; body: unknown },
    response: ServerResponse,
  ): number {
    const answer = (status: number, body: unknown) => {
      sendJson(response, status, body, { "x-ms-request-id": randomUUID() });
      return status;
    };
    const base = `${request.url.protocol}//${request.url.host}${LOG_ANALYTICS_PREFIX}`;
    const problem = identity.bearerProblem(request.authorization, [base, PUBLIC_RESOURCE]);
    if (problem) {
      return answer(401, {
        error: {
          message:
            problem === "missing"
              ? "Valid authentication was not provided"
              : `The provided authentication is not valid for this resource (${problem === "audience" ? `the token's audience is not ${base}` : `the token is ${problem}`})`,
          code: problem === "missing" ? "AuthorizationRequiredError" : "InvalidTokenError",
          correlationId: randomUUID(),
        },
      });
    }
    const resource = environmentQuery.exec(request.url.pathname);
    const workspace = workspaceQuery.exec(request.url.pathname);
    if ((!resource && !workspace) || request.method !== "POST") {
      return answer(404, {
        error: {
          message: `The emulator serves POST ${LOG_ANALYTICS_PREFIX}/v1/<managed environment resource id>/query and POST ${LOG_ANALYTICS_PREFIX}/v1/workspaces/<customer id>/query only, not ${request.method} ${request.url.pathname}.`,
          code: "PathNotFoundError",
          correlationId: randomUUID(),
        },
      });
    }
    let resolve: (table: string, span: Span, now: number) => KqlTable | undefined;
    if (resource) {
      const [, subscription, group, name] = resource;
      const environment = store
        .environments()
        .find(
          (e) =>
            e.subscriptionId.toLowerCase() === subscription.toLowerCase() &&
            e.resourceGroup.toLowerCase() === group.toLowerCase() &&
            e.name.toLowerCase() === name.toLowerCase(),
        );
      if (!environment) {
        return answer(404, {
          error: {
            message: `The resource '/subscriptions/${subscription}/resourceGroups/${group}/providers/Microsoft.App/managedEnvironments/${name}' was not found.`,
            code: "ResourceNotFoundError",
            correlationId: randomUUID(),
          },
        });
      }
      resolve = (table, span, now) => resourceTable(environment, table, span, now);
    } else {
      const customerId = workspace![1].toLowerCase();
      if (!knowsWorkspace(customerId)) {
        return answer(404, {
          error: {
            message: `The workspace '${customerId}' could not be found.`,
            code: "WorkspaceNotFoundError",
            correlationId: randomUUID(),
          },
        });
      }
      resolve = (table, span, now) => workspaceTable(customerId, table, span, now);
    }
    const body = request.body as { query?: unknown; timespan?: unknown } | undefined;
    if (typeof body?.query !== "string" || body.query.trim() === "") {
      return answer(
        400,
        invalid("QueryValidationError", "The query is missing from the request body."),
      );
    }
    const now = Date.now();
    const span = parseTimespan(body.timespan, now);
    if (!span) {
      return answer(
        400,
        invalid(
          "InvalidTimespanError",
          `The timespan '${String(body.timespan)}' is not an ISO 8601 interval.`,
        ),
      );
    }
    try {
      const result = runKql(body.query, (table) => resolve(table, span, now));
      return answer(200, { tables: [toWire(result)] });
    } catch (error) {
      if (!(error instanceof KqlError)) throw error;
      return answer(400, queryError(error));
    }
  }

  /** A table of one environment, as its diagnostic settings send it (no `_CL` table here). */
  function resourceTable(
    environment: ManagedEnvironment,
    table: string,
    span: Span,
    now: number,
  ): KqlTable | undefined {
    const category = categoryOf(table);
    if (!category || telemetry.workspacesOf(environment, category).length === 0) return undefined;
    return categoryTable(category, [environment], span, now);
  }

  /**
   * A table of a workspace: the `_CL` tables of the environments whose destination is
   * `log-analytics` with this customer id; the resource-specific ones of the environments whose
   * diagnostic settings send them here.
   */
  function workspaceTable(
    customerId: string,
    table: string,
    span: Span,
    now: number,
  ): KqlTable | undefined {
    if (table === CONSOLE_LOGS_CL || table === SYSTEM_LOGS_CL) {
      const reporting = store.environments().filter((environment) => {
        const destination = appLogsDestination(environment);
        return destination.kind === "log-analytics" && destination.customerId === customerId;
      });
      if (reporting.length === 0) return undefined;
      return table === CONSOLE_LOGS_CL
        ? journalTable(CONSOLE_LOGS_CL, CONSOLE_LOG_CL_COLUMNS, consoleOf, reporting, span, now)
        : journalTable(SYSTEM_LOGS_CL, SYSTEM_LOG_CL_COLUMNS, eventsOf, reporting, span, now);
    }
    const category = categoryOf(table);
    if (!category) return undefined;
    const sending = store
      .environments()
      .filter((environment) =>
        telemetry
          .workspacesOf(environment, category)
          .some((id) => workspaceCustomerId(id) === customerId),
      );
    return sending.length === 0 ? undefined : categoryTable(category, sending, span, now);
  }

  /** A workspace is known when an environment reports to it or a diagnostic setting sends to it. */
  function knowsWorkspace(customerId: string): boolean {
    return store.environments().some((environment) => {
      const destination = appLogsDestination(environment);
      return (
        (destination.kind === "log-analytics" && destination.customerId === customerId) ||
        telemetry
          .diagnosticSettings(environment.id)
          .some((setting) => workspaceCustomerId(setting.workspaceId) === customerId)
      );
    });
  }

  function categoryTable(
    category: string,
    environments: ManagedEnvironment[],
    span: Span,
    now: number,
  ): KqlTable {
    if (category === CONSOLE_LOGS) {
      return journalTable(CONSOLE_LOGS, CONSOLE_LOG_COLUMNS, consoleOf, environments, span, now);
    }
    if (category === SYSTEM_LOGS) {
      return journalTable(SYSTEM_LOGS, SYSTEM_LOG_COLUMNS, eventsOf, environments, span, now);
    }
    // Telemetry keeps back what is not ingested yet by itself.
    const requestsOf = (keep: (record: RequestRecord) => boolean) => telemetry.ingested(now, keep);
    return journalTable(HTTP_LOGS, HTTP_LOG_COLUMNS, requestsOf, environments, span, now);
  }

  /**
   * A table of the entries of `environments` one of the journals holds, within the span and
   * ingested by `now`.
   */
  function journalTable<T extends { environmentId: string; time: number }>(
    name: string,
    columns: Column<T>[],
    read: (keep: (entry: Readonly<T>) => boolean) => T[],
    environments: ManagedEnvironment[],
    span: Span,
    now: number,
  ): KqlTable {
    const byId = new Map(environments.map((e) => [e.id.toLowerCase(), e]));
    const until = Math.min(span.to, now - telemetry.ingestionDelayMs);
    const entries = read(
      (e) => byId.has(e.environmentId.toLowerCase()) && e.time >= span.from && e.time <= until,
    );
    return tableOf(name, columns, entries, (e) => byId.get(e.environmentId.toLowerCase())!);
  }

  return {
    matches: (pathname) => pathname.toLowerCase().startsWith(`${LOG_ANALYTICS_PREFIX}/`),
    handle,
  };
}

/** The diagnostic-setting category of a resource-specific table (the table is named after it). */
function categoryOf(table: string): string | undefined {
  return [HTTP_LOGS, CONSOLE_LOGS, SYSTEM_LOGS].find((category) => category === table);
}

function tableOf<T>(
  name: string,
  columns: Column<T>[],
  entries: T[],
  environmentOf: (entry: T) => ManagedEnvironment,
): KqlTable {
  return {
    name,
    columns: columns.map(({ name: column, type }) => ({ name: column, type })),
    rows: entries.map((entry) => {
      const environment = environmentOf(entry);
      return columns.map((column) => column.of(entry, environment));
    }),
  };
}

/** Datetimes leave as ISO 8601 strings, as the service sends them. */
function toWire(table: KqlTable) {
  const dates = table.columns.map((c) => c.type === "datetime");
  return {
    name: table.name,
    columns: table.columns,
    rows: table.rows.map((row) =>
      row.map((value, i) =>
        dates[i] && typeof value === "number" ? new Date(value).toISOString() : value,
      ),
    ),
  };
}

/** `start/end`, `start/duration` or a duration ending now; undefined when unreadable. */
function parseTimespan(value: unknown, now: number): { from: number; to: number } | undefined {
  if (value === undefined || value === null) return { from: Number.NEGATIVE_INFINITY, to: now };
  if (typeof value !== "string") return undefined;
  const [first, second] = value.split("/");
  const duration = (text: string) => {
    const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text);
    if (!match || text === "P" || text === "PT") return undefined;
    const [, d, h, m, s] = match.map((part) => Number(part ?? 0));
    return ((d * 24 + h) * 60 + m) * 60_000 + s * 1000;
  };
  if (second === undefined) {
    const ms = duration(first);
    return ms === undefined ? undefined : { from: now - ms, to: now };
  }
  const from = Date.parse(first);
  if (!Number.isFinite(from)) return undefined;
  const to = Date.parse(second);
  if (Number.isFinite(to)) return { from, to };
  const ms = duration(second);
  return ms === undefined ? undefined : { from, to: from + ms };
}

function invalid(code: string, message: string) {
  return {
    error: {
      message: "The request had some invalid properties",
      code: "BadArgumentError",
      correlationId: randomUUID(),
      innererror: { code, message },
    },
  };
}

/** The service's nesting: BadArgumentError > SyntaxError / SemanticError > the precise error. */
function queryError(error: KqlError) {
  const inner =
    error.kind === "syntax"
      ? {
          code: "SyntaxError",
          message: "A recognition error occurred in the query.",
          innererror: {
            code: "SYN0002",
            message: error.message,
            ...(error.line !== undefined && {
              line: error.line,
              pos: error.pos,
              token: error.token,
            }),
          },
        }
      : error.kind === "semantic"
        ? {
            code: "SemanticError",
            message: "A semantic error occurred.",
            innererror: { code: "SEM0100", message: error.message },
          }
        : {
            code: "NotSupportedInEmulator",
            message: `${error.message} See emulator/README.md for the KQL the emulator runs.`,
          };
  return {
    error: {
      message: "The request had some invalid properties",
      code: "BadArgumentError",
      correlationId: randomUUID(),
      innererror: inner,
    },
  };
}
