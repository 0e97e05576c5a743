/**
 * A remote build in Azure Container Registry (ACR Tasks quick build), the REST way `az acr build`
 * does it: find the registry resource, upload the context (`listBuildSourceUploadUrl`, then a PUT
 * to the blob), `scheduleRun` a `DockerBuildRequest`, follow the run and its log, and read the
 * pushed digest from the run's `outputImages`.
 */
import { isAbsolute, relative, resolve, sep } from "node:path";
import { readFile } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { ACR_REFRESH_TOKEN_USERNAME, exchangeForAcrRefreshToken } from "../azure/acr.ts";
import type { Builder, BuilderContext } from "./builder.ts";
import { commandFailure, lastLines } from "./failure.ts";
import { resolveManifestDigest } from "./registry.ts";
import { createSourceArchive } from "./sourceArchive.ts";

export const REGISTRIES_API_VERSION = "2023-07-01";
export const RUNS_API_VERSION = "2019-06-01-preview";

/** Where a Dockerfile that lives outside the context is put in the uploaded source. */
const OUTSIDE_DOCKERFILE = ".aca-blue-green.Dockerfile";
const TERMINAL = new Set(["succeeded", "failed", "canceled", "error", "timeout"]);
/** ACR's own limit of a run (DockerBuildRequest.timeout default). */
const RUN_TIMEOUT_SECONDS = 3600;
const ARM_ATTEMPTS = 4;
const POLL_MIN_MS = 1000;
const POLL_MAX_MS = 5000;
/** Log lines kept to explain a failed run. */
const LOG_LINES_KEPT = 200;

interface Run {
  id?: string;
  name?: string;
  properties?: {
    runId?: string;
    status?: string;
    runErrorMessage?: string;
    outputImages?: { registry?: string; repository?: string; tag?: string; digest?: string }[];
  };
}

class ArmError extends Error {
  readonly status: number;
  readonly code?: string;

  constructor(message: string, status: number, code?: string) {
    super(message);
    this.name = "ArmError";
    this.status = status;
    this.code = code;
  }
}

function retryAfterMs(response: Response, attempt: number): number {
  const header = Number(response.headers.get("retry-after"));
  return Number.isFinite(header) && header > 0 ? header * 1000 : 1000 * 2 ** attempt;
}

/** One ARM call with the usual retries (429 and 5xx, honouring Retry-After). */
async function arm(
  context: BuilderContext,
  method: string,
  url: string,
  body?: unknown,
): Promise<Response> {
  const azure = context.azure;
  if (!azure) throw new Error("An ACR build needs the Azure login.");
  for (let attempt = 0; ; attempt++) {
    const token = await azure.armToken();
    const response = await context.fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: context.signal,
    });
    const retriable = response.status === 429 || response.status >= 500;
    if (response.ok || !retriable || attempt + 1 >= ARM_ATTEMPTS) {
      if (response.ok) return response;
      const text = await response.text();
      let code: string | undefined;
      let message = text.slice(0, 500);
      try {
        const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
        code = parsed.error?.code;
        message = parsed.error?.message ?? message;
      } catch {
        // Not an ARM error body: keep the text.
      }
      const path = new URL(url).pathname;
      throw new ArmError(
        `${method} ${path} failed: HTTP ${response.status}${code ? ` ${code}` : ""}: ${message}`,
        response.status,
        code,
      );
    }
    await response.body?.cancel();
    await context.clock.sleep(retryAfterMs(response, attempt), context.signal);
  }
}

async function armJson<T>(
  context: BuilderContext,
  method: string,
  url: string,
  body?: unknown,
): Promise<T> {
  return (await (await arm(context, method, url, body)).json()) as T;
}

/** The registry's ARM resource id, found by its login server in the subscription. */
async function findRegistry(context: BuilderContext): Promise<string> {
  const azure = context.azure!;
  const loginServer = context.request.registry.toLowerCase();
  let next: string | undefined =
    `${azure.armEndpoint.replace(/\/+$/, "")}/subscriptions/${azure.subscriptionId}/providers/Microsoft.ContainerRegistry/registries?api-version=${REGISTRIES_API_VERSION}`;
  while (next) {
    const page: {
      value?: { id?: string; properties?: { loginServer?: string } }[];
      nextLink?: string;
    } = await armJson(context, "GET", next);
    const match = page.value?.find(
      (registry) => registry.properties?.loginServer?.toLowerCase() === loginServer,
    );
    if (match?.id) return match.id;
    next = page.nextLink;
  }
  throw new Error(
    `Azure Container Registry ${context.request.registry} was not found in subscription ${azure.subscriptionId}; ` +
      "an acr build runs in the registry, which must be in the deployment's subscription and readable by its identity.",
  );
}

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

/** Reads the run's log blob from `offset` on; ACR appends to it while the run goes on. */
async function readLog(context: BuilderContext, logLink: string, offset: number): Promise<Buffer> {
  const response = await context.fetch(logLink, {
    headers: { range: `bytes=${offset}-` },
    signal: context.signal,
  });
  if (response.status === 206 || response.status === 200) {
    const data = Buffer.from(await response.arrayBuffer());
    return response.status === 200 ? data.subarray(offset) : data;
  }
  await response.body?.cancel();
  return Buffer.alloc(0);
}

