/**
 * The edges the engine talks through. Core defines them; the Azure layer and the hosts implement
 * them, so the engine stays platform-neutral and testable with plain values.
 */
import type { Clock } from "./clock.ts";
import type { Json, RevisionTemplate, SecretEntry } from "./revision/model.ts";
import type { HttpProbe } from "./checks/run.ts";
import type {
  ConsoleLine,
  ConsoleTarget,
  ConsoleTail,
  ReplicaState,
  SystemEvent,
} from "./diagnostics/types.ts";
import type { TimingProfile } from "./timing.ts";
import type { TrafficWeight } from "./types.ts";

/** A traffic entry as the service reports it (it may still say `latestRevision`). */
export interface ReportedTraffic {
  revisionName?: string;
  latestRevision?: boolean;
  weight: number;
  label?: string;
}

export interface ContainerSummary {
  name: string;
  image: string;
}

export interface AppState {
  name: string;
  resourceGroup: string;
  provisioningState: string;
  /** "Single", "Multiple" or "Labels". */
  activeRevisionsMode: string;
  latestRevisionName?: string;
  /** The latest revision that became ready: where `latestRevision: true` traffic goes. */
  latestReadyRevisionName?: string;
  environmentId?: string;
  /** Undefined when the app has no ingress. */
  ingress?: { fqdn?: string; external: boolean; traffic: ReportedTraffic[] };
  containers: ContainerSummary[];
  /** The template the app's next revision starts from (the latest one's). */
  template: RevisionTemplate;
  /** `configuration` as read: secrets by name (a read carries no values), registries, ingress… */
  configuration: Json;
  /** Undefined: the Consumption profile of an environment without workload profiles. */
  workloadProfileName?: string;
  tags: Record<string, string>;
}

/** One replica of a revision, as the replicas API lists it. */
/** Whether one replica serves, as readiness needs it (diagnostics read the full ReplicaState). */
export interface ReplicaReadiness {
  name: string;
  runningState: string;
  /** Running, with every container started and ready. */
  ready: boolean;
}

export interface RevisionState {
  name: string;
  active: boolean;
  provisioningState: string;
  runningState: string;
  healthState: string;
  trafficWeight: number;
  /** Image of each container, in template order. */
  containers: ContainerSummary[];
  provisioningError?: string;
  /** The service's words for the running state, e.g. "1/1 Container crashing: web". */
  runningStateDetails?: string;
  replicas?: number;
  createdTime?: string;
  /** What the revision runs (its containers, their variables and the secrets they refer to). */
  template?: Json;
}

/** Options of any call to Azure, read or write. */
export interface CallOptions {
  /** Keep retrying transient failures for this long (restores use a long budget). */
  retryForMs?: number;
  signal?: AbortSignal;
}

/** A traffic write, and what rides on it when given. */
export interface TrafficWriteOptions extends CallOptions {
  tags?: Record<string, string>;
  /** Configuration fields written back in the same PATCH (a restore's application scope). */
  configuration?: Json;
  /** The complete secrets array, with values, in the same PATCH. */
  secrets?: SecretEntry[];
}

/** One entry of the app's `configuration.registries`. */
export interface RegistryEntry {
  server: string;
  identity?: string;
  username?: string;
  passwordSecretRef?: string;
}

export interface PullAccessCheck {
  /** Whether the app already has a usable identity or credentials for the registry. */
  configured: boolean;
  /** How the app pulls from the registry, or what is missing and what to do. */
  message: string;
  /** The complete registries array that adds managed-identity pull, when it was asked for and can be set up. */
  registries?: RegistryEntry[];
}

export interface CreateRevisionRequest {
  revisionSuffix: string;
  /** The new revision's complete template (a PATCH replaces `containers` as a whole). */
  template: RevisionTemplate;
  traffic: TrafficWeight[];
  /** Switch the app to Multiple revision mode in the same write. */
  multipleRevisions: boolean;
  /** Replace `configuration.registries` in the same write (to add managed-identity pull). */
  registries?: RegistryEntry[];
  /** Replace `configuration.secrets` (the complete array, with values) in the same write. */
  secrets?: SecretEntry[];
  /** Other configuration fields set in the same write (a template file's, when allowed). */
  configuration?: Json;
  /** The app's tags, written in the same PATCH (the run's lease rides on it). */
  tags?: Record<string, string>;
}

