/**
 * What every builder gets and does: build the image described by the request, push it, and return
 * the digest of the pushed manifest. Also the step runner the command-line builders share.
 */
import type { AcrTasksClient } from "../azure/acrTasks.ts";
import type { Clock } from "../core/clock.ts";
import { isNotInstalled } from "./command.ts";
import { commandFailure } from "./failure.ts";
import type { Credentials, Fetch } from "./registry.ts";
import type { AzureAccess, BuildLog, BuildRequest, BuilderName, CommandRunner } from "./types.ts";

export interface BuilderContext {
  request: BuildRequest;
  /** OCI labels for the image. */
  labels: Record<string, string>;
  /** Registry login to use, already resolved (an ACR refresh token for Entra ID logins). */
  credentials?: Credentials;
  /** Masks every secret of this build. */
  log: BuildLog;
  run: CommandRunner;
  clock: Clock;
  fetch: Fetch;
  azure?: AzureAccess;
  /** The ACR Tasks client for an `acr` build; by default one on `azure`. */
  acrTasks?: AcrTasksClient;
  /** A private temporary folder for this build (auth file, digest file), removed afterwards. */
  workDir: string;
  signal?: AbortSignal;
}

export interface Builder {
  readonly name: BuilderName;
  /** Builds and pushes; resolves with the `sha256:...` digest of the pushed manifest. */
  buildAndPush(context: BuilderContext): Promise<string>;
}

/** `registry/repository:tag` */
export function taggedReference(request: BuildRequest): string {
  return `${request.registry}/${request.imageName}:${request.tag}`;
}

/** `--label k=v` and `--build-arg k=v` pairs, in the form docker, podman and buildah share. */
export function labelAndArgFlags(context: BuilderContext): string[] {
  const flags: string[] = [];
  for (const [key, value] of Object.entries(context.labels))
    flags.push("--label", `${key}=${value}`);
  for (const [key, value] of Object.entries(context.request.buildArgs))
    flags.push("--build-arg", `${key}=${value}`);
  return flags;
}

export interface StepOptions {
  /** What the step does, for the error message (e.g. "buildah build"). */
  what: string;
  stdin?: string;
  env?: Record<string, string>;
  onLine?(line: string): void;
}

/**
 * Runs one builder command with its output streamed into the log; a non-zero exit rejects with the
 * failing step and the command's last lines.
 */
export async function runStep(
  context: BuilderContext,
  command: string,
  args: string[],
  options: StepOptions,
): Promise<string> {
  context.log.info(`$ ${command} ${args.join(" ")}`);
  let result;
  try {
    result = await context.run.run(command, args, {
      stdin: options.stdin,
      env: options.env,
      signal: context.signal,
      onLine: (line) => {
        context.log.info(line);
        options.onLine?.(line);
      },
    });
  } catch (error) {
    if (isNotInstalled(error)) {
      throw new Error(
        `${command} is not installed (or not on PATH), so the image cannot be built with it.`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
  if (result.exitCode !== 0) throw commandFailure(options.what, result.exitCode, result.tail);
  return result.stdout;
}
