/**
 * Build the image, push it, and return exactly what was pushed (`registry/repository@sha256:...`),
 * so the deployment runs the bytes that were built whatever happens to the tag later.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exchangeForAcrRefreshToken, ACR_REFRESH_TOKEN_USERNAME } from "../azure/acr.ts";
import type { AcrTasksClient } from "../azure/acrTasks.ts";
import { systemClock, type Clock } from "../core/clock.ts";
import { acrBuilder } from "./acrBuild.ts";
import type { Builder, BuilderContext } from "./builder.ts";
import { buildahBuilder, podmanBuilder } from "./buildah.ts";
import { spawnRunner } from "./command.ts";
import { dockerBuilder } from "./docker.ts";
import type { Credentials, Fetch } from "./registry.ts";
import { selectBuilder } from "./select.ts";
import type {
  AzureAccess,
  BuildLog,
  BuildRequest,
  BuildResult,
  BuilderName,
  CommandRunner,
} from "./types.ts";

export interface BuildDeps {
  log: BuildLog;
  run?: CommandRunner;
  clock?: Clock;
  fetch?: Fetch;
  /** Needed for an Entra ID login to an Azure Container Registry and for `acr` builds. */
  azure?: AzureAccess;
  /** The ACR Tasks client for `acr` builds; by default one on `azure`. */
  acrTasks?: AcrTasksClient;
  signal?: AbortSignal;
}

const BUILDERS: Record<BuilderName, Builder> = {
  docker: dockerBuilder,
  podman: podmanBuilder,
  buildah: buildahBuilder,
  acr: acrBuilder,
};

/** The OCI annotations every image gets, so a running revision can be traced to its commit. */
export function ociLabels(request: BuildRequest, created: Date): Record<string, string> {
  const labels: Record<string, string> = {};
  if (request.source) labels["org.opencontainers.image.source"] = request.source;
  if (request.revision) labels["org.opencontainers.image.revision"] = request.revision;
  labels["org.opencontainers.image.created"] = created.toISOString();
  return labels;
}

/** Replaces every occurrence of a secret with `***`. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  return secrets
    .filter((secret) => secret !== "")
    .reduce((masked, secret) => masked.split(secret).join("***"), text);
}

/** A log that masks the given secrets in every line it passes on. */
export function maskingLog(log: BuildLog, secrets: () => readonly string[]): BuildLog {
  const mask = (line: string) => maskSecrets(line, secrets());
  return {
    info: (line) => log.info(mask(line)),
    error: (line) => log.error(mask(line)),
    group: (title, fn) => log.group(mask(title), fn),
  };
}

async function checkSources(request: BuildRequest): Promise<void> {
  const context = await stat(request.context).catch(() => undefined);
  if (!context?.isDirectory()) {
    throw new Error(
      `\`build-context\` ${request.context} is not a folder (working directory: ${process.cwd()}).`,
    );
  }
  const dockerfile = await stat(request.dockerfile).catch(() => undefined);
  if (!dockerfile?.isFile()) {
    throw new Error(
      `dockerfile ${request.dockerfile} does not exist (working directory: ${process.cwd()}).`,
    );
  }
}

async function registryCredentials(
  request: BuildRequest,
  builder: BuilderName,
  deps: BuildDeps,
  fetchImpl: Fetch,
): Promise<Credentials | undefined> {
  const { auth } = request;
  if (auth.kind === "password") return { username: auth.username, password: auth.password };
  // A remote ACR build pushes with the registry's own identity: no login needed.
  if (auth.kind === "none" || builder === "acr") return undefined;
  if (!deps.azure) {
    throw new Error(
      `Logging in to ${request.registry} with Entra ID needs the Azure login; or give \`registry-username\` and \`registry-password\`.`,
    );
  }
  const refreshToken = await exchangeForAcrRefreshToken({
    registry: request.registry,
    tenantId: deps.azure.tenantId,
    armAccessToken: await deps.azure.armToken(),
    fetch: fetchImpl,
  });
  return { username: ACR_REFRESH_TOKEN_USERNAME, password: refreshToken };
}

/** Builds and pushes the image, then returns it by digest. */
export async function buildAndPush(request: BuildRequest, deps: BuildDeps): Promise<BuildResult> {
  const run = deps.run ?? spawnRunner;
  const clock = deps.clock ?? systemClock;
  const fetchImpl = deps.fetch ?? fetch;
  const secrets: string[] = request.auth.kind === "password" ? [request.auth.password] : [];
  const log = maskingLog(deps.log, () => secrets);
  const reference = `${request.registry}/${request.imageName}:${request.tag}`;

  await checkSources(request);
  const selected = await selectBuilder(request.builder, request.registry, run);
  if (selected.name === "acr" && !deps.azure) {
    throw new Error(
      `An acr build of ${reference} runs in Azure Container Registry and needs the Azure login.`,
    );
  }

  return log.group(`Build and push ${reference} with ${selected.name}`, async () => {
    log.info(`Builder: ${selected.name} (${selected.reason})`);
    const started = clock.now();
    const credentials = await registryCredentials(request, selected.name, deps, fetchImpl);
    if (credentials) secrets.push(credentials.password);
    const workDir = await mkdtemp(join(tmpdir(), "aca-image-"));
    try {
      const context: BuilderContext = {
        request,
        labels: ociLabels(request, new Date(clock.now())),
        credentials,
        log,
        run,
        clock,
        fetch: fetchImpl,
        azure: deps.azure,
        acrTasks: deps.acrTasks,
        workDir,
        signal: deps.signal,
      };
      const digest = await BUILDERS[selected.name].buildAndPush(context);
      const image = `${request.registry}/${request.imageName}@${digest}`;
      log.info(`Pushed ${image} in ${((clock.now() - started) / 1000).toFixed(1)} s`);
      return { image, digest, tag: request.tag, builder: selected.name };
    } catch (error) {
      if (error instanceof Error) error.message = maskSecrets(error.message, secrets);
      throw error;
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  });
}
