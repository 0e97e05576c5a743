import { ContainerAppsAPIClient } from "@azure/arm-appcontainers";
import type { Clock } from "../core/clock.ts";
import type { PollSchedule } from "../core/timing.ts";
import type { ContainerAppsPort, DiagnosticsPort, TrafficMonitor } from "../core/ports.ts";
import type { AuthInputs } from "../core/types.ts";
import { ContainerAppsAdapter } from "./appsPort.ts";
import { resolveCloud, withDiscoveredAudience } from "./clouds.ts";
import { ContainerAppsGateway } from "./containerApps.ts";
import { createCredential, type CredentialSource } from "./credentials.ts";
import { ContainerAppDiagnostics } from "./diagnostics.ts";
import { createMonitorClients } from "./logAnalytics.ts";
import { createTrafficMonitor } from "./monitor.ts";

/** How every Azure client of this tool introduces itself. */
export const USER_AGENT = "aca-blue-green/1";

export interface AppConnection {
  subscriptionId: string;
  resourceGroup: string;
  app: string;
  auth: AuthInputs;
  source: CredentialSource;
  clock: Clock;
  /** Poll cadence of long-running writes. */
  operationPoll?: PollSchedule;
  onRetry?: (message: string) => void;
  /** Masks a secret value read from Azure in every log. */
  maskSecret?: (value: string) => void;
}

export interface ConnectedApp {
  apps: ContainerAppsPort;
  /** The app's replicas and log streams, for the diagnostics of a failed candidate. */
  diagnostics: DiagnosticsPort;
  /** Azure Monitor for the app and its environment (no call is made until one is asked for). */
  monitor: TrafficMonitor;
  armEndpoint: string;
  /** An access token for Resource Manager (also what an ACR token exchange accepts). */
  armToken(): Promise<string>;
}

/** The engine's port to one container app: cloud endpoints, credential, SDK client, retries. */
export async function connectContainerApp(connection: AppConnection): Promise<ConnectedApp> {
  const cloud = await withDiscoveredAudience(resolveCloud(connection.auth));
  const credential = createCredential(connection.source, cloud);
  const client = new ContainerAppsAPIClient(credential, connection.subscriptionId, {
    endpoint: cloud.armEndpoint,
    credentials: { scopes: [cloud.armScope] },
    userAgentOptions: { userAgentPrefix: USER_AGENT },
  });
  const gateway = new ContainerAppsGateway(client, connection.resourceGroup, connection.app, {
    clock: connection.clock,
    ...(connection.operationPoll ? { operationPoll: connection.operationPoll } : {}),
    onRetry: connection.onRetry,
  });
  const monitorClients = createMonitorClients({
    credential,
    subscriptionId: connection.subscriptionId,
    armEndpoint: cloud.armEndpoint,
    armScope: cloud.armScope,
    ...(cloud.logAnalytics && { logAnalytics: cloud.logAnalytics }),
    userAgent: USER_AGENT,
  });
  return {
    apps: new ContainerAppsAdapter(gateway, { maskSecret: connection.maskSecret }),
    diagnostics: new ContainerAppDiagnostics(gateway, connection.subscriptionId, monitorClients),
    monitor: createTrafficMonitor({
      clients: monitorClients,
      subscriptionId: connection.subscriptionId,
      resourceGroup: connection.resourceGroup,
      app: connection.app,
      workspaceCustomerId: async (environmentId) =>
        (await gateway.getEnvironment(environmentId)).appLogsConfiguration
          ?.logAnalyticsConfiguration?.customerId,
    }),
    armEndpoint: cloud.armEndpoint,
    armToken: async () => {
      const token = await credential.getToken(cloud.armScope);
      if (!token) throw new Error(`No access token for ${cloud.armScope}`);
      return token.token;
    },
  };
}
