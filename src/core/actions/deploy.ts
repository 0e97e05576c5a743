import { buildImage } from "../rollout/build.ts";
import {
  chooseCandidate,
  createCandidate,
  isAlreadyPromoted,
  planFor,
  smoke,
  type Target,
} from "../rollout/candidate.ts";
import { RolloutContext } from "../rollout/context.ts";
import { HeldByGates, prepareGates } from "../rollout/gates.ts";
import { hold, holdUndecided, promoteCandidate, promotionRecord } from "../rollout/promote.ts";
import { waitReady } from "../rollout/readiness.ts";
import { recoverDeploy } from "../rollout/recover.ts";
import { planRevision } from "../rollout/revision.ts";
import { refuseHeld, takeSnapshot } from "../rollout/snapshot.ts";
import { shiftSteps, type StepPlan } from "../rollout/step.ts";
import { labelUrl } from "../naming.ts";
import type { EngineDeps } from "../ports.ts";
import { formatTraffic } from "../report/format.ts";
import type { RolloutPlan } from "../traffic/plan.ts";
import type { DeploymentReport, Inputs } from "../types.ts";

/**
 * `action: deploy`: create the candidate at 0%, check it on its label URL, shift traffic step by
 * step while checking, promote — or put the app back exactly as it was. With `auto-promote:
 * false` it stops after the checks (at `hold-at`) and records the held deployment in the app's
 * tags. Never throws: every outcome, failures included, comes back as a report.
 */
export async function deploy(inputs: Inputs, deps: EngineDeps): Promise<DeploymentReport> {
  const ctx = new RolloutContext(inputs, deps);
  const holdAt = inputs.autoPromote ? 100 : (inputs.holdAt ?? 0);
  if (holdAt > 0 && holdAt < 100) ctx.weights = [...new Set([...ctx.weights, holdAt])];
  ctx.weights.sort((a, b) => a - b);
  try {
    const found = await ctx.phase("Snapshot", () =>
      takeSnapshot(ctx, { recoverDead: !inputs.dryRun }),
    );
    refuseHeld(found.app, "Run action: promote or action: reject first.");
    // Checked before a build: a plan that cannot go ahead stops the run before anything is built.
    if (deps.image) await planRevision(ctx, found, undefined, { quiet: true });
    const registries = deps.image
      ? await ctx.phase("Build image", () => buildImage(ctx, found.app))
      : undefined;
    const spec = await ctx.phase("Plan", () => planRevision(ctx, found, registries));
    const target = chooseCandidate(ctx, found, spec);
    if (target.existing && isAlreadyPromoted(target)) {
      return ctx.finish(
        "unchanged",
        `${target.candidate} already serves 100% with ${ctx.inputs.image}; nothing to do.`,
        target.traffic,
      );
    }
    if (inputs.gates) {
      await ctx.phase("Gates", () =>
        prepareGates(ctx, {
          appName: found.app.name,
          fqdn: found.fqdn,
          environmentId: found.app.environmentId,
          stable: ctx.report.previous,
          steps: ctx.weights.filter((weight) => weight <= holdAt).length,
        }),
      );
    }
    if (inputs.dryRun) return dryRun(ctx, planFor(ctx, target), target);
    // The build took a while: the candidate's write starts from a fresh read of the app.
    let chosen = target;
    if (deps.image) {
      const fresh = await takeSnapshot(ctx);
      chosen = chooseCandidate(
        ctx,
        fresh,
        await planRevision(ctx, fresh, registries, { quiet: true }),
      );
    }
    const plan = planFor(ctx, chosen);
    await ctx.phase("Create revision", () => createCandidate(ctx, chosen, chosen.app));
    await ctx.phase("Readiness", () => waitReady(ctx, chosen.candidate, chosen.spec.minReplicas));
    await ctx.phase("Smoke checks", () =>
      smoke(
        ctx,
        ctx.report.labelUrl ?? "",
        "Fix the release and deploy again; production traffic never reached it.",
      ),
    );
    const through = ctx.weights.filter((weight) => weight <= holdAt).length;
    const steps = deploySteps(ctx, chosen, plan);
    const traffic = await ctx.phase("Traffic shift", () => shiftSteps(ctx, steps, 0, through));
    if (!inputs.autoPromote) {
      const weight = await ctx.phase("Hold", () => hold(ctx, chosen.candidate, through, traffic));
      return ctx.finish(
        "held",
        `${chosen.candidate} passed its checks and is held at ${weight}% of traffic until a promote or reject run.`,
        traffic,
      );
    }
    return await promoteCandidate(ctx, chosen.candidate, plan, traffic);
  } catch (error) {
    if (error instanceof HeldByGates && ctx.report.candidate) {
      return holdUndecided(ctx, ctx.report.candidate, error).catch((holdError: unknown) =>
        recoverDeploy(ctx, holdError),
      );
    }
    return recoverDeploy(ctx, error);
  }
}

/** A deploy's steps: checked on the candidate's label, and on the production label once it has it. */
export function deploySteps(
  ctx: RolloutContext,
  target: Pick<Target, "candidate" | "fqdn" | "app">,
  plan: RolloutPlan,
): StepPlan {
  return {
    revision: target.candidate,
    start: plan.create,
    steps: plan.steps,
    weights: ctx.weights,
    checkUrl: (traffic) => {
      const label = traffic.find((e) => e.revisionName === target.candidate && e.label)?.label;
      return labelUrl(target.fqdn, target.app.name, label ?? ctx.labels.candidate);
    },
    bakes: () => true,
    promotion: () => promotionRecord(ctx, target.candidate, plan.previousProduction),
    nextSteps: "The previous traffic was restored; fix the release and deploy again.",
  };
}

function dryRun(ctx: RolloutContext, plan: RolloutPlan, target: Target): DeploymentReport {
  const { log } = ctx.deps;
  log.info(`Dry run: no change is made. Planned traffic:`);
  log.info(`  create: ${formatTraffic(plan.create)}`);
  plan.steps.forEach((step, i) => log.info(`  step ${i + 1}: ${formatTraffic(step)}`));
  ctx.report.plan = [plan.create, ...plan.steps];
  return ctx.finish(
    "unchanged",
    "Dry run: the plan was printed and nothing was changed.",
    target.traffic,
  );
}
