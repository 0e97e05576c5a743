/**
 * Azure Monitor's resource-scoped ARM APIs as the emulator serves them, from the requests its
 * ingress routed (telemetry.ts):
 *
 * - `GET {app}/providers/Microsoft.Insights/metrics`: the `Requests` metric of a container app
 *   (namespace `Microsoft.App/containerApps`, aggregation `Total`), per interval, split by the
 *   dimensions `revisionName`, `statusCodeCategory` and `statusCode` as `$filter` asks;
 * - `GET {environment}/providers/Microsoft.Insights/diagnosticSettings`: the environment's
 *   diagnostic settings, as seeded.
 *
 * Shapes follow the REST spec's examples (`GetMetric.json`, api-version 2024-02-01) and the errors
 * the service answers (`{"code": "BadRequest", "message": ...}` unwrapped, e.g. "Failed to find
 * metric configuration for provider: ..."); what the emulator does not model answers the same way.
 */
import { HttpError, type Reply } from "./http.ts";
import type { ContainerApp, ManagedEnvironment, ResourceStore } from "./store.ts";
import type { RequestRecord, Telemetry } from "./telemetry.ts";

const METRICS_API_VERSIONS = ["2018-01-01", "2019-07-01", "2021-05-01", "2023-10-01", "2024-02-01"];
const DIAGNOSTIC_API_VERSIONS = ["2017-05-01-preview", "2021-05-01-preview"];
const NAMESPACE = "Microsoft.App/containerApps";
const MINUTE_MS = 60_000;

/** The dimensions of `Requests` the emulator can split by, by their lower-case names. */
const DIMENSIONS: Record<string, { name: string; of: (record: RequestRecord) => string }> = {
  revisionname: { name: "revisionName", of: (r) => r.revision },
  statuscodecategory: { name: "statusCodeCategory", of: (r) => `${Math.floor(r.status / 100)}xx` },
  statuscode: { name: "statusCode", of: (r) => String(r.status) },
};

const provider = "/providers/Microsoft\\.Insights/";
const appPath = new RegExp(
  `^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\\.App/containerApps/([^/]+)${provider}metrics$`,
  "i",
);
const environmentPath = new RegExp(
  `^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\\.App/managedEnvironments/([^/]+)${provider}diagnosticSettings$`,
  "i",
);

export interface MonitorApi {
  /** The handler of a Microsoft.Insights path, or undefined when the path is not one. */
  match(method: string, pathname: string): ((url: URL) => Reply) | undefined;
}

