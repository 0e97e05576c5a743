import { DeployFailure, errorCode, errorMessage } from "../failure.ts";
import {
  JOURNAL_STATE_KEY,
  assertStillHeld,
  LAST_TAG,
  decodeHeldTags,
  encodeHeldTags,
  encodeLastPromotion,
  userTags,
  withTag,
  type DeployJournal,
  type HeldDeployment,
} from "../journal.ts";
import { acquireLease, assertLeaseHeld } from "../lease.ts";
import { ingressFqdn } from "../fqdn.ts";
import { deriveRevisionSuffix, isAcrLoginServer, labelUrl, revisionName } from "../naming.ts";
import type { AppState, EngineDeps, RegistryEntry, RevisionState } from "../ports.ts";
import { failedState, isReady, waitForRevisionReady } from "../readiness.ts";
import { formatDuration, formatStepProgress, formatTraffic } from "../report/format.ts";
import { currentTraffic, restoreSnapshot } from "../restore.ts";
import { bakeWithChecks, describeFailures, smokeCheck } from "../smoke.ts";
import {
  planRollout,
  sameTraffic,
  weightsByRevision,
  withoutRevisions,
  type RolloutLabels,
} from "../traffic/plan.ts";
import { totalWeight } from "../traffic/resolve.ts";
import { timedPhase } from "./report.ts";
import type { DeploymentReport, Inputs, PhaseTiming, StepRecord, TrafficWeight } from "../types.ts";

export const DEFAULT_POLL = { min: 500, max: 5_000 };
/** Margin on top of the planned duration before another run may take the lease over. */
const LEASE_MARGIN_MS = 15 * 60_000;

/** The app as the run found it, before its first write. */
export interface AppSnapshot {
  app: AppState;
  revisions: RevisionState[];
  traffic: TrafficWeight[];
  fqdn: string;
  containerName: string;
}

/** The snapshot and the revision this run deploys. */
interface Snapshot extends AppSnapshot {
  candidate: string;
  /** The candidate revision when it already exists (a rerun of the same release). */
  existing?: RevisionState;
}

/**
 * `action: deploy`: create the candidate at 0%, check it on its label URL, shift traffic step by
 * step while checking, promote — or put the app back exactly as it was. With `auto-promote:
 * false` it stops after the checks (at `hold-at`) and records the held deployment in the app's
 * tags. Never throws: every outcome, failures included, comes back as a report.
 */
export async function deploy(inputs: Inputs, deps: EngineDeps): Promise<DeploymentReport> {
  return new Rollout(inputs, deps).deploy();
}

/**
 * `action: promote`: continue a held deployment from where it stopped, through its remaining
 * steps, to promotion — or back to the pre-deploy traffic when a check fails.
 */
export async function promote(inputs: Inputs, deps: EngineDeps): Promise<DeploymentReport> {
  return new Rollout(inputs, deps).promote();
}

class Rollout {
  readonly #inputs: Inputs;
  readonly #deps: EngineDeps;
  readonly #phases: PhaseTiming[] = [];
  readonly #steps: StepRecord[] = [];
  readonly #report: DeploymentReport;
  readonly #phase: ReturnType<typeof timedPhase>;
  #labels: RolloutLabels;
  /** Candidate weights of the plan, ascending, ending at 100. */
  #weights: number[];
  #journal?: DeployJournal;
  /** Registries entry to add with the candidate, when managed-identity pull is being set up. */
  #registries?: RegistryEntry[];
  /** Whether any production traffic has been sent to the candidate. */
  #shifted = false;

