/**
 * ACR Tasks, the registry's own builds, over @azure/arm-containerregistry: find a registry by its
 * login server, upload a build source, schedule a run, read the run and its log, cancel it. The ARM
 * calls go through the retry loop the Container Apps gateway uses; the upload and the log are
 * storage links (SAS) that ACR hands out.
 */
import {
  ContainerRegistryManagementClient,
  type DockerBuildRequest,
  type Run,
} from "@azure/arm-containerregistry";
import type { TokenCredential } from "@azure/core-auth";
import type { TlsSettings } from "@azure/core-rest-pipeline";
import type { Clock } from "../core/clock.ts";
import { USER_AGENT } from "./client.ts";
import { AzureError } from "./errors.ts";
import { callWithRetries, policyFor, RETRY_DEFAULTS, type SdkCallOptions } from "./retry.ts";

export type { DockerBuildRequest, Run } from "@azure/arm-containerregistry";

/** A registry's ARM resource, as ACR Tasks addresses it. */
export interface RegistryResource {
  id: string;
  resourceGroup: string;
  name: string;
}

/** Where the build source goes: a storage link to PUT it to, and the path a run names it by. */
export interface SourceUpload {
  uploadUrl: string;
  relativePath: string;
}

export interface AcrTasksOptions {
  clock: Clock;
  /** Each retry, said where the user sees it: what failed, how long it has tried, until when. */
  onRetry?: (message: string) => void;
  /** Longest a single HTTP request may take. */
  requestTimeoutMs?: number;
  /** How long transient failures are retried before a call gives up. */
  retryForMs?: number;
  /** Poll cadence of scheduleRun's long-running operation when the service gives no Retry-After. */
  pollIntervalMs?: number;
  /** Sends the upload and the log reads (the storage links); global fetch by default. */
  fetch?: typeof fetch;
}

interface CallOptions {
  signal?: AbortSignal;
}

const DEFAULTS = { ...RETRY_DEFAULTS, pollIntervalMs: 2_000 };
/** A cancel is a last word on the way out: a short try, not the full retry budget. */
const CANCEL_RETRY_MS = 10_000;
const REGISTRY_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerRegistry\/registries\/([^/]+)$/i;

export class AcrTasksClient {
  readonly #client: ContainerRegistryManagementClient;
  readonly #options: Required<Omit<AcrTasksOptions, "onRetry" | "fetch">> &
    Pick<AcrTasksOptions, "onRetry">;
  readonly #fetch: typeof fetch;

  constructor(client: ContainerRegistryManagementClient, options: AcrTasksOptions) {
    this.#client = client;
    const { fetch: fetchImpl, ...rest } = options;
    this.#options = { ...DEFAULTS, ...rest };
    this.#fetch = fetchImpl ?? fetch;
  }