/** Azure Container Apps, as the engine needs it, for one app. */
export interface ContainerAppsPort {
  getApp(options?: CallOptions): Promise<AppState>;
  /** The default domain of the app's managed environment. */
  getDefaultDomain(environmentId: string): Promise<string>;
  /** The workload profiles of the app's managed environment (none: Consumption only). */
  getWorkloadProfiles(
    environmentId: string,
  ): Promise<{ name: string; workloadProfileType: string }[]>;
  /** The app's secrets with their values (the service's `listSecrets`); every value is masked. */
  listSecrets(options?: CallOptions): Promise<SecretEntry[]>;
  /** The replicas of one revision. */
  listReplicas(revision: string, options?: CallOptions): Promise<ReplicaReadiness[]>;
  listRevisions(): Promise<RevisionState[]>;
  getRevision(name: string, options?: CallOptions): Promise<RevisionState>;
  /** One PATCH: the new revision's template and suffix, plus the complete traffic array. */
  createRevision(request: CreateRevisionRequest, options?: CallOptions): Promise<AppState>;
  /** One PATCH replacing the whole traffic array, and the tags when given. */
  updateTraffic(traffic: TrafficWeight[], options?: TrafficWriteOptions): Promise<AppState>;
  updateTags(tags: Record<string, string>, options?: CallOptions): Promise<AppState>;
  /** Whether the app, as last read, can pull from `registry`; with `identity`, how it could. */
  describePullAccess(registry: string, identity?: string): PullAccessCheck;
  activateRevision(name: string, options?: CallOptions): Promise<void>;
  deactivateRevision(name: string, options?: CallOptions): Promise<void>;
}

/** How much of a stream to read, and until when. */
export interface StreamReadOptions {
  /** The last this many lines. */
  lines: number;
  /** Aborts the read (its deadline passed, or the run was cancelled). */
  signal: AbortSignal;
}

/**
 * What Azure Container Apps tells about a revision beyond its state, for one app: its replicas
 * (the replicas API), what their containers printed (the replica log stream) and the platform's
 * events (the app's event stream).
 */
export interface DiagnosticsPort {
  listReplicas(revision: string, options?: CallOptions): Promise<ReplicaState[]>;
  /** The container's last lines, oldest first. */
  readConsole(target: ConsoleTarget, options: StreamReadOptions): Promise<ConsoleLine[]>;
  /** The app's last system events, oldest first (of every revision: the caller picks). */
  readSystemEvents(options: StreamReadOptions): Promise<SystemEvent[]>;
  /**
   * What Log Analytics holds of one revision's console lines and system events, when the app's
   * environment sends its logs there: the last `lines` of each, oldest first.
   */
  readLogAnalytics(
    request: LogAnalyticsRequest,
    options: { signal: AbortSignal },
  ): Promise<LoggedLines>;
}

export interface LogAnalyticsRequest {
  revision: string;
  /** The app's managed environment, when known (else the app is read for it). */
  environmentId?: string;
  /** The time range to read (epoch ms): from the revision's creation to now. */
  from: number;
  to: number;
  lines: number;
}

/** A revision's logs as Log Analytics held them, or why the environment keeps none there. */
export type LoggedLines =
  | { kept: false; why: string }
  | {
      kept: true;
      /** The tables, and the workspace or environment they were queried on. */
      where: string;
      /** Per replica and container, oldest line first. */
      console: ConsoleTail[];
      /** Of the revision, and of the app where they name no revision; oldest first. */
      systemEvents: SystemEvent[];
      /** `TimeGenerated` of the latest record read (epoch ms): logs arrive there minutes late. */
      latest?: number;
    };

export interface Log {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  /** Runs `fn` inside a collapsible log group. */
  group<T>(title: string, fn: () => Promise<T>): Promise<T>;
}

