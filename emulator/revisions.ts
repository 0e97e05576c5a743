/**
 * Each revision's lifecycle, with a real local process as its one replica:
 *
 * - a new revision reads `Provisioning / Processing / None` with no replica, then, once its
 *   process listens, `Provisioned / Activating / None` with one replica that is not ready yet,
 *   then `Provisioned / Running / Healthy` (test_container_app_mount_azurefile_e2e,
 *   test_containerapp_ingress_traffic_e2e);
 * - a container that exits at start leaves the revision `Failed / Failed / Unhealthy`, active,
 *   with one crashing replica, `provisioningError: "Container crashing: <container>"` and
 *   `runningStateDetails: "1/1 Container crashing: <container>"`; its write does not fail
 *   (test_container_app_mount_nfsazurefile_e2e);
 * - an image that cannot be pulled (`fail-provisioning`) fails the revision and its write;
 * - in Single mode, once the new latest revision is ready, the revisions before it read
 *   `Deprovisioning` and become inactive after the retire delay (test_containerapp_scale_revision_copy);
 * - deactivating stops the process: `Stopped`, no replica, its last health kept, and
 *   `lastActiveTime`, which only inactive revisions carry;
 * - with `scale.minReplicas` above one, the revision reads Running and Healthy once its first
 *   replica is ready, and the others come up one after another after that (the emulator's own
 *   timing): a client that waits only for the revision's state sends traffic to one replica
 *   (microsoft/azure-container-apps#184). One process serves all of a revision's replicas;
 * - the process gets the first container's variables, secret references resolved from the app's
 *   secrets as they are when it starts.
 *
 * What each process prints goes to the logs as its replica container's console output, and each
 * of these steps as a system event (logs.ts).
 *
 * How long each stage lasts comes from the timing profile (timing.ts).
 */
import { RevisionExitError, type RevisionProcess, type StartRevisionOptions } from "./contracts.ts";
import { HttpError } from "./http.ts";
import type { LifecycleLogs } from "./logs.ts";
import { replicaNameFor } from "./names.ts";
import type { Scheduler } from "./scheduler.ts";
import { findRevision, type ContainerApp, type Json, type Revision } from "./store.ts";
import type { Timing } from "./timing.ts";
import { namedRevisions } from "./traffic.ts";
import type { RevisionFault } from "./types.ts";
import { defaultMaxInactiveRevisions } from "./validation.ts";
import { resolveEnv } from "./revision-rules.ts";

export interface RevisionLifecycleOptions {
  scheduler: Scheduler;
  timing: Timing;
  startProcess(options: StartRevisionOptions): Promise<RevisionProcess>;
  takeRevisionFault(app: string, image: string): RevisionFault["mode"] | undefined;
  logs: LifecycleLogs;
}

export class RevisionLifecycle {
  readonly #scheduler: Scheduler;
  readonly #timing: Timing;
  readonly #startProcess: RevisionLifecycleOptions["startProcess"];
  readonly #takeRevisionFault: RevisionLifecycleOptions["takeRevisionFault"];
  readonly #logs: LifecycleLogs;

  constructor(options: RevisionLifecycleOptions) {
    this.#scheduler = options.scheduler;
    this.#timing = options.timing;
    this.#startProcess = options.startProcess;
    this.#takeRevisionFault = options.takeRevisionFault;
    this.#logs = options.logs;
  }

  /** A revision that a write creates, Provisioning, not yet added to its app. */
  newRevision(app: ContainerApp, name: string, template: Json): Revision {
    const [first] = template.containers as Json[];
    const image = String(first.image);
    return {
      name,
      template: structuredClone(template),
      image,
      container: String(first.name),
      createdTime: new Date().toISOString(),
      active: true,
      provisioningState: "Provisioning",
      runningState: "Processing",
      healthState: "None",
      provisioned: false,
      fault: this.#takeRevisionFault(app.name, image),
      generation: 0,
    };
  }

