import type {
  ContainerApp,
  ContainerAppAuthToken,
  ContainerAppSecret,
  ContainerAppsAPIClient,
  ManagedEnvironment,
  Replica,
  Revision,
} from "@azure/arm-appcontainers";
import type { Clock } from "../core/clock.ts";
import type { CallOptions } from "../core/ports.ts";
import { DEFAULT_TIMING, pollGaps, type PollSchedule } from "../core/timing.ts";
import { AzureError, toAzureError } from "./errors.ts";
import { callWithRetries, policyFor, RETRY_DEFAULTS, type SdkCallOptions } from "./retry.ts";

export interface GatewayOptions {
  clock: Clock;
  /** Each retry, said where the user sees it: what failed, how long it has tried, until when. */
  onRetry?: (message: string) => void;
  /** Longest a single HTTP request may take. */
  requestTimeoutMs?: number;
  /** Poll cadence of long-running operations (the service sends no Retry-After on them). */
  operationPoll?: PollSchedule;
  /** How long transient failures are retried before a call gives up. */
  retryForMs?: number;
}

const DEFAULTS = { ...RETRY_DEFAULTS, operationPoll: DEFAULT_TIMING.operation };

/**
 * Everything the engine asks of Azure Container Apps for one app, with the retries the SDK leaves
 * to us: lock conflicts (409), throttling without Retry-After, server errors past the SDK's own
 * retries, and connections that break or hang.
 */
export class ContainerAppsGateway {
  readonly resourceGroup: string;
  readonly appName: string;
  readonly #client: ContainerAppsAPIClient;
  readonly #options: Required<Omit<GatewayOptions, "onRetry">> & Pick<GatewayOptions, "onRetry">;

  constructor(
    client: ContainerAppsAPIClient,
    resourceGroup: string,
    appName: string,
    options: GatewayOptions,
  ) {
    this.#client = client;
    this.resourceGroup = resourceGroup;
    this.appName = appName;
    this.#options = { ...DEFAULTS, ...options };
  }