export const acrBuilder: Builder = {
  name: "acr",
  async buildAndPush(context: BuilderContext): Promise<string> {
    const { request, log, clock } = context;
    const registryId = await findRegistry(context);
    const base = `${context.azure!.armEndpoint.replace(/\/+$/, "")}${registryId}`;
    log.info(`Building in Azure Container Registry ${registryId}`);

    const dockerfilePath = dockerfileInSource(request.context, request.dockerfile);
    const dockerfileText = await readFile(request.dockerfile, "utf8");
    const archive = await createSourceArchive(request.context, {
      overrides: { [dockerfilePath]: dockerfileWithLabels(dockerfileText, context.labels) },
    });
    const upload = await armJson<{ uploadUrl?: string; relativePath?: string }>(
      context,
      "POST",
      `${base}/listBuildSourceUploadUrl?api-version=${RUNS_API_VERSION}`,
    );
    if (!upload.uploadUrl || !upload.relativePath)
      throw new Error("ACR gave no upload location for the build source.");
    log.info(`Uploading the build context (${(archive.length / 1024).toFixed(1)} KiB)`);
    const put = await context.fetch(upload.uploadUrl, {
      method: "PUT",
      headers: { "x-ms-blob-type": "BlockBlob", "content-type": "application/octet-stream" },
      body: new Uint8Array(archive),
      signal: context.signal,
    });
    await put.body?.cancel();
    if (!put.ok)
      throw new Error(`Uploading the build context to ACR storage failed: HTTP ${put.status}.`);

    const runRequest = {
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
      sourceLocation: upload.relativePath,
      timeout: RUN_TIMEOUT_SECONDS,
    };
    const scheduled = await arm(
      context,
      "POST",
      `${base}/scheduleRun?api-version=${RUNS_API_VERSION}`,
      runRequest,
    );
    let run: Run;
    if (scheduled.status === 202) {
      await scheduled.body?.cancel();
      run = await waitForScheduling(context, scheduled);
    } else {
      run = (await scheduled.json()) as Run;
    }
    const runId = run.properties?.runId ?? run.name;
    if (!runId) throw new Error("ACR accepted the build but returned no run id.");
    log.info(`ACR run ${runId} scheduled`);

    const runUrl = `${base}/runs/${runId}`;
    const onAbort = () => {
      void arm(
        { ...context, signal: undefined },
        "POST",
        `${runUrl}/cancel?api-version=${RUNS_API_VERSION}`,
      ).catch(() => undefined);
    };
    context.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const { logLink } = await armJson<{ logLink?: string }>(
        context,
        "POST",
        `${runUrl}/listLogSasUrl?api-version=${RUNS_API_VERSION}`,
      );
      const lines: string[] = [];
      const decoder = new StringDecoder("utf8");
      let offset = 0;
      let partial = "";
      const pullLog = async (final: boolean) => {
        if (!logLink) return;
        const chunk = await readLog(context, logLink, offset);
        offset += chunk.length;
        const split = (partial + decoder.write(chunk)).split(/\r?\n/);
        partial = split.pop() ?? "";
        if (final && partial !== "") {
          split.push(partial);
          partial = "";
        }
        for (const line of split) {
          lines.push(line);
          if (lines.length > LOG_LINES_KEPT) lines.shift();
          log.info(line);
        }
      };

      const deadline = clock.now() + (RUN_TIMEOUT_SECONDS + 600) * 1000;
      let delay = POLL_MIN_MS;
      for (;;) {
        const response = await arm(context, "GET", `${runUrl}?api-version=${RUNS_API_VERSION}`);
        run = (await response.json()) as Run;
        const status = run.properties?.status ?? "Unknown";
        await pullLog(TERMINAL.has(status.toLowerCase()));
        if (TERMINAL.has(status.toLowerCase())) break;
        if (clock.now() >= deadline)
          throw new Error(
            `ACR run ${runId} did not finish in ${RUN_TIMEOUT_SECONDS} s (last status ${status}).`,
          );
        const header = Number(response.headers.get("retry-after"));
        await clock.sleep(
          Number.isFinite(header) && header > 0 ? header * 1000 : delay,
          context.signal,
        );
        delay = Math.min(delay * 2, POLL_MAX_MS);
      }

      const status = run.properties?.status ?? "Unknown";
      if (status.toLowerCase() !== "succeeded") {
        const reason = run.properties?.runErrorMessage ? [run.properties.runErrorMessage] : [];
        throw commandFailure(`ACR build run ${runId} (${status})`, undefined, [
          ...lastLines(lines),
          ...reason,
        ]);
      }
      const image = run.properties?.outputImages?.find(
        (output) =>
          output.repository === request.imageName &&
          (output.tag === undefined || output.tag === request.tag),
      );
      if (image?.digest) return image.digest;
      // The run did not report the digest: ask the registry, logged in as the deployment identity.
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
      return await resolveManifestDigest({
        registry: request.registry,
        repository: request.imageName,
        reference: request.tag,
        credentials,
        fetch: context.fetch,
      });
    } finally {
      context.signal?.removeEventListener("abort", onAbort);
    }
  },
};

/** Follows a 202 from scheduleRun (Location, else Azure-AsyncOperation) until the run exists. */
async function waitForScheduling(context: BuilderContext, accepted: Response): Promise<Run> {
  const location = accepted.headers.get("location");
  const operation = accepted.headers.get("azure-asyncoperation");
  const url = location ?? operation;
  if (!url) throw new Error("ACR accepted the build without saying where to follow it.");
  let wait = retryAfterMs(accepted, 0);
  for (;;) {
    await context.clock.sleep(wait, context.signal);
    const response = await arm(context, "GET", url);
    if (response.status === 200) {
      const body = (await response.json()) as Run & {
        status?: string;
        error?: { message?: string };
      };
      if (body.properties?.runId) return body;
      const status = body.status?.toLowerCase();
      if (status === "failed" || status === "canceled") {
        throw new Error(`ACR could not schedule the build: ${body.error?.message ?? status}.`);
      }
      if (status === "succeeded")
        throw new Error("ACR scheduled the build but did not say which run it is.");
    } else {
      await response.body?.cancel();
    }
    wait = retryAfterMs(response, 0);
  }
}