  /**
   * Provisions a revision the app already holds, created by a write whose operation runs
   * `operationMs`. Resolves with why that write must fail, if it must: an image that cannot be
   * pulled, or a revision that never gets ready past the operation's expiry.
   */
  provision(
    app: ContainerApp,
    revision: Revision,
    operationMs: number,
  ): Promise<string | undefined> {
    this.#logs.event(app, {
      revision: revision.name,
      type: "Normal",
      reason: "RevisionCreation",
      message: `Creating a new revision: ${revision.name}`,
    });
    const pullFailure = this.#start(app, revision, this.#timing.provisioningMs(operationMs));
    if (revision.fault === "fail-provisioning") return pullFailure;
    if (revision.fault === "operation-expired") {
      return this.#scheduler
        .delay(this.#timing.operationExpiryMs())
        .then(() => "Operation expired.");
    }
    return Promise.resolve(undefined);
  }

  activate(app: ContainerApp, revision: Revision): void {
    if (revision.active) return;
    revision.active = true;
    revision.lastActiveTime = undefined;
    void this.#start(app, revision, this.#timing.provisioningMs(0));
  }

  deactivate(app: ContainerApp, revision: Revision): void {
    if (!revision.active) return;
    this.#deactivate(app, revision);
    this.prune(app);
  }

  restart(app: ContainerApp, revision: Revision): void {
    if (!revision.active) {
      throw new HttpError(
        400,
        "ContainerAppRevisionNotActive",
        `Revision '${revision.name}' is not active; activate it instead of restarting it.`,
      );
    }
    this.#stopProcess(app, revision);
    void this.#start(app, revision, this.#timing.provisioningMs(0));
  }

  /** Starts a seeded revision: it is ready as soon as its process listens. */
  async startSeeded(app: ContainerApp, revision: Revision): Promise<void> {
    const generation = ++revision.generation;
    const replica = replicaNameFor(revision.name);
    let process: RevisionProcess;
    try {
      process = await this.#startProcess(this.#processOptions(app, revision, replica));
    } catch (error) {
      if (generation === revision.generation) {
        revision.provisioned = false;
        this.#markCrashing(app, revision, replica, exitCodeOf(error));
      }
      return;
    }
    if (generation !== revision.generation || this.#scheduler.stopped) {
      await process.stop();
      return;
    }
    this.#attach(app, revision, process, replica);
    this.#markReady(app, revision, { replicasAtOnce: true });
  }

  /**
   * Single mode keeps one revision: once `latest` is ready, every other active revision reads
   * Deprovisioning and becomes inactive after the retire delay.
   */
  retireOthers(app: ContainerApp, latest: Revision): void {
    for (const revision of app.revisions) {
      if (revision === latest || !revision.active || revision.runningState === "Deprovisioning") {
        continue;
      }
      revision.runningState = "Deprovisioning";
      this.#logs.event(app, {
        revision: revision.name,
        type: "Normal",
        reason: "RevisionDeactivating",
        message: "Deactivating Old revisions since 'ActiveRevisionsMode=Single'",
      });
      const generation = revision.generation;
      void this.#scheduler.delay(this.#timing.retireDelayMs()).then(() => {
        if (this.#scheduler.stopped || generation !== revision.generation) return;
        if (revision.active) this.deactivate(app, revision);
      });
    }
  }

  async setBehaviour(revision: Revision, behaviour: string): Promise<void> {
    if (!revision.process) {
      throw new HttpError(
        409,
        "ContainerAppRevisionNotRunning",
        `Revision '${revision.name}' has no running replica to change.`,
      );
    }
    try {
      await revision.process.setBehaviour(behaviour);
    } catch (error) {
      throw new HttpError(
        400,
        "InvalidBehaviour",
        error instanceof Error ? error.message : String(error),
      );
    }
  }

  /** Removes the oldest inactive revisions beyond `maxInactiveRevisions`. */
  prune(app: ContainerApp): void {
    const limit = Number(app.configuration.maxInactiveRevisions ?? defaultMaxInactiveRevisions);
    const named = namedRevisions(app);
    const removable = app.revisions.filter(
      (revision) =>
        !revision.active && revision.name !== app.latestRevisionName && !named.has(revision.name),
    );
    const excess = removable.slice(0, Math.max(0, removable.length - limit));
    if (excess.length > 0) app.revisions = app.revisions.filter((r) => !excess.includes(r));
  }

  /** Stops every revision process of the given apps (the emulator is stopping). */
  stopAll(apps: ContainerApp[]): void {
    for (const app of apps) {
      for (const revision of app.revisions) this.#stopProcess(app, revision);
    }
  }

  /**
   * Starts the revision's process: Processing while it starts and for `provisioningMs`, then
   * Activating for the activation time, then Running (unless its fault keeps it from readiness).
   * An image that cannot be pulled fails it after `provisioningMs` instead: the promise resolves
   * with why, and otherwise at once with nothing.
   */
  #start(
    app: ContainerApp,
    revision: Revision,
    provisioningMs: number,
  ): Promise<string | undefined> {
    const generation = ++revision.generation;
    // The replica is named when it is scheduled; it is reported once its container runs.
    const replica = replicaNameFor(revision.name);
    revision.runningState = "Processing";
    revision.healthState = "None";
    revision.runningStateDetails = undefined;
    revision.replica = undefined;
    revision.moreReplicas = undefined;
    if (!revision.provisioned) {
      revision.provisioningState = "Provisioning";
      revision.provisioningError = undefined;
    }
    const current = () => generation === revision.generation && !this.#scheduler.stopped;
    if (revision.fault === "fail-provisioning") {
      return this.#scheduler.delay(provisioningMs).then(() => {
        if (!current()) return undefined;
        const detail = imagePullFailure(revision);
        this.#markFailed(app, revision, detail);
        return detail;
      });
    }
    const start = async () => {
      const [started] = await Promise.allSettled([
        this.#startProcess(this.#processOptions(app, revision, replica)),
        this.#scheduler.delay(provisioningMs),
      ]);
      if (!current()) {
        if (started.status === "fulfilled") await started.value.stop();
        return;
      }
      if (started.status === "rejected") {
        // The container exits before it ever listens: the service reports a crash loop.
        this.#markCrashing(app, revision, replica, exitCodeOf(started.reason));
        return;
      }
      const process = started.value;
      this.#attach(app, revision, process, replica);
      if (revision.fault === "never-ready" || revision.fault === "operation-expired") return;
      await this.#scheduler.delay(this.#timing.activationMs());
      if (current() && revision.process === process) this.#markReady(app, revision);
    };
    void this.#scheduler.track(start());
    return Promise.resolve(undefined);
  }

  /** Makes a started process the revision's replica (not ready yet), and a later exit a crash. */
  #attach(app: ContainerApp, revision: Revision, process: RevisionProcess, replica: string): void {
    revision.process = process;
    revision.replica = { name: replica, createdTime: new Date().toISOString(), state: "starting" };
    revision.moreReplicas = Array.from({ length: minReplicasOf(revision) - 1 }, () => ({
      name: replicaNameFor(revision.name),
      createdTime: new Date().toISOString(),
      state: "starting" as const,
    }));
    revision.provisioned = true;
    revision.provisioningState = "Provisioned";
    revision.runningState = "Activating";
    revision.healthState = "None";
    this.#logs.event(app, {
      revision: revision.name,
      replica,
      type: "Normal",
      reason: "AssigningReplica",
      message: `Replica '${replica}' has been scheduled to run on a node.`,
    });
    process.onExit((code) => {
      if (revision.process !== process) return;
      revision.generation += 1;
      revision.process = undefined;
      this.#markCrashing(app, revision, replica, code);
    });
  }

  #markReady(
    app: ContainerApp,
    revision: Revision,
    options: { replicasAtOnce?: boolean } = {},
  ): void {
    revision.runningState = "Running";
    revision.healthState = "Healthy";
    if (revision.replica) {
      revision.replica.state = "ready";
      revision.replica.readyTime = new Date().toISOString();
    }
    this.#startMoreReplicas(revision, options.replicasAtOnce === true);
    this.#logs.event(app, {
      revision: revision.name,
      type: "Normal",
      reason: "RevisionReady",
      message: `Successfully provisioned revision '${revision.name}'`,
    });
    const latestReady = app.latestReadyRevisionName
      ? findRevision(app, app.latestReadyRevisionName)
      : undefined;
    if (!latestReady || app.revisions.indexOf(revision) > app.revisions.indexOf(latestReady)) {
      app.latestReadyRevisionName = revision.name;
    }
    if (
      app.configuration.activeRevisionsMode === "Single" &&
      revision.name === app.latestRevisionName
    ) {
      this.retireOthers(app, revision);
    }
  }

  /** The replicas beyond the first become ready one after another (or at once, for a seed). */
  #startMoreReplicas(revision: Revision, atOnce: boolean): void {
    const generation = revision.generation;
    let delay = 0;
    for (const replica of revision.moreReplicas ?? []) {
      const ready = () => {
        if (generation !== revision.generation || replica.state !== "starting") return;
        replica.state = "ready";
        replica.readyTime = new Date().toISOString();
      };
      if (atOnce) {
        ready();
        continue;
      }
      delay += this.#timing.replicaStartMs();
      void this.#scheduler.delay(delay).then(() => {
        if (!this.#scheduler.stopped) ready();
      });
    }
  }

  /** The container keeps exiting: the revision stays active with one crashing replica. */
  #markCrashing(
    app: ContainerApp,
    revision: Revision,
    replica: string,
    exitCode: number | null | undefined,
  ): void {
    const provisioning = !revision.provisioned;
    if (provisioning) {
      revision.provisioningState = "Failed";
      revision.provisioningError = `Container crashing: ${revision.container}`;
    }
    revision.runningState = "Failed";
    revision.healthState = "Unhealthy";
    revision.runningStateDetails = `1/1 Container crashing: ${revision.container}`;
    for (const replica of revision.moreReplicas ?? []) replica.state = "crashing";
    revision.replica = {
      name: revision.replica?.name ?? replica,
      createdTime: revision.replica?.createdTime ?? new Date().toISOString(),
      state: "crashing",
    };
    this.#logs.event(app, {
      revision: revision.name,
      replica: revision.replica.name,
      type: "Warning",
      reason: "Error",
      message: `Container '${revision.container}' was terminated with exit code '${exitCode ?? "unknown"}'`,
    });
    if (provisioning) {
      this.#logs.event(app, {
        revision: revision.name,
        type: "Warning",
        reason: "RevisionProvisioningError",
        message: `Error provisioning revision ${revision.name}. ErrorCode: [ContainerCrashing]`,
      });
    }
  }

  /** The revision could not be provisioned at all: no replica. */
  #markFailed(app: ContainerApp, revision: Revision, detail: string): void {
    if (!revision.provisioned) revision.provisioningState = "Failed";
    revision.runningState = "Failed";
    revision.healthState = "Unhealthy";
    revision.provisioningError = detail;
    revision.replica = undefined;
    revision.moreReplicas = undefined;
    this.#logs.event(app, {
      revision: revision.name,
      type: "Warning",
      reason: "RevisionProvisioningError",
      message: `Error provisioning revision ${revision.name}. ErrorCode: [ErrImagePull]`,
    });
  }

  #deactivate(app: ContainerApp, revision: Revision): void {
    revision.active = false;
    revision.lastActiveTime = new Date().toISOString();
    const replica = revision.replica?.name;
    if (replica) {
      this.#logs.event(app, {
        revision: revision.name,
        replica,
        type: "Normal",
        reason: "StoppingContainer",
        message: `Stopping container '${revision.container}': revision '${revision.name}' was deactivated`,
      });
    }
    this.#stopProcess(app, revision);
    revision.runningState = "Stopped";
    revision.runningStateDetails = undefined;
  }

  /** Stops the process; its replica goes, and the streams that follow it end once it has exited. */
  #stopProcess(app: ContainerApp, revision: Revision): void {
    revision.generation += 1;
    const process = revision.process;
    const replica = revision.replica?.name;
    revision.process = undefined;
    revision.replica = undefined;
    revision.moreReplicas = undefined;
    const stopped = async () => {
      await process?.stop();
      if (replica) this.#logs.replicaStopped(app, revision.name, replica);
    };
    if (process || replica) void this.#scheduler.track(stopped());
  }

  /**
   * What the process runs (with its container's variables, secret references resolved), and where
   * what it prints goes: its replica container's console.
   */
  #processOptions(app: ContainerApp, revision: Revision, replica: string): StartRevisionOptions {
    const containers = (revision.template.containers as Json[] | undefined) ?? [];
    const first = containers.find((container) => container.name === revision.container);
    return {
      app: app.name,
      revision: revision.name,
      image: revision.image,
      env: first ? resolveEnv(first, app.configuration.secrets) : {},
      output: (stream, text) =>
        this.#logs.console(app, {
          revision: revision.name,
          replica,
          container: revision.container,
          image: revision.image,
          stream,
          text,
        }),
    };
  }
}

function exitCodeOf(error: unknown): number | null | undefined {
  return error instanceof RevisionExitError ? error.exitCode : undefined;
}

/** How many replicas the revision starts with: `scale.minReplicas`, and always one while active. */
function minReplicasOf(revision: Revision): number {
  const scale = revision.template.scale as Json | undefined;
  const min = typeof scale?.minReplicas === "number" ? scale.minReplicas : 0;
  return Math.max(1, min);
}

/**
 * The detail of an image pull failure, worded as the service words it
 * (Azure-Samples/call-center-voice-agent-accelerator#3, Azure-Samples/get-started-with-ai-chat#64).
 */
function imagePullFailure(revision: Revision): string {
  const tag = tagOf(revision.image);
  return (
    "The following field(s) are either invalid or missing. Field " +
    `'template.containers.${revision.container}.image' is invalid with details: 'Invalid value: ` +
    `"${revision.image}": GET https:: MANIFEST_UNKNOWN: manifest tagged by "${tag}" is not ` +
    `found; map[Tag:${tag}]';..`
  );
}

function tagOf(image: string): string {
  if (image.includes("@")) return image.slice(image.indexOf("@") + 1);
  const lastSlash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  return colon > lastSlash ? image.slice(colon + 1) : "latest";
}