  getApp(options?: CallOptions): Promise<ContainerApp> {
    return this.#call(`Reading container app ${this.appName}`, options, (o) =>
      this.#client.containerApps.get(this.resourceGroup, this.appName, o),
    );
  }

  getEnvironment(environmentId: string, options?: CallOptions): Promise<ManagedEnvironment> {
    const match =
      /\/resourceGroups\/([^/]+)\/providers\/Microsoft\.App\/managedEnvironments\/([^/]+)$/i.exec(
        environmentId,
      );
    if (!match) {
      return Promise.reject(
        new AzureError(`The app's environment id "${environmentId}" is not a managed environment`, {
          code: "InvalidEnvironmentId",
        }),
      );
    }
    return this.#call(`Reading managed environment ${match[2]}`, options, (o) =>
      this.#client.managedEnvironments.get(match[1], match[2], o),
    );
  }

  /** The app's secrets with their values: the service's `listSecrets` action (a POST that reads). */
  listSecrets(options?: CallOptions): Promise<ContainerAppSecret[]> {
    return this.#call(`Listing the secrets of ${this.appName}`, options, async (o) => {
      const collection = await this.#client.containerApps.listSecrets(
        this.resourceGroup,
        this.appName,
        o,
      );
      return collection.value;
    });
  }

  listRevisions(options?: CallOptions): Promise<Revision[]> {
    return this.#call(`Listing revisions of ${this.appName}`, options, async (o) => {
      const revisions: Revision[] = [];
      for await (const revision of this.#client.containerAppsRevisions.listRevisions(
        this.resourceGroup,
        this.appName,
        o,
      )) {
        revisions.push(revision);
      }
      return revisions;
    });
  }

  /**
   * The revision, with `runningStateDetails` ("1/1 Container crashing: web"), which the service
   * sends and the SDK's model drops: it is read from the raw response.
   */
  getRevision(name: string, options?: CallOptions): Promise<RevisionWithDetails> {
    return this.#call(`Reading revision ${name}`, options, async (o) => {
      let runningStateDetails: string | undefined;
      const revision = await this.#client.containerAppsRevisions.getRevision(
        this.resourceGroup,
        this.appName,
        name,
        {
          ...o,
          onResponse: (raw) => {
            runningStateDetails = runningStateDetailsOf(raw.parsedBody);
          },
        },
      );
      return { ...revision, runningStateDetails };
    });
  }

  /**
   * PATCH the app and wait for the operation to finish; returns the app as it then is. Only the
   * request that starts the operation is re-sent on a transient fault; a status poll that fails is
   * asked again; an operation the service reports as failed is final and never re-sent.
   */
  async update(patch: ContainerApp, what: string, options?: CallOptions): Promise<ContainerApp> {
    const { clock } = this.#options;
    const signal = options?.signal;
    // The poller is a thenable: wrapped, so that returning it does not wait for the operation.
    const { poller } = await this.#call(what, options, async (o) => {
      const started = this.#client.containerApps.update(this.resourceGroup, this.appName, patch, o);
      await started.submitted();
      return { poller: started };
    });
    const gap = pollGaps(this.#options.operationPoll);
    while (!poller.isDone) {
      await clock.sleep(gap(), signal);
      await this.#call(`${what} (operation status)`, options, async () => {
        try {
          await poller.poll({ abortSignal: signal });
        } catch (error) {
          if (poller.operationState?.status === "failed") throw operationFailed(error, what);
          throw error;
        }
      });
    }
    const state = poller.operationState;
    if (state?.status === "failed") throw operationFailed(state.error, what);
    if (state?.status === "canceled") {
      throw new AzureError(`${what} failed: the operation was canceled`, {
        code: "OperationCanceled",
        operationFailed: true,
      });
    }
    return poller.result ?? this.getApp(options);
  }

  activateRevision(name: string, options?: CallOptions): Promise<void> {
    return this.#call(`Activating revision ${name}`, options, (o) =>
      this.#client.containerAppsRevisions.activateRevision(
        this.resourceGroup,
        this.appName,
        name,
        o,
      ),
    );
  }

  deactivateRevision(name: string, options?: CallOptions): Promise<void> {
    return this.#call(`Deactivating revision ${name}`, options, (o) =>
      this.#client.containerAppsRevisions.deactivateRevision(
        this.resourceGroup,
        this.appName,
        name,
        o,
      ),
    );
  }

  /** The revision's replicas, with their containers' states and log stream endpoints. */
  listReplicas(revision: string, options?: CallOptions): Promise<Replica[]> {
    return this.#call(`Listing the replicas of ${revision}`, options, async (o) => {
      const replicas = await this.#client.containerAppsRevisionReplicas.listReplicas(
        this.resourceGroup,
        this.appName,
        revision,
        o,
      );
      return replicas.value ?? [];
    });
  }

  /** The token that opens the app's log streams (`getAuthtoken`). */
  getAuthToken(options?: CallOptions): Promise<ContainerAppAuthToken> {
    return this.#call(`Getting the log stream token of ${this.appName}`, options, (o) =>
      this.#client.containerApps.getAuthToken(this.resourceGroup, this.appName, o),
    );
  }

  #call<T>(
    what: string,
    options: CallOptions | undefined,
    send: (o: SdkCallOptions) => PromiseLike<T>,
  ): Promise<T> {
    return callWithRetries(what, policyFor(this.#options, options), send);
  }
}

/** A revision as read, with the field the SDK's model does not carry. */
export type RevisionWithDetails = Revision & { runningStateDetails?: string };

function runningStateDetailsOf(body: unknown): string | undefined {
  const properties = (body as { properties?: { runningStateDetails?: unknown } } | undefined)
    ?.properties;
  return typeof properties?.runningStateDetails === "string"
    ? properties.runningStateDetails
    : undefined;
}

/** The service ended the operation as failed: final, never retried. */
function operationFailed(error: unknown, what: string): AzureError {
  const mapped = toAzureError(error, what);
  return new AzureError(mapped.message, {
    code: mapped.code ?? "OperationFailed",
    statusCode: mapped.statusCode,
    operationFailed: true,
    cause: error,
  });
}
