/**
 * What Azure Monitor knows in the emulator: one record per request the ingress routed to a
 * revision (its app, revision, status, duration), visible only once the ingestion delay has
 * passed — so queries see data arrive late, as on Azure — and where environments send their logs:
 * their diagnostic settings (HTTP logs, and with destination `azure-monitor` console and system
 * logs) and their `appLogsConfiguration` (destination `log-analytics`: console and system logs to
 * a workspace's `_CL` tables). The metrics API (monitor.ts) and the Log Analytics query API
 * (loganalytics.ts) read from here; console lines and system events themselves are in logs.ts.
 */
import { createHash } from "node:crypto";
import type { RequestDetail } from "./contracts.ts";
import { HttpError } from "./http.ts";
import type { ContainerApp, ManagedEnvironment, ResourceStore } from "./store.ts";
import type { IngressJournalEntry } from "./types.ts";

export interface RequestRecord {
  /** When the response ended (epoch ms): `TimeGenerated`, and the metric's minute. */
  time: number;
  durationMs: number;
  appId: string;
  app: string;
  environmentId: string;
  environment: string;
  revision: string;
  replica?: string;
  status: number;
  method: string;
  host: string;
  path: string;
}

export interface DiagnosticSetting {
  name: string;
  /** Resource id of the Log Analytics workspace the setting sends to. */
  workspaceId: string;
  /** Log categories it sends, e.g. ContainerAppHTTPLogs. */
  categories: string[];
}

/** The categories of a managed environment's diagnostic settings that the emulator fills. */
export const HTTP_LOGS = "ContainerAppHTTPLogs";
export const CONSOLE_LOGS = "ContainerAppConsoleLogs";
export const SYSTEM_LOGS = "ContainerAppSystemLogs";

/** Where an environment's console and system logs go (`appLogsConfiguration`). */
export type AppLogsDestination =
  { kind: "log-analytics"; customerId: string } | { kind: "azure-monitor" } | { kind: "none" };

/** Two hours of traffic at most: enough for any step's window, bounded for long rehearsals. */
const KEEP_MS = 2 * 3_600_000;
const MAX_RECORDS = 200_000;

export class Telemetry {
  #records: RequestRecord[] = [];
  #ingestionDelayMs: number;
  readonly #settings = new Map<string, DiagnosticSetting[]>();
  readonly #store: ResourceStore;

  constructor(store: ResourceStore, ingestionDelayMs = 0) {
    this.#store = store;
    this.#ingestionDelayMs = checkDelay(ingestionDelayMs);
  }

  get ingestionDelayMs(): number {
    return this.#ingestionDelayMs;
  }

  /** How long after a request ends it shows in metrics and logs. */
  setIngestionDelay(ms: number): void {
    this.#ingestionDelayMs = checkDelay(ms);
  }

  /** Keeps a routed request that reached one of an app's revisions. */
  record(entry: IngressJournalEntry, detail: RequestDetail): void {
    if (!detail.appId || !detail.target) return;
    const app = this.#store.apps().find((a) => a.id === detail.appId);
    if (!app) return;
    const environment = this.#store.environmentOf(app);
    this.#records.push({
      time: entry.time,
      durationMs: Math.max(0, Math.round(detail.durationMs)),
      appId: app.id,
      app: app.name,
      environmentId: environment.id,
      environment: environment.name,
      revision: detail.target,
      ...replicaOf(app, detail.target),
      status: entry.status,
      method: detail.method,
      host: entry.host,
      path: entry.path,
    });
    const oldest = entry.time - KEEP_MS;
    if (this.#records.length > MAX_RECORDS || this.#records[0].time < oldest) {
      const from = this.#records.findIndex((r) => r.time >= oldest);
      this.#records = this.#records.slice(Math.max(from, this.#records.length - MAX_RECORDS));
    }
  }

  /** The records ingested by `now` that `keep` selects. */
  ingested(now: number, keep: (record: RequestRecord) => boolean): RequestRecord[] {
    const until = now - this.#ingestionDelayMs;
    return this.#records.filter((record) => record.time <= until && keep(record));
  }

  diagnosticSettings(resourceId: string): DiagnosticSetting[] {
    return structuredClone(this.#settings.get(resourceId.toLowerCase()) ?? []);
  }

  setDiagnosticSetting(resourceId: string, setting: DiagnosticSetting): void {
    const key = resourceId.toLowerCase();
    const kept = (this.#settings.get(key) ?? []).filter((s) => s.name !== setting.name);
    this.#settings.set(key, [...kept, structuredClone(setting)]);
  }

  /** Whether a diagnostic setting of the environment sends its HTTP logs to a workspace. */
  sendsHttpLogs(environment: ManagedEnvironment): boolean {
    return this.workspacesOf(environment, HTTP_LOGS).length > 0;
  }

  /**
   * The resource ids of the workspaces the environment's diagnostic settings send `category` to.
   * Console and system logs go through a diagnostic setting only when the environment's
   * destination is `azure-monitor`; HTTP logs whatever it is.
   */
  workspacesOf(environment: ManagedEnvironment, category: string): string[] {
    if (category !== HTTP_LOGS && appLogsDestination(environment).kind !== "azure-monitor") {
      return [];
    }
    return this.diagnosticSettings(environment.id)
      .filter((setting) =>
        setting.categories.some((c) => c.toLowerCase() === category.toLowerCase()),
      )
      .map((setting) => setting.workspaceId);
  }
}

/** What the environment's `appLogsConfiguration` says, as ARM holds it. */
export function appLogsDestination(environment: ManagedEnvironment): AppLogsDestination {
  const configuration = environment.properties.appLogsConfiguration as
    { destination?: unknown; logAnalyticsConfiguration?: { customerId?: unknown } } | undefined;
  const destination =
    typeof configuration?.destination === "string" ? configuration.destination.toLowerCase() : "";
  const customerId = configuration?.logAnalyticsConfiguration?.customerId;
  if (destination === "log-analytics" && typeof customerId === "string" && customerId !== "") {
    return { kind: "log-analytics", customerId: customerId.toLowerCase() };
  }
  return destination === "azure-monitor" ? { kind: "azure-monitor" } : { kind: "none" };
}

/**
 * The customer id (workspace id) of the emulator's workspace of this name or resource id: a stable
 * GUID from the name, as the seed gives an environment that reports to it.
 */
export function workspaceCustomerId(workspace: string): string {
  const name = workspace.split("/").at(-1) ?? workspace;
  const hex = createHash("sha256").update(name).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function replicaOf(app: ContainerApp, revisionName: string): { replica?: string } {
  const replica = app.revisions.find((r) => r.name === revisionName)?.replica?.name;
  return replica ? { replica } : {};
}

function checkDelay(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new HttpError(
      400,
      "InvalidIngestionDelay",
      `The ingestion delay must be a number of milliseconds >= 0, not ${ms}.`,
    );
  }
  return ms;
}
