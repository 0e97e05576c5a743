import type { ContainerApp } from "@azure/arm-appcontainers";
import type {
  AppState,
  ContainerAppsPort,
  CreateRevisionRequest,
  PullAccessCheck,
  RevisionState,
  CallOptions,
  TrafficWriteOptions,
} from "../core/ports.ts";
import type { TrafficWeight } from "../core/types.ts";
import { describePullAccess } from "./acr.ts";
import type { ContainerAppsGateway, RevisionWithDetails } from "./containerApps.ts";
import { AzureError } from "./errors.ts";

/**
 * The engine's view of one container app, over the gateway. It keeps the template of the last app
 * it read, because a PATCH replaces `template.containers` as a whole: the new revision must carry
 * every container and setting of the current one, with only the image and suffix changed.
 */
export class ContainerAppsAdapter implements ContainerAppsPort {
  readonly #gateway: ContainerAppsGateway;
  #lastApp?: ContainerApp;

  constructor(gateway: ContainerAppsGateway) {
    this.#gateway = gateway;
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

  async listRevisions(): Promise<RevisionState[]> {
    return (await this.#gateway.listRevisions()).map(toRevisionState);
  }

  async getRevision(name: string, options?: CallOptions): Promise<RevisionState> {
    return toRevisionState(await this.#gateway.getRevision(name, options));
  }

  async createRevision(request: CreateRevisionRequest, options?: CallOptions): Promise<AppState> {
    const current = this.#lastApp ?? (await this.#gateway.getApp(options));
    const template = current.template ?? {};
    const containers = (template.containers ?? []).map((container) =>
      container.name === request.containerName ? { ...container, image: request.image } : container,
    );
    const patch: ContainerApp = {
      location: current.location,
      ...(request.tags ? { tags: request.tags } : {}),
      template: { ...template, containers, revisionSuffix: request.revisionSuffix },
      configuration: {
        ...(request.multipleRevisions ? { activeRevisionsMode: "Multiple" } : {}),
        ...(request.registries ? { registries: request.registries } : {}),
        ingress: { traffic: request.traffic.map(toSdkTraffic) },
      },
    };
    return this.#remember(
      await this.#gateway.update(patch, `Creating revision ${request.revisionSuffix}`, options),
    );
  }

  async updateTraffic(traffic: TrafficWeight[], options?: TrafficWriteOptions): Promise<AppState> {
    const { tags, ...call } = options ?? {};
    const patch: ContainerApp = {
      location: this.#lastApp?.location ?? "",
      configuration: { ingress: { traffic: traffic.map(toSdkTraffic) } },
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
  };
}
