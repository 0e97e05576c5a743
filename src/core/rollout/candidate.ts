/**
 * Phase "Create revision": the candidate is named from the commit (or revision-suffix) and created
 * in one PATCH at 0% under its label, with every existing weight pinned by revision name and the
 * run's lease in the tags; then it is smoke-checked where only it answers.
 */
import { DeployFailure, SmokeChecksFailed } from "../failure.ts";
import type { JournalStart } from "../journal.ts";
import { smokeCheck } from "../checks/smoke.ts";
import { deriveRevisionSuffix, labelUrl, revisionName } from "../naming.ts";
import type { AppState, RevisionState } from "../ports.ts";
import type { CandidateSpec } from "../revision/plan.ts";
import { userTags } from "../tags.ts";
import { planRollout, weightsByRevision, type RolloutPlan } from "../traffic/plan.ts";
import type { TrafficWeight } from "../types.ts";
import type { RolloutContext } from "./context.ts";
import { leaseTags, takeApp } from "./lease.ts";
import type { AppSnapshot } from "./snapshot.ts";
import { assertTraffic } from "./step.ts";

/** The snapshot and the revision a deploy rolls out. */
export interface Target extends AppSnapshot {
  candidate: string;
  containerName: string;
  /** The new revision's template and the rest of its write. */
  spec: CandidateSpec;
  /** The candidate when it exists already (a rerun of the same release). */
  existing?: RevisionState;
}

/**
 * Names the candidate: `revision-suffix`, else the template file's suffix, else derived from the
 * commit and image (and from the template when the inputs shape it, so that other settings of the
 * same commit make another revision).
 */
export function chooseCandidate(
  ctx: RolloutContext,
  found: AppSnapshot,
  spec: CandidateSpec,
): Target {
  const { log, run } = ctx.deps;
  const { inputs } = ctx;
  const { app, revisions, traffic, fqdn } = found;
  const containerName = spec.containerName;
  const suffix =
    inputs.revisionSuffix ??
    spec.fileSuffix ??
    deriveRevisionSuffix(run.commitSha, inputs.image ?? "", spec.fingerprint);
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
  ctx.report.previous = planFor(ctx, { traffic, candidate }, [100]).previousProduction;
  ctx.report.candidate = candidate;
  ctx.report.labelUrl = labelUrl(fqdn, app.name, ctx.labels.candidate);
  log.info(
    `Candidate: ${candidate}${existing ? " (exists already; reused)" : ""}, image ${inputs.image}`,
  );
  return { ...found, candidate, containerName, spec, existing };
}

/** Whether the release already serves everything (a rerun after success changes nothing). */
export function isAlreadyPromoted(target: Target): boolean {
  const weights = weightsByRevision(target.traffic);
  return target.existing?.active === true && weights.get(target.candidate) === 100;
}

/** The rollout plan from `traffic` to `candidate` through `steps` (the context's by default). */
export function planFor(
  ctx: RolloutContext,
  target: { traffic: TrafficWeight[]; candidate: string },
  steps: number[] = ctx.weights,
  retireAtOnce = ctx.inputs.deactivatePrevious && ctx.inputs.scaleDownDelayMs === 0,
): RolloutPlan {
  return planRollout({
    initial: target.traffic,
    candidate: target.candidate,
    steps,
    labels: ctx.labels,
    retireAtOnce,
  });
}

/**
 * Creates the candidate at 0% under its label — or, on a rerun, puts the existing one there — in
 * the write that also takes the lease: the journal is started first, and the app was read fresh
 * just before (`fresh`), so a run that holds it stops this one before any change.
 */
export async function createCandidate(
  ctx: RolloutContext,
  target: Target,
  fresh: AppState,
): Promise<void> {
  const { apps, clock, log, signal } = ctx.deps;
  const { inputs } = ctx;
  const { spec } = target;
  const plan = planFor(ctx, target);
  ctx.appScope = spec.restore;
  const journal = ctx.startJournal({
    candidate: target.candidate,
    createdCandidate: !target.existing,
    keepFailedRevision: inputs.keepFailedRevision,
    before: target.traffic,
    tags: userTags(fresh.tags),
    appScope: journalAppScope(spec),
  });
  // The lease lasts until the first step's write: readiness, then the smoke checks.
  const untilFirstStep = inputs.readinessTimeoutMs + inputs.smokeTimeoutMs;
  const app = await takeApp(ctx, fresh, (app, options) => {
    const tags = leaseTags(ctx, app, untilFirstStep, plan.create);
    journal.recordWrite({ kind: "create", traffic: plan.create }, clock.now());
    if (target.existing) {
      // A rerun reuses its revision; what the application scope still lacks rides on this write.
      const { registries, secrets, configuration } = spec.write;
      const fields = { ...configuration, ...(registries && { registries }) };
      return apps.updateTraffic(plan.create, {
        ...options,
        tags,
        ...(Object.keys(fields).length > 0 && { configuration: fields }),
        ...(secrets && { secrets }),
      });
    }
    return apps.createRevision(
      {
        revisionSuffix: target.candidate.slice(target.app.name.length + 2),
        template: spec.template,
        traffic: plan.create,
        multipleRevisions: spec.write.multipleRevisions,
        tags,
        ...(spec.write.registries && { registries: spec.write.registries }),
        ...(spec.write.secrets && { secrets: spec.write.secrets }),
        ...(spec.write.configuration && { configuration: spec.write.configuration }),
      },
      options,
    );
  });
  ctx.leaseHeld = true;
  assertTraffic(app, plan.create, "creating the candidate");
  journal.confirm(plan.create);
  if (target.existing && !target.existing.active) {
    // At 0% it serves nothing yet; it is woken only once the app is this run's.
    journal.recordWrite({ kind: "activate", revision: target.candidate }, clock.now());
    await apps.activateRevision(target.candidate, { signal });
  }
  log.info(
    `${target.existing ? "Reusing" : "Created"} ${target.candidate} at 0% with label ${ctx.labels.candidate}; lease taken until the first step`,
  );
}

/** What the journal keeps of the application scope: never a secret value. */
function journalAppScope(spec: CandidateSpec): NonNullable<JournalStart["appScope"]> {
  return {
    ...(spec.restore.configuration && { configuration: spec.restore.configuration }),
    addedSecrets: spec.addedSecrets,
    changedSecrets: spec.restore.changedSecrets,
    notRestorable: spec.restore.notRestorable,
  };
}

/**
 * Phase "Smoke checks": the checks run on `url` until a round passes or smoke-timeout runs out;
 * the round (passing or failing) goes into the report.
 */
export async function smoke(ctx: RolloutContext, url: string, nextSteps: string): Promise<void> {
  try {
    ctx.report.smoke = await smokeCheck(url, ctx.inputs, ctx.deps, nextSteps);
  } catch (error) {
    if (error instanceof SmokeChecksFailed) ctx.report.smoke = error.round;
    throw error;
  }
}
