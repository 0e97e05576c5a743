/**
 * Public surface of the Azure Container Apps emulator: what tests, the demo and users rehearsing a
 * pipeline rely on. The HTTP control API mirrors the programmatic one route for route.
 */

/** Everything a client needs to talk to the emulator; `npm run emulator -- --json` prints it. */
export interface EmulatorInfo {
  /** ARM base URL, e.g. https://127.0.0.1:PORT (pass as the SDK's `endpoint`). */
  arm: string;
  /** Entra ID authority host, e.g. https://127.0.0.1:PORT (with `disableInstanceDiscovery`). */
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  subscriptionId: string;
  /** Azure region the emulator pretends to be in. */
  location: string;
  /** PEM file of the emulator's CA; trust it with NODE_EXTRA_CA_CERTS. */
  caFile: string;
  /** HTTP proxy (CONNECT) that reaches app hostnames; use as HTTPS_PROXY. */
  proxy: string;
  /** Control API base URL (plain HTTP on 127.0.0.1). */
  control: string;
  /** Base URL of the log stream server behind `logStreamEndpoint` and `eventStreamEndpoint`. */
  logStream: string;
  /** Value for ACTIONS_ID_TOKEN_REQUEST_URL. */
  githubOidcUrl: string;
  /** Value for ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  githubOidcToken: string;
  /** Value for SYSTEM_OIDCREQUESTURI. */
  adoOidcUrl: string;
  /** System access token (SYSTEM_ACCESSTOKEN) that adoOidcUrl accepts. */
  adoAccessToken: string;
  /** Service connection id the ADO OIDC endpoint accepts (any id is accepted; this one is suggested). */
  adoServiceConnectionId: string;
  /** The timing the emulator runs with, so clients can scale their own waits with it. */
  timing: { profile: "fast" | "azure"; timeScale: number };
}

export interface EmulatorOptions {
  /**
   * "fast" (default): short fixed delays. "azure": the durations recorded on the real service,
   * sampled from `seed` (see README.md, "Timing").
   */
  timing?: "fast" | "azure";
  /** Multiplies every duration of the timing profile, e.g. 0.05 for 1/20 of real time. Default 1. */
  timeScale?: number;
  /** Seed of the azure profile's sampled durations: the same seed gives the same run. Default "1". */
  seed?: string | number;
  /** Fast profile: how long an app or environment operation stays InProgress. Default 300 ms. */
  operationDelayMs?: number;
  /**
   * Fast profile: how long a revision whose process listens stays Activating (not ready) before
   * it is Running. Default 300 ms.
   */
  provisioningDelayMs?: number;
  /**
   * Fast profile: how long each replica beyond the first (`scale.minReplicas` above one) takes to
   * be ready after the one before it. Default `provisioningDelayMs`.
   */
  replicaStartDelayMs?: number;
  /**
   * Single mode: how long the previous revision stays active (Deprovisioning) once the new one is
   * ready, before it becomes inactive. Default 300 ms (fast), 60 s (azure, scaled). Not scaled.
   */
  retireDelayMs?: number;
  /**
   * How long the write of an `operation-expired` revision runs before it fails with "Operation
   * expired.". Default 2 s (fast), 15 min (azure, scaled). Not scaled.
   */
  operationExpiryMs?: number;
  /** Retry-After (seconds) on a 429 whose fault gives none. Default 1. No LRO response has one. */
  retryAfterSeconds?: number;
  /**
   * How long after a request ends it shows in Azure Monitor's metrics and logs (on Azure:
   * minutes). Default 0. Not scaled.
   */
  ingestionDelayMs?: number;
  /** Folder for the CA and other files. Default: a new temporary folder, removed on stop. */
  dataDir?: string;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  subscriptionId?: string;
  location?: string;
}

export type TrafficEntry = {
  revisionName?: string;
  latestRevision?: boolean;
  weight: number;
  label?: string;
};

export interface SeedRevision {
  /** Suffix of the revision name (`<app>--<suffix>`). */
  suffix: string;
  image: string;
  /** Default true. */
  active?: boolean;
  /** Variables of its container, as the template holds them. */
  env?: { name: string; value?: string; secretRef?: string }[];
  /** CPU and memory of its container. Default 0.5 / `1Gi`, as the service's. */
  resources?: { cpu: number; memory: string };
  /** `scale.minReplicas`: replicas it runs (all ready, as a seed's). */
  minReplicas?: number;
}