/** Who runs this deployment, for leases and messages. */
export interface RunContext {
  /** Unique per run attempt (and per job of the run), e.g. `github:1234567/1/deploy/3f9a1c`. */
  runId: string;
  /**
   * The job this run is an attempt of: a lease held by an earlier attempt of the same job is dead,
   * since a re-run starts only after its run ended.
   */
  lineage?: { key: string; attempt: number };
  /** Human description, e.g. `workflow "Deploy" run 1234567 attempt 1 in owner/repo`. */
  holder: string;
  runUrl?: string;
  commitSha?: string;
  /** Web URL of the source repository, for the image's source label. */
  repositoryUrl?: string;
}

/** Durable per-job state, read back by the post step when the main step was killed. */
export interface StateStore {
  save(key: string, value: string): void;
  load(key: string): string | undefined;
}

/** Builds and pushes the release's image when the deploy starts from source. */
export interface ImageSource {
  /** What will be built, for the log (e.g. `./app with buildah -> myacr.azurecr.io/shop:sha-1a2b3c4`). */
  describe(): string;
  /** Builds and pushes; resolves with the pushed image by digest (`repo@sha256:...`). */
  build(signal?: AbortSignal): Promise<{ image: string; digest: string }>;
}

/** Requests one revision served in one minute, from Azure Monitor's `Requests` metric. */
export interface RevisionMinute {
  revision: string;
  /** Start of the minute (epoch ms). */
  minute: number;
  requests: number;
  /** Of which answered 5xx. */
  serverErrors: number;
}

/** One revision's records in `ContainerAppHTTPLogs` over a window. */
export interface HttpLogSummary {
  revision: string;
  requests: number;
  /** Percentiles of `RequestDuration` (ms). */
  p50?: number;
  p95?: number;
  p99?: number;
  /** `TimeGenerated` of its latest record (epoch ms). */
  latest?: number;
}

/** Where an environment sends `ContainerAppHTTPLogs`, or why they cannot be read. */
export interface HttpLogsDestination {
  /** Resource id of the Log Analytics workspace of its diagnostic setting. */
  workspaceId?: string;
  /** `appLogsConfiguration.logAnalyticsConfiguration.customerId` of the environment. */
  customerId?: string;
  /** Set when no diagnostic setting sends the HTTP logs anywhere they can be queried. */
  problem?: string;
}

/** What Azure Monitor knows of how the app served, for the production gates. */
export interface TrafficMonitor {
  /** The app's `Requests` per minute of `revisions`, split by status code category. */
  requestsByMinute(
    range: { from: number; to: number },
    revisions: readonly string[],
    options?: CallOptions,
  ): Promise<RevisionMinute[]>;
  /** Whether and where the environment's HTTP logs go. */
  httpLogsDestination(environmentId: string, options?: CallOptions): Promise<HttpLogsDestination>;
  /** `ContainerAppHTTPLogs` of the environment for `revisions`, queried on the environment itself. */
  httpLogs(
    environmentId: string,
    range: { from: number; to: number },
    revisions: readonly string[],
    options?: CallOptions,
  ): Promise<HttpLogSummary[]>;
  /** A random sample of at most `size` request durations (ms) of `revision` that did not fail. */
  httpLogDurations(
    environmentId: string,
    range: { from: number; to: number },
    revision: string,
    size: number,
    options?: CallOptions,
  ): Promise<number[]>;
}

export interface EngineDeps {
  apps: ContainerAppsPort;
  probe: HttpProbe;
  clock: Clock;
  log: Log;
  state: StateStore;
  run: RunContext;
  /** Aborts when the job is cancelled; the engine then restores the snapshot and stops. */
  signal?: AbortSignal;
  /** Set when the deploy builds its image: the build runs after the snapshot, before any write. */
  image?: ImageSource;
  /** How often to poll Azure while waiting (the default, or scaled for a time-scaled emulator). */
  timing?: TimingProfile;
  /**
   * Set when a later step of the job (the post step) finishes an interrupted restore: a cancelled
   * run then restores for at most `afterMs` and hands the rest over, since a CI agent kills the
   * process seconds after its first signal and a write on Azure takes 12–50 s.
   */
  handover?: { afterMs: number };
  /** Replicas and logs of a failed candidate; without it, diagnostics are the revision's state. */
  diagnostics?: DiagnosticsPort;
  /** Values the host masks in its logs, to be masked in text it does not mask (diagnostics). */
  secrets?: () => readonly string[];
  /** Azure Monitor, for the production gates. */
  monitor?: TrafficMonitor;
}
