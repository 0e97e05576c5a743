import type {
  ContainerApp,
  ContainerAppsAPIClient,
  ManagedEnvironment,
  Revision,
} from "@azure/arm-appcontainers";
import type { Clock } from "../core/clock.ts";
import { AzureError } from "./errors.ts";
import { callWithRetries, RETRY_DEFAULTS, type SdkCallOptions } from "./retry.ts";

export interface GatewayOptions {
  clock: Clock;
  /** Notes about retries, for the debug log. */
  debug?: (message: string) => void;
  /** Longest a single HTTP request may take. */
  requestTimeoutMs?: number;
  /** Poll cadence of long-running operations when the service gives no Retry-After. */
  pollIntervalMs?: number;
  /** How long transient failures are retried before a call gives up. */
  retryForMs?: number;
}

interface CallOptions {
  /** Retry for this long instead of the default (the rollback path is the most persistent). */
  retryForMs?: number;
  signal?: AbortSignal;
}

const DEFAULTS = { ...RETRY_DEFAULTS, pollIntervalMs: 2_000 };

/**
 * Everything the engine asks of Azure Container Apps for one app, with the retries the SDK leaves
 * to us: lock conflicts (409), throttling without Retry-After, server errors past the SDK's own
 * retries, and connections that break or hang.
 */
export class ContainerAppsGateway {
  readonly resourceGroup: string;
  readonly appName: string;
  readonly #client: ContainerAppsAPIClient;
  readonly #options: Required<Omit<GatewayOptions, "debug">> & Pick<GatewayOptions, "debug">;

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

  getRevision(name: string, options?: CallOptions): Promise<Revision> {
    return this.#call(`Reading revision ${name}`, options, (o) =>
      this.#client.containerAppsRevisions.getRevision(this.resourceGroup, this.appName, name, o),
    );
  }

  /** PATCH the app and wait for the operation to finish; returns the app as it then is. */
  update(patch: ContainerApp, what: string, options?: CallOptions): Promise<ContainerApp> {
    return this.#call(what, options, (o) =>
      this.#client.containerApps.update(this.resourceGroup, this.appName, patch, {
        ...o,
        updateIntervalInMs: this.#options.pollIntervalMs,
      }),
    );
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

  #call<T>(
    what: string,
    options: CallOptions | undefined,
    send: (o: SdkCallOptions) => PromiseLike<T>,
  ): Promise<T> {
    return callWithRetries(
      what,
      {
        ...this.#options,
        signal: options?.signal,
        retryForMs: options?.retryForMs ?? this.#options.retryForMs,
      },
      send,
    );
  }
}
