import type { ContainerApp, Replica } from "@azure/arm-appcontainers";
import type {
  AppState,
  ContainerAppsPort,
  CreateRevisionRequest,
  PullAccessCheck,
  ReplicaReadiness,
  RevisionState,
  CallOptions,
  TrafficWriteOptions,
} from "../core/ports.ts";
import {
  plain,
  type Json,
  type RevisionTemplate,
  type SecretEntry,
} from "../core/revision/model.ts";
import type { TrafficWeight } from "../core/types.ts";
import { describePullAccess } from "./acr.ts";
import type { ContainerAppsGateway, RevisionWithDetails } from "./containerApps.ts";
import { AzureError } from "./errors.ts";

export interface AdapterOptions {
  /** Called with every secret value read from Azure before anything else sees it. */
  maskSecret?: (value: string) => void;
}

/**
 * The engine's view of one container app, over the gateway. The engine sends the new revision's
 * complete template, since a PATCH replaces `template.containers` as a whole; the adapter keeps
 * the last app it read for the location every PATCH carries and for the registry checks.
 */
export class ContainerAppsAdapter implements ContainerAppsPort {
  readonly #gateway: ContainerAppsGateway;
  readonly #maskSecret: (value: string) => void;
  #lastApp?: ContainerApp;

  constructor(gateway: ContainerAppsGateway, options: AdapterOptions = {}) {
    this.#gateway = gateway;
    this.#maskSecret = options.maskSecret ?? (() => undefined);
  }

  async getApp(options?: CallOptions): Promise<AppState> {
    return this.#remember(await this.#gateway.getApp(options));
  }

  async getDefaultDomain(environmentId: string): Promise<string> {
    const environment = await this.#gateway.getEnvironment(environmentId);
    if (!environment.defaultDomain) {
      throw new AzureError(`Managed environment ${environment.name} reports no default domain`, {
        code: "EnvironmentNotReady",
      });
    }
    return environment.defaultDomain;
  }

  async getWorkloadProfiles(
    environmentId: string,
  ): Promise<{ name: string; workloadProfileType: string }[]> {
    const environment = await this.#gateway.getEnvironment(environmentId);
    return (environment.workloadProfiles ?? []).map((profile) => ({
      name: profile.name,
      workloadProfileType: profile.workloadProfileType,
    }));
  }

  async listSecrets(options?: CallOptions): Promise<SecretEntry[]> {
    const secrets = await this.#gateway.listSecrets(options);
    return secrets.map((secret) => {
      if (secret.value) this.#maskSecret(secret.value);
      return {
        name: secret.name ?? "",
        ...(secret.value !== undefined && !secret.keyVaultUrl && { value: secret.value }),
        ...(secret.keyVaultUrl && { keyVaultUrl: secret.keyVaultUrl }),
        ...(secret.identity && { identity: secret.identity }),
      };
    });
  }

