/**
 * A remote build in Azure Container Registry (ACR Tasks quick build), as `az acr build` does it:
 * find the registry resource, upload the context, schedule a `DockerBuildRequest`, follow the run
 * and its log, and read the pushed digest from the run's `outputImages`. The ACR Tasks calls
 * themselves are src/azure/acrTasks.ts; this module decides what to build and how to report it.
 */
import { isAbsolute, relative, resolve, sep } from "node:path";
import { readFile } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { ACR_REFRESH_TOKEN_USERNAME, exchangeForAcrRefreshToken } from "../azure/acr.ts";
import {
  connectAcrTasks,
  type AcrTasksClient,
  type DockerBuildRequest,
  type RegistryResource,
  type Run,
} from "../azure/acrTasks.ts";
import type { Builder, BuilderContext } from "./builder.ts";
import { commandFailure, lastLines } from "./failure.ts";
import { resolveManifestDigest } from "./registry.ts";
import { createSourceArchive } from "./sourceArchive.ts";

/** Where a Dockerfile that lives outside the context is put in the uploaded source. */
const OUTSIDE_DOCKERFILE = ".aca-blue-green.Dockerfile";
const TERMINAL = new Set(["succeeded", "failed", "canceled", "error", "timeout"]);
/** ACR's own limit of a run (DockerBuildRequest.timeout default). */
const RUN_TIMEOUT_SECONDS = 3600;
const POLL_MIN_MS = 1000;
const POLL_MAX_MS = 5000;
/** Log lines kept to explain a failed run. */
const LOG_LINES_KEPT = 200;

function quoteLabel(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, " ")}"`;
}

/**
 * The Dockerfile as uploaded: a quick build has no label option, so the labels are added as a
 * final `LABEL` instruction (which applies to the last stage, the one that is pushed).
 */
export function dockerfileWithLabels(dockerfile: string, labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(
    ([key, value]) => `${quoteLabel(key)}=${quoteLabel(value)}`,
  );
  if (pairs.length === 0) return dockerfile;
  return `${dockerfile.replace(/\s*$/, "")}\nLABEL ${pairs.join(" ")}\n`;
}

/** The Dockerfile's path inside the uploaded source, with `/`. */
function dockerfileInSource(context: string, dockerfile: string): string {
  const inside = relative(resolve(context), resolve(dockerfile));
  if (inside.startsWith("..") || isAbsolute(inside)) return OUTSIDE_DOCKERFILE;
  return inside.split(sep).join("/");
}

/** The ACR Tasks client of this build: the one given, or one on the deployment's login. */
function acrTasks(context: BuilderContext): AcrTasksClient {
  if (context.acrTasks) return context.acrTasks;
  if (!context.azure) throw new Error("An ACR build needs the Azure login.");
  return connectAcrTasks(context.azure, { clock: context.clock, fetch: context.fetch });
}

/** The build request: the context as uploaded, the image to push, and the build arguments. */
function dockerBuildRequest(
  context: BuilderContext,
  dockerfilePath: string,
  sourceLocation: string,
): DockerBuildRequest {
  const { request } = context;
  return {
    type: "DockerBuildRequest",
    imageNames: [`${request.imageName}:${request.tag}`],
    isPushEnabled: true,
    noCache: false,
    dockerFilePath: dockerfilePath,
    arguments: Object.entries(request.buildArgs).map(([name, value]) => ({
      name,
      value,
      isSecret: false,
    })),
    platform: { os: "Linux", architecture: "amd64" },
    sourceLocation,
    timeout: RUN_TIMEOUT_SECONDS,
  };
}

/** Streams the run's log into the build log as it grows, keeping the last lines for errors. */
class RunLog {
  readonly lines: string[] = [];
  readonly #context: BuilderContext;
  readonly #tasks: AcrTasksClient;
  readonly #link: string | undefined;
  readonly #decoder = new StringDecoder("utf8");
  #offset = 0;
  #partial = "";

  constructor(context: BuilderContext, tasks: AcrTasksClient, link: string | undefined) {
    this.#context = context;
    this.#tasks = tasks;
    this.#link = link;
  }