  /** The registry whose login server is `loginServer`, among the subscription's registries. */
  async findRegistry(
    loginServer: string,
    options?: CallOptions,
  ): Promise<RegistryResource | undefined> {
    const wanted = loginServer.toLowerCase();
    const id = await this.#call(
      `Looking for Azure Container Registry ${loginServer}`,
      options,
      async (o) => {
        for await (const registry of this.#client.registries.list(o)) {
          if (registry.loginServer?.toLowerCase() === wanted && registry.id) return registry.id;
        }
        return undefined;
      },
    );
    if (id === undefined) return undefined;
    const match = REGISTRY_ID.exec(id);
    if (!match) {
      throw new AzureError(`The registry id "${id}" is not a container registry`, {
        code: "InvalidRegistryId",
      });
    }
    return { id, resourceGroup: match[1], name: match[2] };
  }

  /** Asks ACR where to upload a build source, then PUTs `archive` there as a block blob. */
  async uploadSource(
    registry: RegistryResource,
    archive: Uint8Array,
    options?: CallOptions,
  ): Promise<SourceUpload> {
    const upload = await this.#call(
      `Getting an upload location from ${registry.name}`,
      options,
      (o) =>
        this.#client.registries.getBuildSourceUploadUrl(registry.resourceGroup, registry.name, o),
    );
    if (!upload.uploadUrl || !upload.relativePath) {
      throw new AzureError(`ACR ${registry.name} gave no upload location for the build source.`, {
        code: "NoUploadLocation",
      });
    }
    const put = await this.#fetch(upload.uploadUrl, {
      method: "PUT",
      headers: { "x-ms-blob-type": "BlockBlob", "content-type": "application/octet-stream" },
      body: archive,
      signal: options?.signal,
    });
    await put.body?.cancel();
    if (!put.ok) {
      throw new AzureError(
        `Uploading the build context to ACR storage failed: HTTP ${put.status}.`,
        { statusCode: put.status },
      );
    }
    return { uploadUrl: upload.uploadUrl, relativePath: upload.relativePath };
  }

  /** Schedules a quick build and waits until ACR has queued it; resolves with the new run. */
  scheduleRun(
    registry: RegistryResource,
    request: DockerBuildRequest,
    options?: CallOptions,
  ): Promise<Run> {
    return this.#call(`Scheduling a build in ${registry.name}`, options, (o) =>
      this.#client.registries.beginScheduleRunAndWait(
        registry.resourceGroup,
        registry.name,
        request,
        { ...o, updateIntervalInMs: this.#options.pollIntervalMs },
      ),
    );
  }

  getRun(registry: RegistryResource, runId: string, options?: CallOptions): Promise<Run> {
    return this.#call(`Reading ACR run ${runId}`, options, (o) =>
      this.#client.runs.get(registry.resourceGroup, registry.name, runId, o),
    );
  }

  /** The storage link of the run's log, when ACR gives one. */
  async getLogLink(
    registry: RegistryResource,
    runId: string,
    options?: CallOptions,
  ): Promise<string | undefined> {
    const result = await this.#call(`Getting the log link of ACR run ${runId}`, options, (o) =>
      this.#client.runs.getLogSasUrl(registry.resourceGroup, registry.name, runId, o),
    );
    return result.logLink;
  }

  /** The run's log from byte `offset` on; ACR appends to it while the run goes on. */
  async readLog(logLink: string, offset: number, options?: CallOptions): Promise<Buffer> {
    const response = await this.#fetch(logLink, {
      headers: { range: `bytes=${offset}-` },
      signal: options?.signal,
    });
    if (response.status === 206 || response.status === 200) {
      const data = Buffer.from(await response.arrayBuffer());
      return response.status === 200 ? data.subarray(offset) : data;
    }
    // 416 (nothing new yet) and the rest: no new text this time.
    await response.body?.cancel();
    return Buffer.alloc(0);
  }

  /** Asks ACR to cancel the run; does not wait for it to stop. */
  async cancelRun(registry: RegistryResource, runId: string): Promise<void> {
    await this.#call(`Cancelling ACR run ${runId}`, { retryForMs: CANCEL_RETRY_MS }, (o) =>
      this.#client.runs.beginCancel(registry.resourceGroup, registry.name, runId, o),
    );
  }

  #call<T>(
    what: string,
    options: (CallOptions & { retryForMs?: number }) | undefined,
    send: (o: SdkCallOptions) => PromiseLike<T>,
  ): Promise<T> {
    return callWithRetries(what, policyFor(this.#options, options), send);
  }
}

/** What ACR Tasks needs of the deployment's Azure login. */
export interface ArmAccess {
  /** ARM endpoint, e.g. `https://management.azure.com`. */
  armEndpoint: string;
  subscriptionId: string;
  /** An access token for ARM. */
  armToken(): Promise<string>;
}

/**
 * An ACR Tasks client on the deployment's login. `tlsOptions` adds trust for an ARM endpoint with
 * a private CA (the clients that NODE_EXTRA_CA_CERTS cannot reach).
 */
export function connectAcrTasks(
  access: ArmAccess,
  options: AcrTasksOptions & { tlsOptions?: TlsSettings },
): AcrTasksClient {
  const { tlsOptions, ...taskOptions } = options;
  const credential: TokenCredential = {
    // The login behind armToken caches and renews the real token; the SDK asks again each minute.
    getToken: async () => ({
      token: await access.armToken(),
      expiresOnTimestamp: Date.now() + 60_000,
    }),
  };
  const client = new ContainerRegistryManagementClient(credential, access.subscriptionId, {
    endpoint: access.armEndpoint,
    userAgentOptions: { userAgentPrefix: USER_AGENT },
    // One retry loop, ours: it judges faults as the gateway does and waits on the injected clock.
    retryOptions: { maxRetries: 0 },
    tlsOptions,
  });
  return new AcrTasksClient(client, taskOptions);
}