  async listReplicas(revision: string, options?: CallOptions): Promise<ReplicaReadiness[]> {
    return (await this.#gateway.listReplicas(revision, options)).map(toReplicaState);
  }

  async listRevisions(): Promise<RevisionState[]> {
    return (await this.#gateway.listRevisions()).map(toRevisionState);
  }

  async getRevision(name: string, options?: CallOptions): Promise<RevisionState> {
    return toRevisionState(await this.#gateway.getRevision(name, options));
  }

  async createRevision(request: CreateRevisionRequest, options?: CallOptions): Promise<AppState> {
    const current = this.#lastApp ?? (await this.#gateway.getApp(options));
    const patch: ContainerApp = {
      location: current.location,
      ...(request.tags ? { tags: request.tags } : {}),
      template: {
        ...(plain(request.template) as ContainerApp["template"]),
        revisionSuffix: request.revisionSuffix,
      },
      configuration: configurationPatch(request.configuration, request.traffic, {
        ...(request.multipleRevisions ? { activeRevisionsMode: "Multiple" } : {}),
        ...(request.registries ? { registries: request.registries } : {}),
        ...(request.secrets ? { secrets: request.secrets } : {}),
      }),
    };
    return this.#remember(
      await this.#gateway.update(patch, `Creating revision ${request.revisionSuffix}`, options),
    );
  }

  async updateTraffic(traffic: TrafficWeight[], options?: TrafficWriteOptions): Promise<AppState> {
    const { tags, configuration, secrets, ...call } = options ?? {};
    const patch: ContainerApp = {
      location: this.#lastApp?.location ?? "",
      configuration: configurationPatch(configuration, traffic, secrets ? { secrets } : {}),
      ...(tags ? { tags } : {}),
    };
    return this.#remember(await this.#gateway.update(patch, "Updating traffic", call));
  }

  async updateTags(tags: Record<string, string>, options?: CallOptions): Promise<AppState> {
    const patch: ContainerApp = { location: this.#lastApp?.location ?? "", tags };
    return this.#remember(await this.#gateway.update(patch, "Updating tags", options));
  }

  describePullAccess(registry: string, identity?: string): PullAccessCheck {
    const access = describePullAccess(this.#lastApp ?? {}, registry, identity ? { identity } : {});
    return {
      configured: access.configured,
      message: access.message,
      registries: access.patch?.configuration.registries.map((entry) => ({
        server: entry.server ?? registry,
        ...(entry.identity ? { identity: entry.identity } : {}),
        ...(entry.username ? { username: entry.username } : {}),
        ...(entry.passwordSecretRef ? { passwordSecretRef: entry.passwordSecretRef } : {}),
      })),
    };
  }

  activateRevision(name: string, options?: CallOptions): Promise<void> {
    return this.#gateway.activateRevision(name, options);
  }

  deactivateRevision(name: string, options?: CallOptions): Promise<void> {
    return this.#gateway.deactivateRevision(name, options);
  }

  #remember(app: ContainerApp): AppState {
    this.#lastApp = app;
    return toAppState(app, this.#gateway.resourceGroup);
  }
}

/** `configuration` of a PATCH: the given fields, the extra ones, and ingress with the traffic. */
function configurationPatch(
  fields: Json | undefined,
  traffic: TrafficWeight[],
  extra: Json,
): NonNullable<ContainerApp["configuration"]> {
  const { ingress, ...rest } = plain(fields ?? {});
  return {
    ...(rest as ContainerApp["configuration"]),
    ...(extra as ContainerApp["configuration"]),
    ingress: {
      ...(ingress as NonNullable<ContainerApp["configuration"]>["ingress"]),
      traffic: traffic.map(toSdkTraffic),
    },
  };
}

function toReplicaState(replica: Replica): ReplicaReadiness {
  const runningState = replica.runningState ?? "Unknown";
  const containers = replica.containers ?? [];
  return {
    name: replica.name ?? "",
    runningState,
    ready:
      runningState.toLowerCase() === "running" &&
      containers.length > 0 &&
      containers.every((container) => container.ready === true && container.started !== false),
  };
}

function toSdkTraffic(entry: TrafficWeight) {
  return entry.label
    ? { revisionName: entry.revisionName, weight: entry.weight, label: entry.label }
    : { revisionName: entry.revisionName, weight: entry.weight };
}

function toAppState(app: ContainerApp, resourceGroup: string): AppState {
  const ingress = app.configuration?.ingress;
  return {
    name: app.name ?? "",
    resourceGroup,
    provisioningState: app.provisioningState ?? "Unknown",
    activeRevisionsMode: app.configuration?.activeRevisionsMode ?? "Single",
    latestRevisionName: app.latestRevisionName,
    latestReadyRevisionName: app.latestReadyRevisionName,
    environmentId: app.environmentId ?? app.managedEnvironmentId,
    ingress: ingress
      ? {
          fqdn: ingress.fqdn || undefined,
          external: ingress.external ?? false,
          traffic: (ingress.traffic ?? []).map((entry) => ({
            revisionName: entry.revisionName,
            latestRevision: entry.latestRevision,
            weight: entry.weight ?? 0,
            label: entry.label,
          })),
        }
      : undefined,
    containers: (app.template?.containers ?? []).map((c) => ({
      name: c.name ?? "",
      image: c.image ?? "",
    })),
    template: {
      ...(plain(app.template ?? {}) as Json),
      containers: plain(app.template?.containers ?? []),
    } as RevisionTemplate,
    configuration: plain(app.configuration ?? {}) as Json,
    workloadProfileName: app.workloadProfileName || undefined,
    tags: { ...(app.tags ?? {}) },
  };
}

function toRevisionState(revision: RevisionWithDetails): RevisionState {
  return {
    name: revision.name ?? "",
    active: revision.active ?? false,
    provisioningState: revision.provisioningState ?? "Unknown",
    runningState: revision.runningState ?? "Unknown",
    healthState: revision.healthState ?? "Unknown",
    trafficWeight: revision.trafficWeight ?? 0,
    containers: (revision.template?.containers ?? []).map((c) => ({
      name: c.name ?? "",
      image: c.image ?? "",
    })),
    provisioningError: revision.provisioningError || undefined,
    runningStateDetails: revision.runningStateDetails || undefined,
    replicas: revision.replicas,
    createdTime: revision.createdTime?.toISOString(),
    template: revision.template ? (plain(revision.template) as Json) : undefined,
  };
}
