/**
 * What a failed candidate says about itself: its state as the revision and replicas APIs report
 * it, the last lines its containers printed, the platform's events about it, and the request of a
 * check that failed. Pure types; the report, the summary and the `diagnostics` output carry them.
 */

/** One container of a replica, as the replicas API reports it. */
export interface ReplicaContainerState {
  name: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  /** `Running`, `Waiting` or `Terminated` (open strings). */
  runningState?: string;
  runningStateDetails?: string;
  /** Where the container's console output streams from. */
  logStreamEndpoint?: string;
}

export interface ReplicaState {
  name: string;
  createdTime?: string;
  /** `Running`, `NotRunning` or `Unknown` (open strings). */
  runningState?: string;
  runningStateDetails?: string;
  containers: ReplicaContainerState[];
}

/** One line a container printed. */
export interface ConsoleLine {
  /** When it was printed, as the stream said (ISO 8601). */
  time?: string;
  stream?: "stdout" | "stderr";
  text: string;
}

/** One event the platform reports about the app (its event stream, `--type system`). */
export interface SystemEvent {
  /** ISO 8601. */
  time?: string;
  /** `Normal` or `Warning`. */
  type?: string;
  reason?: string;
  message: string;
  revision?: string;
  replica?: string;
  count?: number;
}

/** Where one container's console output is read from. */
export interface ConsoleTarget {
  revision: string;
  replica: string;
  container: string;
  logStreamEndpoint?: string;
}

/** The last lines of one container. */
export interface ConsoleTail {
  replica: string;
  container: string;
  lines: ConsoleLine[];
  /** Set when they were read from Log Analytics rather than from the replica's live stream. */
  source?: "log-analytics";
}

/** What was read of the revision's logs in Log Analytics. */
export interface LogAnalyticsRead {
  /** The tables, and the workspace or environment they were queried on; absent when none was. */
  where?: string;
  /** Why none was read: the environment keeps no logs in Log Analytics. */
  why?: string;
  /** Of the revision, as many as the query gave. */
  consoleLines: number;
  systemEvents: number;
  /** `TimeGenerated` of the latest record (ISO 8601): logs arrive there minutes late. */
  latest?: string;
  /** How long it was asked again for lines that had not arrived yet, when it was. */
  waitedMs?: number;
}

/** The revision as it was read once the traffic was restored. */
export interface RevisionSnapshot {
  active: boolean;
  provisioningState: string;
  runningState: string;
  healthState: string;
  provisioningError?: string;
  runningStateDetails?: string;
  replicas?: number;
}

/** The request of a check that failed, as the check sent it and as it was answered. */
export interface FailedRequest {
  check: string;
  method: string;
  url: string;
  status?: number;
  latencyMs?: number;
  failure: string;
  /** `x-ms-*` and request-id headers of the answer. */
  headers?: Record<string, string>;
  /** The first bytes of the answer's body. */
  bodyPrefix?: string;
}

export interface CandidateDiagnostics {
  revision: string;
  /** The code the run stopped with, when it has one. */
  errorCode?: string;
  /** When collecting began (ISO 8601), and how long it took. */
  collectedAt: string;
  durationMs: number;
  state?: RevisionSnapshot;
  replicas?: ReplicaState[];
  console: ConsoleTail[];
  systemEvents: SystemEvent[];
  /** Set when the system events were read from Log Analytics (the event stream had none). */
  systemEventsSource?: "log-analytics";
  /** What Log Analytics held, when the environment sends its logs there. */
  logAnalytics?: LogAnalyticsRead;
  failedRequest?: FailedRequest;
  /** What could not be collected, and why. */
  warnings: string[];
}
