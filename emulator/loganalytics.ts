/**
 * The Log Analytics query API as the emulator serves it, resource-scoped as
 * `LogsQueryClient.queryResource` calls it: `POST /loganalytics/v1/{resourceId}/query` with
 * `{"query", "timespan"}`, on the ARM server (the cloud metadata names the base as
 * `logAnalyticsResourceId`, which is also the token audience, as on Azure).
 *
 * A managed environment whose diagnostic setting sends `ContainerAppHTTPLogs` to a workspace has
 * that table: one record per request its ingress routed, with the service's column names, visible
 * once the ingestion delay has passed. Queries run in the KQL subset of kql.ts; anything outside it
 * is refused in the service's error envelope (`BadArgumentError` with a nested `innererror`).
 */
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { Identity } from "./identity.ts";
import { KqlError, runKql, type KqlColumn, type KqlTable, type KqlValue } from "./kql.ts";
import { sendJson } from "./http.ts";
import type { ManagedEnvironment, ResourceStore } from "./store.ts";
import type { RequestRecord, Telemetry } from "./telemetry.ts";

export const LOG_ANALYTICS_PREFIX = "/loganalytics";
/** The public cloud's Log Analytics resource: tokens for it are accepted too. */
const PUBLIC_RESOURCE = "https://api.loganalytics.io";

const HTTP_LOG_COLUMNS: KqlColumn[] = [
  { name: "TimeGenerated", type: "datetime" },
  { name: "StartTime", type: "datetime" },
  { name: "ContainerAppName", type: "string" },
  { name: "EnvironmentName", type: "string" },
  { name: "RevisionName", type: "string" },
  { name: "ReplicaName", type: "string" },
  { name: "Method", type: "string" },
  { name: "Path", type: "string" },
  { name: "Authority", type: "string" },
  { name: "StatusCode", type: "int" },
  { name: "RequestDuration", type: "long" },
  { name: "Location", type: "string" },
  { name: "_ResourceId", type: "string" },
  { name: "Type", type: "string" },
];

const environmentQuery =
  /^\/loganalytics\/v1\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.App\/managedEnvironments\/([^/]+)\/query$/i;

export interface LogAnalyticsApi {
  /** Whether a path is the Log Analytics API's (served before the ARM token check). */
  matches(pathname: string): boolean;
  /** Answers one query request; returns the status sent. */
  handle(
    request: { method: string; url: URL; authorization?: string; body: unknown },
    response: ServerResponse,
  ): number;
}

export function createLogAnalyticsApi(options: {
  store: ResourceStore;
  telemetry: Telemetry;
  identity: Identity;
}): LogAnalyticsApi {
  const { store, telemetry, identity } = options;

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
    const match = environmentQuery.exec(request.url.pathname);
    if (!match || request.method !== "POST") {
      return answer(404, {
        error: {
          message: `The emulator serves POST ${LOG_ANALYTICS_PREFIX}/v1/<managed environment resource id>/query only, not ${request.method} ${request.url.pathname}.`,
          code: "PathNotFoundError",
          correlationId: randomUUID(),
        },
      });
    }
    const [, subscription, group, name] = match;
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
      const result = runKql(body.query, (table) =>
        table === "ContainerAppHTTPLogs" && telemetry.sendsHttpLogs(environment)
          ? httpLogs(environment, span, now)
          : undefined,
      );
      return answer(200, { tables: [toWire(result)] });
    } catch (error) {
      if (!(error instanceof KqlError)) throw error;
      return answer(400, queryError(error));
    }
  }

  function httpLogs(
    environment: ManagedEnvironment,
    span: { from: number; to: number },
    now: number,
  ): KqlTable {
    const records = telemetry.ingested(
      now,
      (r) => r.environmentId === environment.id && r.time >= span.from && r.time <= span.to,
    );
    return { name: "ContainerAppHTTPLogs", columns: HTTP_LOG_COLUMNS, rows: records.map(row) };
  }

  function row(record: RequestRecord): KqlValue[] {
    const environment = store.environments().find((e) => e.id === record.environmentId);
    return [
      record.time,
      record.time - record.durationMs,
      record.app,
      record.environment,
      record.revision,
      record.replica ?? "",
      record.method,
      record.path,
      record.host,
      record.status,
      record.durationMs,
      environment?.location ?? "",
      record.environmentId.toLowerCase(),
      "ContainerAppHTTPLogs",
    ];
  }

  return {
    matches: (pathname) => pathname.toLowerCase().startsWith(`${LOG_ANALYTICS_PREFIX}/`),
    handle,
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
