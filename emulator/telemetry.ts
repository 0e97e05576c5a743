/**
 * What Azure Monitor knows in the emulator: one record per request the ingress routed to a
 * revision (its app, revision, status, duration), visible only once the ingestion delay has
 * passed — so queries see data arrive late, as on Azure — and the diagnostic settings of
 * environments, which decide whether their HTTP logs reach a workspace. The metrics API
 * (monitor.ts) and the Log Analytics query API (loganalytics.ts) read from here.
 */
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
    return this.diagnosticSettings(environment.id).some((setting) =>
      setting.categories.some((c) => c.toLowerCase() === "containerapphttplogs"),
    );
  }
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