  constructor(inputs: Inputs, deps: EngineDeps) {
    this.#inputs = { ...inputs };
    this.#deps = deps;
    this.#labels = {
      candidate: inputs.candidateLabel,
      production: inputs.productionLabel,
      previous: inputs.previousLabel,
    };
    const hold = inputs.autoPromote ? [] : [inputs.holdAt ?? 0].filter((w) => w > 0);
    this.#weights = [...new Set([...inputs.trafficSteps, ...hold])].sort((a, b) => a - b);
    this.#report = {
      action: inputs.action,
      app: inputs.containerApp,
      resourceGroup: inputs.resourceGroup,
      image: inputs.image,
      result: "failed",
      reason: "",
      initialTraffic: [],
      finalTraffic: [],
      steps: this.#steps,
      phases: this.#phases,
      dryRun: inputs.dryRun,
    };
    this.#phase = timedPhase(this.#report, deps);
  }

  async deploy(): Promise<DeploymentReport> {
    let snapshot: Snapshot | undefined;
    try {
      const found = await this.#phase("Snapshot", () => this.#snapshot());
      refuseHeld(found.app);
      if (this.#deps.image) await this.#phase("Build image", () => this.#build(found));
      snapshot = this.#chooseCandidate(found);
      if (snapshot.existing && this.#isAlreadyPromoted(snapshot)) {
        return this.#finish(
          "unchanged",
          `${snapshot.candidate} already serves 100% with ${this.#inputs.image}; nothing to do.`,
          snapshot.traffic,
        );
      }
      if (this.#inputs.dryRun) return this.#dryRun(snapshot);
      const leased = await this.#phase("Lease", () => this.#takeLease(snapshot!.app));
      await this.#phase("Create revision", () => this.#createCandidate(snapshot!, leased));
      await this.#phase("Readiness", () => this.#waitReady(snapshot!));
      await this.#phase("Smoke checks", () => this.#smoke());
      const holdAt = this.#inputs.autoPromote ? 100 : (this.#inputs.holdAt ?? 0);
      const through = this.#weights.filter((weight) => weight <= holdAt).length;
      const traffic = await this.#phase("Traffic shift", () => this.#shift(snapshot!, 0, through));
      if (!this.#inputs.autoPromote)
        return await this.#phase("Hold", () => this.#hold(snapshot!, through, traffic));
      const settled = await this.#phase("Promote", () => this.#promote(snapshot!, traffic));
      return this.#finish(
        "promoted",
        `${snapshot.candidate} passed every check and serves 100% of traffic.`,
        settled,
      );
    } catch (error) {
      return this.#fail(error, snapshot);
    }
  }

  async promote(): Promise<DeploymentReport> {
    let snapshot: Snapshot | undefined;
    try {
      const { found, held } = await this.#phase("Snapshot", async () => {
        const found = await this.#snapshot();
        const held = decodeHeldTags(found.app.tags);
        if (!held) {
          throw new DeployFailure(`${found.app.name} has no held deployment to promote.`, {
            code: "NothingHeld",
            nextSteps: "Deploy with `auto-promote: false` first, or use `action: deploy`.",
          });
        }
        assertStillHeld(found.app.name, found.traffic, held);
        return { found, held };
      });
      this.#resumeFrom(held);
      const existing = found.revisions.find((r) => r.name === held.candidate);
      snapshot = { ...found, traffic: held.snapshot, candidate: held.candidate, existing };
      this.#report.initialTraffic = held.snapshot;
      this.#report.image = held.image;
      this.#report.labelUrl = labelUrl(found.fqdn, found.app.name, this.#labels.candidate);
      if (!existing || !isReady(existing)) {
        throw new DeployFailure(
          `The held revision ${held.candidate} is not ready (${existing ? (failedState(existing) ?? "not running") : "it no longer exists"}).`,
          { code: "RevisionNotReady", nextSteps: "Reject the held deployment and deploy again." },
        );
      }
      const leased = await this.#phase("Lease", () => this.#takeLease(found.app));
      this.#startJournal(snapshot, held.createdCandidate, leased);
      this.#shifted = held.done > 0;
      const traffic = await this.#phase("Traffic shift", () =>
        this.#shift(snapshot!, held.done, this.#weights.length),
      );
      const settled = await this.#phase("Promote", () => this.#promote(snapshot!, traffic));
      return this.#finish(
        "promoted",
        `${held.candidate} passed every check and serves 100% of traffic.`,
        settled,
      );
    } catch (error) {
      return this.#fail(error, snapshot);
    }
  }

  /** Labels and steps come from the held deploy, so promote continues exactly that plan. */
  #resumeFrom(held: HeldDeployment): void {
    this.#labels = held.labels;
    this.#weights = held.steps;
    this.#report.candidate = held.candidate;
  }

  /** Builds and pushes the image; the revision then runs exactly what was built, by digest. */
  async #build(found: AppSnapshot): Promise<void> {
    const source = this.#deps.image!;
    const build = this.#inputs.build;
    if (build) this.#checkPullAccess(found, build.registry);
    this.#deps.log.info(`Building ${source.describe()}`);
    try {
      const built = await source.build(this.#deps.signal);
      this.#inputs.image = built.image;
      this.#report.image = built.image;
      this.#deps.log.info(`Pushed ${built.image}`);
    } catch (error) {
      throw new DeployFailure(
        `The image build failed, so nothing was deployed: ${errorMessage(error)}`,
        {
          code: errorCode(error) ?? "BuildFailed",
          nextSteps:
            'Fix the build (its output is in the "Build image" group above) and run again.',
          cause: error,
        },
      );
    }
  }

  /**
   * The app must be able to pull what is about to be built: checked before the build, so that a
   * missing registry entry fails fast and before any write. With registry-identity, the entry is
   * added in the same PATCH that creates the revision.
   */
  #checkPullAccess(found: AppSnapshot, registry: string): void {
    const { apps, log } = this.#deps;
    const access = apps.describePullAccess(registry, this.#inputs.registryIdentity);
    if (access.configured) {
      log.info(access.message);
      return;
    }
    if (access.registries) {
      log.info(
        `${found.app.name} has no entry for ${registry}; adding managed-identity pull (${this.#inputs.registryIdentity}) with the new revision.`,
      );
      this.#registries = access.registries;
      return;
    }
    if (!isAcrLoginServer(registry)) {
      // Another registry may serve the image anonymously; only an ACR always needs a login.
      log.warning(`${access.message} This only works if ${registry} allows anonymous pulls.`);
      return;
    }
    throw new DeployFailure(access.message, {
      code: "RegistryAccessMissing",
      nextSteps:
        "Give the app access to the registry (or set `registry-identity`), then run again. Nothing was built or changed.",
    });
  }

  async #snapshot(): Promise<AppSnapshot> {
    const { apps, log } = this.#deps;
    const inputs = this.#inputs;
    const [app, revisions] = await Promise.all([apps.getApp(), apps.listRevisions()]);
    if (!app.ingress) {
      throw new DeployFailure(
        `Container app ${app.name} has no ingress, so traffic cannot be split between revisions.`,
        {
          code: "IngressDisabled",
          nextSteps: `Enable ingress on ${app.name} (\`az containerapp ingress enable -n ${app.name} -g ${inputs.resourceGroup} --type external --target-port\` with the port the container listens on), then run again.`,
        },
      );
    }
    if (app.activeRevisionsMode.toLowerCase() === "labels") {
      throw new DeployFailure(
        `Container app ${app.name} uses the Labels revision mode, which routes by label only; this deployment needs weights.`,
        {
          code: "UnsupportedRevisionMode",
          nextSteps: `Switch ${app.name} to Multiple revision mode (\`az containerapp revision set-mode -n ${app.name} -g ${inputs.resourceGroup} --mode multiple\`), then run again.`,
        },
      );
    }
    const fqdn = (await ingressFqdn(apps, app)) ?? "";
    const traffic = currentTraffic(app);
    if (totalWeight(traffic) !== 100) {
      throw new DeployFailure(
        `The app's traffic adds up to ${totalWeight(traffic)}%, not 100% (${formatTraffic(traffic)}).`,
        { code: "InvalidTraffic", nextSteps: "Fix the app's traffic split, then run again." },
      );
    }
    const active = new Set(revisions.filter((r) => r.active).map((r) => r.name));
    const dark = traffic.filter((e) => e.weight > 0 && !active.has(e.revisionName));
    if (dark.length > 0) {
      log.warning(
        `Traffic already points at inactive revisions: ${formatTraffic(dark)}. Restoring the snapshot would keep that outage.`,
      );
    }
    const containerName = inputs.containerName ?? app.containers[0]?.name;
    if (
      inputs.action === "deploy" &&
      (!containerName || !app.containers.some((c) => c.name === containerName))
    ) {
      throw new DeployFailure(
        `\`container-name\`: the app has no container "${inputs.containerName}" (it has ${app.containers.map((c) => c.name).join(", ") || "none"}).`,
        { code: "ContainerNotFound" },
      );
    }
    this.#report.initialTraffic = traffic;
    this.#report.appUrl = `https://${fqdn}`;
    log.info(
      `App ${app.name} (${app.activeRevisionsMode} revision mode), ${revisions.length} revisions, ${active.size} active`,
    );
    log.info(`Traffic now: ${formatTraffic(traffic)}`);
    return { app, revisions, traffic, fqdn, containerName: containerName ?? "" };
  }

  /** Names the candidate: from revision-suffix, or derived from the commit and image. */
  #chooseCandidate(found: AppSnapshot): Snapshot {
    const { log, run } = this.#deps;
    const inputs = this.#inputs;
    const { app, revisions, traffic, fqdn, containerName } = found;
    const suffix = inputs.revisionSuffix ?? deriveRevisionSuffix(run.commitSha, inputs.image ?? "");
    const candidate = revisionName(app.name, suffix);
    const existing = revisions.find((r) => r.name === candidate);
    if (existing) {
      const image = existing.containers.find((c) => c.name === containerName)?.image;
      if (image !== inputs.image) {
        throw new DeployFailure(
          `Revision ${candidate} already exists with image ${image ?? "unknown"}, not ${inputs.image}. A revision's image cannot change.`,
          {
            code: "RevisionSuffixInUse",
            nextSteps: "Set `revision-suffix` to a new value for this image.",
          },
        );
      }
    }
    this.#report.previous = planRollout({
      initial: traffic,
      candidate,
      steps: [100],
      labels: this.#labels,
      retireAtOnce: false,
    }).previousProduction;
    this.#report.candidate = candidate;
    this.#report.labelUrl = labelUrl(fqdn, app.name, this.#labels.candidate);
    log.info(
      `Candidate: ${candidate}${existing ? " (exists already; reused)" : ""}, image ${inputs.image}`,
    );
    return { ...found, candidate, existing };
  }

  #isAlreadyPromoted(snapshot: Snapshot): boolean {
    const weights = weightsByRevision(snapshot.traffic);
    return snapshot.existing?.active === true && weights.get(snapshot.candidate) === 100;
  }

  #plan(snapshot: Snapshot) {
    const inputs = this.#inputs;
    return planRollout({
      initial: snapshot.traffic,
      candidate: snapshot.candidate,
      steps: this.#weights,
      labels: this.#labels,
      retireAtOnce: inputs.deactivatePrevious && inputs.scaleDownDelayMs === 0,
    });
  }

  #dryRun(snapshot: Snapshot): DeploymentReport {
    const plan = this.#plan(snapshot);
    const { log } = this.#deps;
    log.info(`Dry run: no change is made. Planned traffic:`);
    log.info(`  create: ${formatTraffic(plan.create)}`);
    plan.steps.forEach((step, i) => log.info(`  step ${i + 1}: ${formatTraffic(step)}`));
    this.#report.plan = [plan.create, ...plan.steps];
    return this.#finish(
      "unchanged",
      "Dry run: the plan was printed and nothing was changed.",
      snapshot.traffic,
    );
  }

  #takeLease(app: AppState): Promise<AppState> {
    const inputs = this.#inputs;
    const planned =
      inputs.readinessTimeoutMs +
      inputs.smokeTimeoutMs +
      this.#weights.length * inputs.stepWaitMs +
      inputs.scaleDownDelayMs;
    return acquireLease(app, planned + LEASE_MARGIN_MS, this.#deps);
  }

  /** Saves what a restore needs in the host's state before the first write that moves traffic. */
  #startJournal(snapshot: Snapshot, createdCandidate: boolean, leased: AppState): void {
    const inputs = this.#inputs;
    this.#journal = {
      version: 1,
      subscriptionId: inputs.subscriptionId,
      resourceGroup: inputs.resourceGroup,
      app: snapshot.app.name,
      runId: this.#deps.run.runId,
      candidate: snapshot.candidate,
      createdCandidate,
      keepFailedRevision: inputs.keepFailedRevision,
      snapshot: snapshot.traffic,
      tags: userTags(leased.tags),
      phase: "shifting",
    };
    this.#deps.state.save(JOURNAL_STATE_KEY, JSON.stringify(this.#journal));
  }

  async #createCandidate(snapshot: Snapshot, leased: AppState): Promise<void> {
    const { apps, log, run, signal } = this.#deps;
    const inputs = this.#inputs;
    const plan = this.#plan(snapshot);
    this.#startJournal(snapshot, !snapshot.existing, leased);
    const single = snapshot.app.activeRevisionsMode.toLowerCase() === "single";
    if (single) {
      log.warning(
        `${snapshot.app.name} is in Single revision mode; switching it to Multiple so that two revisions can share traffic.`,
      );
    }
    // A run that took the app at the same moment would have replaced our lease by now.
    assertLeaseHeld(await apps.getApp({ signal }), run, "while this run took its lease");
    if (snapshot.existing) {
      if (!snapshot.existing.active) await apps.activateRevision(snapshot.candidate, { signal });
      await apps.updateTraffic(plan.create, undefined, { signal });
      log.info(`Reusing ${snapshot.candidate} at 0% with label ${this.#labels.candidate}`);
      return;
    }
    const app = await apps.createRevision(
      {
        revisionSuffix: snapshot.candidate.slice(snapshot.app.name.length + 2),
        containerName: snapshot.containerName,
        image: inputs.image ?? "",
        traffic: plan.create,
        multipleRevisions: single,
        ...(this.#registries ? { registries: this.#registries } : {}),
      },
      { signal },
    );
    this.#assertTraffic(app, plan.create, "creating the candidate");
    log.info(`Created ${snapshot.candidate} at 0% with label ${this.#labels.candidate}`);
  }

  async #waitReady(snapshot: Snapshot): Promise<void> {
    const { clock, log, signal } = this.#deps;
    const inputs = this.#inputs;
    await waitForRevisionReady(this.#deps.apps, snapshot.candidate, {
      clock,
      log,
      signal,
      deadline: clock.now() + inputs.readinessTimeoutMs,
      timeoutText: `\`readiness-timeout\` (${formatDuration(inputs.readinessTimeoutMs)})`,
      interval: this.#deps.pollIntervalMs ?? DEFAULT_POLL,
      resourceGroup: inputs.resourceGroup,
    });
  }

  async #smoke(): Promise<void> {
    try {
      this.#report.smoke = await smokeCheck(this.#report.labelUrl ?? "", this.#inputs, this.#deps, {
        code: "SmokeChecksFailed",
        nextSteps: "Fix the release and deploy again; production traffic never reached it.",
      });
    } catch (error) {
      const round = (error as { round?: DeploymentReport["smoke"] }).round;
      if (round) this.#report.smoke = round;
      throw error;
    }
  }

  /** Shifts through plan steps `from` (inclusive) to `to` (exclusive), baking each. */
  async #shift(snapshot: Snapshot, from: number, to: number): Promise<TrafficWeight[]> {
    const { apps, clock, log, signal } = this.#deps;
    const inputs = this.#inputs;
    const plan = this.#plan(snapshot);
    let traffic = from === 0 ? plan.create : plan.steps[from - 1];
    const total = plan.steps.length;
    for (let i = from; i < to; i++) {
      const target = plan.steps[i];
      const weight = this.#weights[i];
      const started = clock.now();
      const record: StepRecord = {
        index: i + 1,
        weight,
        traffic: target,
        startedAt: started,
        durationMs: 0,
        checksPassed: 0,
        checksRun: 0,
        ok: false,
      };
      this.#steps.push(record);
      const progress = () =>
        formatStepProgress({
          index: i + 1,
          total,
          weight,
          label: this.#labels.candidate,
          bakeMs: inputs.stepWaitMs,
          checksPassed: record.checksPassed,
          checksRun: record.checksRun,
        });
      const app = await apps.updateTraffic(target, undefined, { signal });
      this.#shifted = true;
      this.#assertTraffic(app, target, `step ${i + 1}`);
      traffic = target;
      log.info(`${progress()}: ${formatTraffic(target)}`);
      try {
        await this.#bake(record, snapshot, target);
        record.ok = true;
      } finally {
        record.durationMs = clock.now() - started;
      }
      log.info(`${progress()} (${formatDuration(record.durationMs)})`);
    }
    return traffic;
  }

  /** Keeps the checks running for the step's bake, then confirms traffic, health and lease held. */
  async #bake(record: StepRecord, snapshot: Snapshot, expected: TrafficWeight[]): Promise<void> {
    const { apps, run, signal } = this.#deps;
    const inputs = this.#inputs;
    // The last step moves the production label to the candidate: check it where it now answers.
    const label = expected.find((e) => e.revisionName === snapshot.candidate && e.label)?.label;
    const baseUrl = labelUrl(snapshot.fqdn, snapshot.app.name, label ?? this.#labels.candidate);
    const failed = await bakeWithChecks(baseUrl, inputs.stepWaitMs, inputs, this.#deps, (round) => {
      record.checksRun += round.results.length;
      record.checksPassed += round.results.filter((r) => r.ok).length;
    });
    if (failed) {
      record.failure = describeFailures(failed);
      record.failedRound = failed;
      throw new DeployFailure(
        `Checks failed at step ${record.index} (${record.weight}% to ${snapshot.candidate}): ${record.failure}.`,
        {
          code: "ChecksFailedDuringShift",
          nextSteps: "The previous traffic was restored; fix the release and deploy again.",
        },
      );
    }
    const [app, revision] = await Promise.all([
      apps.getApp({ signal }),
      apps.getRevision(snapshot.candidate, { signal }),
    ]);
    assertLeaseHeld(app, run, `during step ${record.index}`);
    if (!isReady(revision)) {
      record.failure = `revision is ${failedState(revision) ?? "no longer ready"}`;
      throw new DeployFailure(
        `${snapshot.candidate} became unhealthy at step ${record.index}: ${record.failure}.`,
        {
          code: "RevisionUnhealthy",
          nextSteps: "The previous traffic was restored; look at the revision's logs.",
        },
      );
    }
    if (!sameTraffic(currentTraffic(app), expected)) {
      record.failure = "traffic was changed by someone else";
      throw new ExternalChange(
        `Traffic of ${app.name} was changed by someone else during step ${record.index}: expected ${formatTraffic(expected)}, found ${formatTraffic(currentTraffic(app))}. It was left as found.`,
      );
    }
  }

  /** Records the held deployment in the app's tags and gives the lease back. */
  async #hold(
    snapshot: Snapshot,
    done: number,
    traffic: TrafficWeight[],
  ): Promise<DeploymentReport> {
    const { apps, clock, log, run, signal } = this.#deps;
    const journal = this.#journal!;
    const held: HeldDeployment = {
      candidate: snapshot.candidate,
      createdCandidate: journal.createdCandidate,
      image: this.#inputs.image,
      snapshot: snapshot.traffic,
      traffic,
      steps: this.#weights,
      done,
      labels: this.#labels,
      holder: run.holder,
      at: new Date(clock.now()).toISOString(),
    };
    await apps.updateTags({ ...journal.tags, ...encodeHeldTags(held) }, { signal });
    this.#markSettled();
    const weight = weightsByRevision(traffic).get(snapshot.candidate) ?? 0;
    log.info(
      `Held at ${weight}% to ${snapshot.candidate}; run action: promote or action: reject to finish.`,
    );
    return this.#finish(
      "held",
      `${snapshot.candidate} passed its checks and is held at ${weight}% of traffic until a promote or reject run.`,
      traffic,
    );
  }

  async #promote(snapshot: Snapshot, final: TrafficWeight[]): Promise<TrafficWeight[]> {
    const { apps, clock, log, signal } = this.#deps;
    const inputs = this.#inputs;
    const plan = this.#plan(snapshot);
    const retiring = plan.retiring.filter((name) => name !== snapshot.candidate);
    this.#report.previous = plan.previousProduction;
    const tags = withTag(
      this.#journal?.tags ?? {},
      LAST_TAG,
      encodeLastPromotion({
        revision: snapshot.candidate,
        previous: plan.previousProduction,
        at: new Date(clock.now()).toISOString(),
      }),
    );
    let traffic = final;
    if (inputs.deactivatePrevious && retiring.length > 0) {
      if (inputs.scaleDownDelayMs > 0) {
        log.info(
          `Keeping ${retiring.join(", ")} active for \`scale-down-delay\` (${formatDuration(inputs.scaleDownDelayMs)})`,
        );
        await clock.sleep(inputs.scaleDownDelayMs, signal);
        traffic = withoutRevisions(final, retiring);
        const app = await apps.updateTraffic(traffic, undefined, { signal });
        this.#assertTraffic(app, traffic, "retiring the previous revisions");
      }
      const weights = weightsByRevision(traffic);
      for (const name of retiring) {
        if ((weights.get(name) ?? 0) > 0) {
          log.warning(`Not deactivating ${name}: it still has ${weights.get(name)}% of traffic.`);
          continue;
        }
        await apps.deactivateRevision(name, { signal });
        log.info(`Deactivated ${name}`);
      }
    }
    this.#markSettled();
    await apps.updateTags(tags, { signal });
    log.info(`Lease released; ${this.#labels.production} -> ${snapshot.candidate}`);
    return traffic;
  }

  #assertTraffic(app: AppState, expected: TrafficWeight[], when: string): void {
    const actual = currentTraffic(app);
    if (!sameTraffic(actual, expected)) {
      throw new ExternalChange(
        `After ${when}, ${app.name} routes ${formatTraffic(actual)} instead of ${formatTraffic(expected)}. It was left as found.`,
      );
    }
  }

  #markSettled(): void {
    if (!this.#journal) return;
    this.#journal.phase = "settled";
    this.#deps.state.save(JOURNAL_STATE_KEY, JSON.stringify(this.#journal));
  }

  async #fail(error: unknown, snapshot: Snapshot | undefined): Promise<DeploymentReport> {
    const { apps, clock, log } = this.#deps;
    const cancelled = this.#deps.signal?.aborted === true;
    const reason = cancelled ? "The run was cancelled." : errorMessage(error);
    const code = cancelled ? "Cancelled" : errorCode(error);
    this.#report.errorCode = code;
    this.#report.nextSteps = error instanceof DeployFailure ? error.nextSteps : undefined;
    log.info(`Stopping: ${reason}${code ? ` [${code}]` : ""}`);
    if (!this.#journal || !snapshot) {
      this.#report.nextSteps ??= "Nothing was changed; fix the cause and run again.";
      return this.#finish("failed", reason, snapshot?.traffic ?? []);
    }
    if (error instanceof ExternalChange || code === "LeaseLost") {
      // Someone else's change is never silently overwritten, and their lease is theirs.
      this.#markSettled();
      if (code !== "LeaseLost") {
        await this.#deps.apps
          .updateTags(this.#journal.tags)
          .catch((e) => log.warning(`Could not release the lease: ${errorMessage(e)}`));
      }
      this.#report.nextSteps ??= "Decide which traffic split is right, set it, and deploy again.";
      const now = await apps.getApp().catch(() => snapshot.app);
      return this.#finish("failed", reason, currentTraffic(now));
    }
    const result = this.#shifted ? "rolled-back" : "failed-before-traffic";
    try {
      const journal = this.#journal;
      const restored = await this.#phase("Restore", async () => {
        const outcome = await restoreSnapshot(apps, journal, { log, clock });
        log.info(`Traffic restored: ${formatTraffic(outcome.traffic)}`);
        if (outcome.candidateDeactivated) log.info(`Deactivated ${journal.candidate}`);
        return outcome.traffic;
      });
      this.#markSettled();
      return this.#finish(result, reason, restored);
    } catch (restoreError) {
      const journal = this.#journal;
      this.#report.nextSteps = `Restoring the previous traffic failed (${errorMessage(restoreError)}). Set it by hand: az containerapp ingress traffic set -n ${journal.app} -g ${journal.resourceGroup} --revision-weight ${journal.snapshot.map((e) => `${e.revisionName}=${e.weight}`).join(" ")}`;
      log.error(this.#report.nextSteps);
      return this.#finish("failed", `${reason} Restoring the previous traffic failed too.`, []);
    }
  }

  #finish(
    result: DeploymentReport["result"],
    reason: string,
    finalTraffic: TrafficWeight[],
  ): DeploymentReport {
    this.#report.result = result;
    this.#report.reason = reason;
    this.#report.finalTraffic = finalTraffic;
    return this.#report;
  }
}

/** A new deploy must not run over a held one: promote or reject it first. */
function refuseHeld(app: AppState): void {
  const held = decodeHeldTags(app.tags);
  if (held) {
    throw new DeployFailure(
      `A deployment of ${held.candidate} is held on ${app.name} (since ${held.at}, by ${held.holder}).`,
      { code: "DeploymentHeld", nextSteps: "Run action: promote or action: reject first." },
    );
  }
}

/** Someone else changed the app mid-run: report it, never overwrite it. */
class ExternalChange extends DeployFailure {
  constructor(message: string) {
    super(message, { code: "TrafficChangedExternally" });
  }
}