export interface SeedSpec {
  subscriptionId?: string;
  resourceGroup: string;
  /** Managed environment name; created when missing. */
  environment: string;
  app: string;
  /** Revisions to create, oldest first; the last is the latest revision. */
  revisions: SeedRevision[];
  /** Default "Multiple". */
  activeRevisionsMode?: "Single" | "Multiple" | "Labels";
  /** Default: 100 to the latest revision (`latestRevision: true`). */
  traffic?: TrafficEntry[];
  /** Default true. */
  external?: boolean;
  /** Default 8080. */
  targetPort?: number;
  /** Default: the app name. */
  containerName?: string;
  tags?: Record<string, string>;
  maxInactiveRevisions?: number;
  /** The app's secrets: a value, or a Key Vault reference (`keyVaultUrl` and `identity`). */
  secrets?: { name: string; value?: string; keyVaultUrl?: string; identity?: string }[];
  /** The environment's workload profiles, when the seed creates it (none: Consumption only). */
  workloadProfiles?: { name: string; workloadProfileType: string }[];
  /** The profile the app runs on. Default: Consumption. */
  workloadProfileName?: string;
  /**
   * When the environment is created: the Log Analytics workspace its logs go to. Whether a
   * diagnostic setting `http-logs` sends its `ContainerAppHTTPLogs` there (default true), and
   * where its console and system logs go (`destination`, default "log-analytics"):
   * - "log-analytics": `appLogsConfiguration: { destination: "log-analytics",
   *   logAnalyticsConfiguration: { customerId } }` (a stable GUID from the name); the workspace's
   *   tables `ContainerAppConsoleLogs_CL` and `ContainerAppSystemLogs_CL`;
   * - "azure-monitor": `appLogsConfiguration: { destination: "azure-monitor" }` and a diagnostic
   *   setting `app-logs` sending `ContainerAppConsoleLogs` and `ContainerAppSystemLogs` there.
   * Default: no workspace (no appLogsConfiguration, no diagnostic setting).
   */
  workspace?: { name: string; httpLogs?: boolean; destination?: "log-analytics" | "azure-monitor" };
}

export interface RevisionView {
  name: string;
  image: string;
  active: boolean;
  provisioningState: string;
  runningState: string;
  healthState: string;
  provisioningError?: string;
  runningStateDetails?: string;
  replicas: number;
  /** Each replica, the first one first: starting, ready or crashing, and when it became ready. */
  replicaStates: { name: string; state: string; readyTime?: string }[];
  trafficWeight: number;
  createdTime: string;
  /** Only inactive revisions carry it. */
  lastActiveTime?: string;
}

/** The app as the emulator holds it, for assertions. */
export interface AppView {
  id: string;
  name: string;
  resourceGroup: string;
  activeRevisionsMode: string;
  provisioningState: string;
  latestRevisionName: string;
  latestReadyRevisionName?: string;
  fqdn: string;
  traffic: TrafficEntry[];
  revisions: RevisionView[];
  tags: Record<string, string>;
}

export interface ArmJournalEntry {
  /** Milliseconds since the epoch when the response was sent. */
  time: number;
  method: string;
  /** Path without the query string. */
  path: string;
  apiVersion?: string;
  body?: unknown;
  status: number;
  /** Set when an injected fault produced the answer. */
  fault?: string;
}

export interface IngressJournalEntry {
  time: number;
  host: string;
  path: string;
  /** How the host was routed. */
  route: "app" | "label" | "revision";
  /** Revision that served the request, or null when none could. */
  revision: string | null;
  status: number;
}

/** One request the log stream server answered. */
export interface LogStreamJournalEntry {
  /** Milliseconds since the epoch when the request arrived. */
  time: number;
  /** A replica container's console stream, an app's event stream, or neither. */
  kind: "console" | "system" | "unknown";
  path: string;
  /** The query string, `?` included (`follow`, `output`, `tailLines`). */
  query: string;
  /** 0 when a fault left it unanswered. */
  status: number;
  fault?: string;
}

