/**
 * What Azure Container Apps tells about a revision beyond its state, for one app: its replicas
 * (`containerAppsRevisionReplicas.listReplicas`), what their containers printed (each container's
 * `logStreamEndpoint`, else the CLI's path on the host of the app's `eventStreamEndpoint`) and
 * the platform's events (the app's `eventStreamEndpoint`), both streams opened with the token of
 * the app's `getAuthtoken`; and what Log Analytics keeps of both (appLogs.ts). The ARM calls go
 * through the gateway's retries; the token and the endpoint are read once per run.
 */
import type { ReplicaContainer } from "@azure/arm-appcontainers";
import type {
  ConsoleLine,
  ConsoleTarget,
  ReplicaContainerState,
  ReplicaState,
  SystemEvent,
} from "../core/diagnostics/types.ts";
import type {
  CallOptions,
  DiagnosticsPort,
  LogAnalyticsRequest,
  LoggedLines,
  StreamReadOptions,
} from "../core/ports.ts";
import { readLogAnalytics } from "./appLogs.ts";
import type { ContainerAppsGateway } from "./containerApps.ts";
import type { MonitorClients } from "./logAnalytics.ts";
import { consoleStreamUrl, parseConsoleLine, parseSystemEvent, readStream } from "./logStream.ts";

export class ContainerAppDiagnostics implements DiagnosticsPort {
  readonly #gateway: ContainerAppsGateway;
  readonly #subscriptionId: string;
  readonly #monitor: MonitorClients;
  #token?: Promise<string>;
  #eventStream?: Promise<string>;

  constructor(gateway: ContainerAppsGateway, subscriptionId: string, monitor: MonitorClients) {
    this.#gateway = gateway;
    this.#subscriptionId = subscriptionId;
    this.#monitor = monitor;
  }

  async listReplicas(revision: string, options?: CallOptions): Promise<ReplicaState[]> {
    const replicas = await this.#gateway.listReplicas(revision, options);
    return replicas.map((replica) => ({
      name: replica.name ?? "",
      ...(replica.createdTime && { createdTime: replica.createdTime.toISOString() }),
      ...(replica.runningState && { runningState: replica.runningState }),
      ...(replica.runningStateDetails && { runningStateDetails: replica.runningStateDetails }),
      containers: (replica.containers ?? []).map(toContainerState),
    }));
  }

  async readConsole(target: ConsoleTarget, options: StreamReadOptions): Promise<ConsoleLine[]> {
    const url =
      target.logStreamEndpoint ??
      consoleStreamUrl(await this.#eventStreamEndpoint(options), {
        subscriptionId: this.#subscriptionId,
        resourceGroup: this.#gateway.resourceGroup,
        app: this.#gateway.appName,
        ...target,
      });
    const lines = await readStream({
      url,
      token: await this.#authToken(options),
      lines: options.lines,
      signal: options.signal,
    });
    return lines.map(parseConsoleLine).filter((line): line is ConsoleLine => line !== undefined);
  }

  async readSystemEvents(options: StreamReadOptions): Promise<SystemEvent[]> {
    const lines = await readStream({
      url: await this.#eventStreamEndpoint(options),
      token: await this.#authToken(options),
      lines: options.lines,
      signal: options.signal,
    });
    return lines.map(parseSystemEvent).filter((event): event is SystemEvent => event !== undefined);
  }

  readLogAnalytics(
    request: LogAnalyticsRequest,
    options: { signal: AbortSignal },
  ): Promise<LoggedLines> {
    return readLogAnalytics(this.#gateway, this.#monitor, request, options);
  }

  /** The token of `getAuthtoken`, asked once; asked again after a failure. */
  #authToken(options: StreamReadOptions): Promise<string> {
    this.#token ??= this.#gateway.getAuthToken({ signal: options.signal }).then((answer) => {
      if (!answer.token) throw new Error(`getAuthtoken of ${this.#gateway.appName} gave no token`);
      return answer.token;
    });
    this.#token.catch(() => (this.#token = undefined));
    return this.#token;
  }

  #eventStreamEndpoint(options: StreamReadOptions): Promise<string> {
    this.#eventStream ??= this.#gateway.getApp({ signal: options.signal }).then((app) => {
      if (!app.eventStreamEndpoint) {
        throw new Error(`${this.#gateway.appName} reports no eventStreamEndpoint`);
      }
      return app.eventStreamEndpoint;
    });
    this.#eventStream.catch(() => (this.#eventStream = undefined));
    return this.#eventStream;
  }
}

function toContainerState(container: ReplicaContainer): ReplicaContainerState {
  return {
    name: container.name ?? "",
    ...(container.ready !== undefined && { ready: container.ready }),
    ...(container.started !== undefined && { started: container.started }),
    ...(container.restartCount !== undefined && { restartCount: container.restartCount }),
    ...(container.runningState && { runningState: container.runningState }),
    ...(container.runningStateDetails && { runningStateDetails: container.runningStateDetails }),
    ...(container.logStreamEndpoint && { logStreamEndpoint: container.logStreamEndpoint }),
  };
}
