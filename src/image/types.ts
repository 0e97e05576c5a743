/**
 * The vocabulary of building and pushing a container image: what to build, where to push it, the
 * log the build output streams into, and the command runner the local builders go through.
 */
import type { ArmAccess } from "../azure/acrTasks.ts";
import type { BuilderName, BuildInputs } from "../core/types.ts";

export {
  BUILDER_CHOICES,
  type BuilderChoice,
  type BuilderName,
  type RegistryAuth,
} from "../core/types.ts";

/** Where the build output goes; each host (GitHub, Azure Pipelines, the demo) provides one. */
export interface BuildLog {
  info(line: string): void;
  error(line: string): void;
  group<T>(title: string, fn: () => Promise<T>): Promise<T>;
}

export interface BuildRequest extends BuildInputs {
  /** Folder of extra CA certificates (`*.crt`) trusted for the registry (buildah, podman). */
  certDir?: string;
  /** containers-storage location for buildah (by default the system's). */
  storage?: { root: string; runRoot: string };
}

export interface BuildResult {
  /** `registry/repository@sha256:...`: what the revision must run. */
  image: string;
  /** `sha256:...` of the pushed manifest. */
  digest: string;
  tag: string;
  builder: BuilderName;
}

/** Azure access for an ACR login through Entra ID and for ACR remote builds. */
export interface AzureAccess extends ArmAccess {
  tenantId?: string;
}

export interface RunOptions {
  cwd?: string;
  /** Added to the inherited environment. */
  env?: Record<string, string>;
  /** Written to the process's standard input, which is then closed. */
  stdin?: string;
  /** Receives each line of stdout and stderr as it comes. */
  onLine?(line: string): void;
  signal?: AbortSignal;
}

export interface RunResult {
  exitCode: number;
  /** Standard output (the first megabyte). */
  stdout: string;
  /** The last lines of stdout and stderr together, for error messages. */
  tail: string[];
}

/**
 * Runs a program without a shell. Rejects when the program cannot be started (the error's `code`
 * is `ENOENT` when it is not installed); a non-zero exit resolves with its exit code.
 */
export interface CommandRunner {
  run(command: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
}