/**
 * The next `count` (default 1) requests for `app`'s log streams (`stream`: only console or only
 * system ones) answer with this fault: `hang` sends the headers and then nothing, the stream staying
 * open until the client gives up; `status` answers 500 or 503.
 */
export type LogStreamFault = {
  app: string;
  stream?: "console" | "system";
  count?: number;
} & ({ kind: "hang" } | { kind: "status"; status: 500 | 503 });

/** One line a revision's container printed, as the emulator journals it. */
export interface ConsoleLogView {
  /** Milliseconds since the epoch. */
  time: number;
  app: string;
  revision: string;
  replica: string;
  container: string;
  stream: "stdout" | "stderr";
  text: string;
}

/** One system event of an app, as the emulator journals it. */
export interface SystemEventView {
  time: number;
  app: string;
  revision?: string;
  replica?: string;
  type: "Normal" | "Warning";
  reason: string;
  message: string;
  count: number;
}

/** The next `count` ARM calls matching `match` answer with this fault instead of normally. */
export type ArmFault = {
  count: number;
  match?: { method?: string; pathContains?: string };
} & (
  | { kind: "status"; status: 429 | 500 | 503; retryAfterSeconds?: number }
  | { kind: "reset" }
  /** Never answered; with `forMs`, the connection is dropped after that long (an idle timeout). */
  | { kind: "hang"; forMs?: number }
  /** 409 `ContainerAppLockConflict`, as when another modification of the app is in progress. */
  | { kind: "lock-conflict" }
  /**
   * Only a PATCH of a container app: the write is accepted (202) and changes nothing; its
   * operation runs as long as a configuration write and ends `Failed` with `error`.
   */
  | { kind: "operation-failed"; error?: { code: string; message: string } }
);

/** An ARM request as it arrives, before it is answered (see `Emulator.onArmRequest`). */
export interface ArmRequestInfo {
  method: string;
  /** Path without the query string. */
  path: string;
  /** The JSON body of a write, when it has one. */
  body?: unknown;
}

/**
 * Applies to the next revision created for `app` (and matching `image` when given):
 * - `fail-provisioning`: its image cannot be pulled; the revision and its write fail;
 * - `never-ready`: its process runs but never gets ready (Activating); the write succeeds;
 * - `operation-expired`: as never-ready, and its write fails after `operationExpiryMs` with
 *   ContainerAppOperationError "… Error details: Operation expired.".
 */
export interface RevisionFault {
  app: string;
  image?: string;
  mode: "fail-provisioning" | "never-ready" | "operation-expired";
}

export interface Emulator {
  readonly info: EmulatorInfo;
  seed(spec: SeedSpec): Promise<AppView>;
  getApp(resourceGroup: string, app: string): AppView;
  /** Change traffic as someone else would (validated like an ARM write, applied at once). */
  setTraffic(resourceGroup: string, app: string, traffic: TrafficEntry[]): Promise<AppView>;
  /** A running revision starts behaving as the given image behaviour (e.g. "http500"). */
  setRevisionBehaviour(
    resourceGroup: string,
    app: string,
    revision: string,
    behaviour: string,
  ): Promise<void>;
  injectArmFault(fault: ArmFault): void;
  /**
   * Calls `listener` with each ARM request before it is answered (and before injected faults are
   * taken, so a listener may inject one for this very request); the answer waits for a listener
   * that returns a promise. Returns the function that removes the listener. Programmatic only: a
   * callback has no control API route.
   */
  onArmRequest(listener: (request: ArmRequestInfo) => void | Promise<void>): () => void;
  injectRevisionFault(fault: RevisionFault): void;
  injectLogStreamFault(fault: LogStreamFault): void;
  clearFaults(): void;
  /** How long after a request ends it shows in Azure Monitor's metrics and logs. */
  setIngestionDelay(ms: number): void;
  armJournal(): ArmJournalEntry[];
  ingressJournal(): IngressJournalEntry[];
  /** Every request the log stream server answered. */
  logStreamJournal(): LogStreamJournalEntry[];
  /** Every line the revision processes printed, oldest first. */
  consoleLogs(): ConsoleLogView[];
  /** Every system event of every app, oldest first. */
  systemEvents(): SystemEventView[];
  clearJournal(): void;
  stop(): Promise<void>;
}