export function createMonitorApi(options: {
  store: ResourceStore;
  telemetry: Telemetry;
}): MonitorApi {
  const { store, telemetry } = options;

  return {
    match(method, pathname) {
      if (!new RegExp(provider, "i").test(pathname)) return undefined;
      const app = appPath.exec(pathname);
      if (app && method === "GET") return (url) => metrics(url, find(app, "app") as ContainerApp);
      const environment = environmentPath.exec(pathname);
      if (environment && method === "GET") {
        return (url) =>
          diagnosticSettings(url, find(environment, "environment") as ManagedEnvironment);
      }
      return () => {
        throw new HttpError(
          501,
          "NotImplementedInEmulator",
          `The emulator does not model ${method} ${pathname}: of Microsoft.Insights it serves the metrics of container apps and the diagnostic settings of managed environments. See emulator/README.md.`,
        );
      };
    },
  };

  function find(match: RegExpExecArray, kind: "app" | "environment") {
    const [, subscription, group, name] = match;
    if (!store.hasSubscription(subscription)) {
      throw new HttpError(
        404,
        "SubscriptionNotFound",
        `The subscription '${subscription}' could not be found.`,
      );
    }
    return kind === "app"
      ? store.getApp(subscription, group, name)
      : store.getEnvironment(subscription, group, name);
  }

  function metrics(url: URL, app: ContainerApp): Reply {
    const query = url.searchParams;
    checkVersion(query.get("api-version"), METRICS_API_VERSIONS);
    const namespace = query.get("metricnamespace");
    if (namespace && namespace.toLowerCase() !== NAMESPACE.toLowerCase()) {
      throw badRequest(
        `Failed to find metric configuration for provider: ${namespace.split("/")[0]}, resource Type: ${namespace.split("/")[1] ?? ""}, metric: ${query.get("metricnames") ?? ""}, Valid metrics: Requests`,
      );
    }
    const names = (query.get("metricnames") ?? "Requests").split(",").map((n) => n.trim());
    const unknown = names.filter((n) => n.toLowerCase() !== "requests");
    if (unknown.length > 0) {
      throw badRequest(
        `Failed to find metric configuration for provider: Microsoft.App, resource Type: containerApps, metric: ${unknown.join(",")}, Valid metrics: Requests`,
      );
    }
    const aggregation = query.get("aggregation") ?? "Total";
    if (aggregation.split(",").some((a) => a.trim().toLowerCase() !== "total")) {
      throw badRequest(
        `Aggregation '${aggregation}' is not served by the emulator for metric Requests; it serves Total.`,
      );
    }
    const interval = parseInterval(query.get("interval") ?? "PT1M");
    const now = Date.now();
    const [from, to] = parseTimespan(query.get("timespan"), now);
    const filter = parseFilter(query.get("$filter"));
    const topText = query.get("top");
    const top = topText === null ? 10 : Number(topText);
    if (!Number.isInteger(top) || top < 1) throw badRequest(`Invalid top value '${topText}'.`);

    const start = Math.floor(from / interval) * interval;
    const buckets: number[] = [];
    for (let t = start; t < to; t += interval) buckets.push(t);
    const records = telemetry.ingested(
      now,
      (r) => r.appId === app.id && r.time >= start && r.time < to && matches(filter, r),
    );
    const series = new Map<
      string,
      { values: Record<string, string>; counts: Map<number, number> }
    >();
    for (const record of records) {
      const values: Record<string, string> = {};
      for (const dimension of filter.split) values[dimension] = DIMENSIONS[dimension].of(record);
      const key = JSON.stringify(values);
      const entry = series.get(key) ?? { values, counts: new Map<number, number>() };
      const bucket = Math.floor(record.time / interval) * interval;
      entry.counts.set(bucket, (entry.counts.get(bucket) ?? 0) + 1);
      series.set(key, entry);
    }
    const total = (counts: Map<number, number>) => [...counts.values()].reduce((a, b) => a + b, 0);
    const ordered = [...series.values()].sort((a, b) => total(b.counts) - total(a.counts));
    const timeseries = (
      filter.split.length === 0 && ordered.length === 0
        ? [{ values: {}, counts: new Map<number, number>() }]
        : ordered
    )
      .slice(0, filter.split.length === 0 ? 1 : top)
      .map(({ values, counts }) => ({
        metadatavalues: Object.entries(values).map(([dimension, value]) => ({
          name: { value: dimension, localizedValue: DIMENSIONS[dimension].name },
          value,
        })),
        data: buckets.map((bucket) => ({
          timeStamp: new Date(bucket).toISOString().replace(".000Z", "Z"),
          total: counts.get(bucket) ?? 0,
        })),
      }));
    return {
      status: 200,
      body: {
        cost: buckets.length,
        timespan: `${isoSeconds(from)}/${isoSeconds(to)}`,
        interval: formatInterval(interval),
        value: [
          {
            id: `${app.id}/providers/Microsoft.Insights/metrics/Requests`,
            type: "Microsoft.Insights/metrics",
            name: { value: "Requests", localizedValue: "Requests" },
            displayDescription: "Requests processed",
            unit: "Count",
            timeseries,
            errorCode: "Success",
          },
        ],
        namespace: NAMESPACE.toLowerCase(),
        resourceregion: app.location.toLowerCase().replace(/\s+/g, ""),
      },
    };
  }

  function diagnosticSettings(url: URL, environment: ManagedEnvironment): Reply {
    checkVersion(url.searchParams.get("api-version"), DIAGNOSTIC_API_VERSIONS);
    return {
      status: 200,
      body: {
        value: telemetry.diagnosticSettings(environment.id).map((setting) => ({
          id: `${environment.id}/providers/microsoft.insights/diagnosticSettings/${setting.name}`,
          type: "Microsoft.Insights/diagnosticSettings",
          name: setting.name,
          location: null,
          properties: {
            storageAccountId: null,
            serviceBusRuleId: null,
            workspaceId: setting.workspaceId,
            eventHubAuthorizationRuleId: null,
            eventHubName: null,
            metrics: [],
            logs: setting.categories.map((category) => ({
              category,
              categoryGroup: null,
              enabled: true,
              retentionPolicy: { enabled: false, days: 0 },
            })),
            logAnalyticsDestinationType: "Dedicated",
          },
        })),
      },
    };
  }
}

/** A parsed `$filter`: the values allowed per dimension (none: any), and the dimensions named. */
interface Filter {
  values: Map<string, Set<string>>;
  /** Every dimension the filter names: each time series is one combination of their values. */
  split: string[];
}

