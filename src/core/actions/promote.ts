import { DeployFailure } from "../failure.ts";
import { labelUrl } from "../naming.ts";
import type { EngineDeps } from "../ports.ts";
import { planFor } from "../rollout/candidate.ts";
import { RolloutContext } from "../rollout/context.ts";
import { takeLease } from "../rollout/lease.ts";
import { startHeldJournal, takeHeldSnapshot } from "../rollout/held.ts";
import { HeldByGates, prepareGates } from "../rollout/gates.ts";
import { holdUndecided, promoteCandidate } from "../rollout/promote.ts";
import type { HeldDeployment } from "../tags.ts";
import { failedState, isReady } from "../rollout/readiness.ts";
import { recover } from "../rollout/recover.ts";
import { shiftSteps } from "../rollout/step.ts";
import type { DeploymentReport, Inputs } from "../types.ts";
import { deploySteps } from "./deploy.ts";

/**
 * `action: promote`: continue a held deployment from where it stopped, through its remaining
 * steps, to promotion — or, when a check fails or the run is cancelled, back to the held split with
 * the held record kept, so that the operator can promote or reject again.
 */
export async function promote(inputs: Inputs, deps: EngineDeps): Promise<DeploymentReport> {
  const ctx = new RolloutContext(inputs, deps);
  let origin: HeldDeployment | undefined;
  try {
    const { snapshot, held } = await takeHeldSnapshot(ctx, "promote");
    origin = held;
    // Labels and steps come from the held deploy, so promote continues exactly that plan.
    ctx.labels = held.labels;
    ctx.weights = held.steps;
    ctx.report.initialTraffic = held.before;
    ctx.report.labelUrl = labelUrl(snapshot.fqdn, snapshot.app.name, ctx.labels.candidate);
    const existing = snapshot.revisions.find((r) => r.name === held.candidate);
    if (!existing || !isReady(existing)) {
      throw new DeployFailure(
        `The held revision ${held.candidate} is not ready (${existing ? (failedState(existing) ?? "not running") : "it no longer exists"}).`,
        { code: "RevisionNotReady", nextSteps: "Reject the held deployment and deploy again." },
      );
    }
    if (inputs.gates) {
      await ctx.phase("Gates", () =>
        prepareGates(ctx, {
          appName: snapshot.app.name,
          fqdn: snapshot.fqdn,
          environmentId: snapshot.app.environmentId,
          stable: planFor(ctx, { traffic: held.before, candidate: held.candidate })
            .previousProduction,
          steps: ctx.weights.length - held.done,
        }),
      );
    }
    startHeldJournal(ctx, held, snapshot.app, "promote");
    await ctx.phase("Lease", () => takeLease(ctx, snapshot.app, 0));
    ctx.shifted = held.done > 0;
    const target = { candidate: held.candidate, fqdn: snapshot.fqdn, app: snapshot.app };
    const plan = planFor(ctx, { traffic: held.before, candidate: held.candidate });
    const traffic = await ctx.phase("Traffic shift", () =>
      shiftSteps(ctx, deploySteps(ctx, target, plan), held.done, ctx.weights.length),
    );
    return await promoteCandidate(ctx, held.candidate, plan, traffic);
  } catch (error) {
    if (error instanceof HeldByGates && origin) {
      // Held again, at the step whose gates lacked data, as the same deployment.
      return holdUndecided(ctx, origin.candidate, error, origin).catch((holdError: unknown) =>
        recover(ctx, holdError, { restoredResult: () => "failed" }),
      );
    }
    // Back to the held split, with the held record kept: promote or reject can run again.
    return recover(ctx, error, { restoredResult: () => "failed" });
  }
}
