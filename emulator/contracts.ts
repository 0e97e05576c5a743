/**
 * Internal seams of the emulator between its control plane (state, ARM, identity, control API)
 * and its data plane (CA, revision processes, ingress, proxy).
 */
import type { IngressJournalEntry } from "./types.ts";

export interface IssuedCertificate {
  cert: string;
  key: string;
}

export interface CertificateAuthority {
  /** PEM of the CA certificate. */
  readonly caPem: string;
  /** Path of the CA certificate PEM on disk. */
  readonly caFile: string;
  /** A leaf certificate for the given DNS names (wildcards allowed) and IP addresses. */
  issue(names: string[]): Promise<IssuedCertificate>;
}

export interface RevisionProcess {
  /** Loopback port the revision's HTTP server listens on. */
  readonly port: number;
  /** Whether the process has exited. */
  readonly exited: boolean;
  /** Switch the running process to another behaviour (e.g. "http500"). */
  setBehaviour(behaviour: string): Promise<void>;
  /** Called once when the process exits (crash or stop), with its exit code. */
  onExit(listener: (code: number | null) => void): void;
  stop(): Promise<void>;
}

export interface StartRevisionOptions {
  app: string;
  revision: string;
  image: string;
  /** The container's variables, secret references resolved: the process's whole environment. */
  env?: Record<string, string>;
  /** Receives every line the process prints, as it prints it. */
  output?(stream: "stdout" | "stderr", line: string): void;
}

/** A process that exited before it listened: a container that crashes at start. */
export class RevisionExitError extends Error {
  readonly exitCode: number | null;

  constructor(message: string, exitCode: number | null) {
    super(message);
    this.name = "RevisionExitError";
    this.exitCode = exitCode;
  }
}

/** One revision an ingress route may send a request to. */
export interface RouteTarget {
  revision: string;
  weight: number;
  /** Port of the running process; undefined when the revision is inactive or not running. */
  port?: number;
}

export type Route =
  | {
      kind: "app" | "label" | "revision";
      targets: RouteTarget[];
      /** Resource id of the app the host belongs to. */
      appId?: string;
    }
  | { kind: "unknown" };

/** What the journal entry of a routed request does not say, for Azure Monitor's stand-ins. */
export interface RequestDetail {
  method: string;
  /** From the request's arrival to the response's end. */
  durationMs: number;
  appId?: string;
  /** The revision the request was routed to, whether or not it answered. */
  target?: string;
}

export interface RoutingTable {
  /** Resolve a request's host name (no port) to where it may go. */
  resolve(host: string): Route;
  /** Whether a host name belongs to an environment's default domain (handled by the ingress). */
  isIngressHost(host: string): boolean;
}

export interface IngressOptions {
  ca: CertificateAuthority;
  routing: RoutingTable;
  record(entry: IngressJournalEntry, detail: RequestDetail): void;
}

export interface RunningServer {
  readonly port: number;
  stop(): Promise<void>;
}