/**
 * `A eq 'a1' and B eq 'b1' or B eq 'b2' and C eq '*'`: groups joined by `and`, each group one
 * dimension's values joined by `or`, `'*'` for any value (the REST spec's grammar). The series
 * returned are split by every dimension named.
 */
export function parseFilter(text: string | null): Filter {
  const filter: Filter = { values: new Map(), split: [] };
  if (text === null || text.trim() === "") return filter;
  const clause = /^\s*\(?\s*([A-Za-z]+)\s+eq\s+'((?:[^']|'')*)'\s*\)?\s*/;
  let rest = text;
  let previous: string | undefined;
  let joiner: "and" | "or" | undefined;
  while (rest.trim() !== "") {
    const match = clause.exec(rest);
    if (!match) {
      throw badRequest(
        `Invalid $filter '${text}': expected <dimension> eq '<value>' at '${rest.trim()}'.`,
      );
    }
    const name = match[1].toLowerCase();
    const value = match[2].replace(/''/g, "'");
    if (!DIMENSIONS[name]) {
      throw badRequest(
        `Metric: Requests does not support requested dimension combination: ${name}, supported ones are: ${Object.keys(DIMENSIONS).join(",")}`,
      );
    }
    if (joiner === "or" && name !== previous) {
      throw badRequest(
        `Invalid $filter '${text}': the logical or operator cannot separate two different metadata names.`,
      );
    }
    if (joiner !== "or" && filter.split.includes(name)) {
      throw badRequest(`Invalid $filter '${text}': dimension '${name}' is given twice.`);
    }
    previous = name;
    if (!filter.split.includes(name)) filter.split.push(name);
    if (value !== "*") {
      const set = filter.values.get(name) ?? new Set<string>();
      set.add(value.toLowerCase());
      filter.values.set(name, set);
    }
    rest = rest.slice(match[0].length);
    const next = /^(and|or)\s+/i.exec(rest);
    if (!next) {
      if (rest.trim() !== "") {
        throw badRequest(`Invalid $filter '${text}': unexpected '${rest.trim()}'.`);
      }
      break;
    }
    joiner = next[1].toLowerCase() as "and" | "or";
    rest = rest.slice(next[0].length);
  }
  return filter;
}

function matches(filter: Filter, record: RequestRecord): boolean {
  for (const [name, allowed] of filter.values) {
    if (!allowed.has(DIMENSIONS[name].of(record).toLowerCase())) return false;
  }
  return true;
}

function parseInterval(text: string): number {
  const match = /^PT(\d+)([MH])$/i.exec(text);
  const ms = match ? Number(match[1]) * (match[2].toUpperCase() === "H" ? 60 : 1) * MINUTE_MS : 0;
  if (!match || ms < MINUTE_MS || ms > 24 * 60 * MINUTE_MS) {
    throw badRequest(
      `Invalid interval '${text}'. The emulator serves intervals of whole minutes or hours, such as PT1M, PT5M or PT1H.`,
    );
  }
  return ms;
}

function formatInterval(ms: number): string {
  return ms % (60 * MINUTE_MS) === 0 ? `PT${ms / (60 * MINUTE_MS)}H` : `PT${ms / MINUTE_MS}M`;
}

/** `start/end` in ISO 8601; by default the last hour. */
function parseTimespan(text: string | null, now: number): [number, number] {
  if (text === null) return [now - 60 * MINUTE_MS, now];
  const [start, end] = text.split("/");
  const from = Date.parse(start);
  const to = Date.parse(end ?? "");
  if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) {
    throw badRequest(`Invalid timespan '${text}': expected startDateTime_ISO/endDateTime_ISO.`);
  }
  return [from, to];
}

function checkVersion(version: string | null, supported: string[]): void {
  if (!version) {
    throw new HttpError(
      400,
      "MissingApiVersionParameter",
      "The api-version query parameter (?api-version=) is required for all requests.",
    );
  }
  if (!supported.includes(version)) {
    throw new HttpError(
      400,
      "InvalidApiVersionParameter",
      `The api-version '${version}' is invalid. The supported versions are '${supported.join(",")}'.`,
    );
  }
}

/** The metrics API answers its errors unwrapped: `{"code": "BadRequest", "message": ...}`. */
function badRequest(message: string): HttpError {
  return new HttpError(400, "BadRequest", message, {}, "bare");
}

function isoSeconds(time: number): string {
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, "Z");
}