  /** Reads what was appended since the last pull; `final` flushes a last line without newline. */
  async pull(final: boolean): Promise<void> {
    if (!this.#link) return;
    const chunk = await this.#tasks.readLog(this.#link, this.#offset, {
      signal: this.#context.signal,
    });
    this.#offset += chunk.length;
    const split = (this.#partial + this.#decoder.write(chunk)).split(/\r?\n/);
    this.#partial = split.pop() ?? "";
    if (final && this.#partial !== "") {
      split.push(this.#partial);
      this.#partial = "";
    }
    for (const line of split) {
      this.lines.push(line);
      if (this.lines.length > LOG_LINES_KEPT) this.lines.shift();
      this.#context.log.info(line);
    }
  }
}

/** Polls the run until it ends, pulling its log as it goes; resolves with the finished run. */
async function followRun(
  context: BuilderContext,
  tasks: AcrTasksClient,
  registry: RegistryResource,
  runId: string,
  log: RunLog,
): Promise<Run> {
  const { clock, signal } = context;
  const deadline = clock.now() + (RUN_TIMEOUT_SECONDS + 600) * 1000;
  let delay = POLL_MIN_MS;
  for (;;) {
    const run = await tasks.getRun(registry, runId, { signal });
    const status = run.status ?? "Unknown";
    const done = TERMINAL.has(status.toLowerCase());
    await log.pull(done);
    if (done) return run;
    if (clock.now() >= deadline) {
      throw new Error(
        `ACR run ${runId} did not finish in ${RUN_TIMEOUT_SECONDS} s (last status ${status}).`,
      );
    }
    await clock.sleep(delay, signal);
    delay = Math.min(delay * 2, POLL_MAX_MS);
  }
}

/** The digest the run pushed, or, when the run does not report it, the registry's answer. */
async function pushedDigest(context: BuilderContext, run: Run): Promise<string> {
  const { request } = context;
  const image = run.outputImages?.find(
    (output) =>
      output.repository === request.imageName &&
      (output.tag === undefined || output.tag === request.tag),
  );
  if (image?.digest) return image.digest;
  // Ask the registry, logged in as the deployment identity.
  const azure = context.azure!;
  const credentials = context.credentials ?? {
    username: ACR_REFRESH_TOKEN_USERNAME,
    password: await exchangeForAcrRefreshToken({
      registry: request.registry,
      tenantId: azure.tenantId,
      armAccessToken: await azure.armToken(),
      fetch: context.fetch,
    }),
  };
  return resolveManifestDigest({
    registry: request.registry,
    repository: request.imageName,
    reference: request.tag,
    credentials,
    fetch: context.fetch,
  });
}

export const acrBuilder: Builder = {
  name: "acr",
  async buildAndPush(context: BuilderContext): Promise<string> {
    const { request, log, signal } = context;
    const tasks = acrTasks(context);
    const registry = await tasks.findRegistry(request.registry, { signal });
    if (!registry) {
      throw new Error(
        `Azure Container Registry ${request.registry} was not found in subscription ${context.azure?.subscriptionId}; ` +
          "an acr build runs in the registry, which must be in the deployment's subscription and readable by its identity.",
      );
    }
    log.info(`Building in Azure Container Registry ${registry.id}`);

    const dockerfilePath = dockerfileInSource(request.context, request.dockerfile);
    const dockerfileText = await readFile(request.dockerfile, "utf8");
    const archive = await createSourceArchive(request.context, {
      overrides: { [dockerfilePath]: dockerfileWithLabels(dockerfileText, context.labels) },
    });
    log.info(`Uploading the build context (${(archive.length / 1024).toFixed(1)} KiB)`);
    const upload = await tasks.uploadSource(registry, new Uint8Array(archive), { signal });

    const scheduled = await tasks.scheduleRun(
      registry,
      dockerBuildRequest(context, dockerfilePath, upload.relativePath),
      { signal },
    );
    const runId = scheduled.runId ?? scheduled.name;
    if (!runId) throw new Error("ACR accepted the build but returned no run id.");
    log.info(`ACR run ${runId} scheduled`);

    const onAbort = () => void tasks.cancelRun(registry, runId).catch(() => undefined);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const runLog = new RunLog(
        context,
        tasks,
        await tasks.getLogLink(registry, runId, { signal }),
      );
      const run = await followRun(context, tasks, registry, runId, runLog);
      const status = run.status ?? "Unknown";
      if (status.toLowerCase() !== "succeeded") {
        const reason = run.runErrorMessage ? [run.runErrorMessage] : [];
        throw commandFailure(`ACR build run ${runId} (${status})`, undefined, [
          ...lastLines(runLog.lines),
          ...reason,
        ]);
      }
      return await pushedDigest(context, run);
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  },
};
