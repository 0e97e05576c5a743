import { DeployFailure } from "../failure.ts";
import type { AppState, EngineDeps, RevisionState } from "../ports.ts";
import { RolloutContext } from "../rollout/context.ts";
import { takeLease } from "../rollout/lease.ts";
import { promotionRecord, retire } from "../rollout/promote.ts";
import { waitReady } from "../rollout/readiness.ts";
import { recover } from "../rollout/recover.ts";
import { smoke } from "../rollout/candidate.ts";
import { refuseHeld, takeSnapshot } from "../rollout/snapshot.ts";
import { shiftSteps } from "../rollout/step.ts";
import { LAST_TAG, decodeLastPromotion, userTags } from "../tags.ts";
import { planRollout, weightsByRevision } from "../traffic/plan.ts";
import type { DeploymentReport, Inputs, TrafficWeight } from "../types.ts";

/**
 * `action: rollback`: back to the previous production revision (`rollback-to`, else the last
 * promotion recorded on the app, else the revision carrying the previous label). Activates it when
 * it is inactive and waits until it is ready, checks it on its own revision URL (unless
 * `skip-checks`), gives it 100% with the production label — at once, in the same write that
 * releases the lease, or through `traffic-steps`, each step baked and checked as a deploy's — and
 * deactivates the revisions that served before. A failure puts the traffic back as it was.
 */
export async function rollback(inputs: Inputs, deps: EngineDeps): Promise<DeploymentReport> {
  const ctx = new RolloutContext(inputs, deps);
  const { clock, log, signal, apps } = deps;
  try {
    // A rollback is the remedy for an app a dead run left half-shifted: it takes the dead run's
    // lease over and sets the traffic itself, rather than putting back that run's split first.
    const snapshot = await ctx.phase("Snapshot", () => takeSnapshot(ctx, { recoverDead: false }));
    const { app, revisions, traffic, fqdn } = snapshot;
    refuseHeld(app, "Run action: reject instead of rolling back.");
    const target = chooseTarget(app, revisions, traffic, inputs);
    ctx.report.candidate = target.name;
    ctx.report.image = target.containers[0]?.image;
    log.info(
      `Rolling ${app.name} back to ${target.name} (${target.active ? "active" : "inactive"})`,
    );
    if ((weightsByRevision(traffic).get(target.name) ?? 0) === 100) {
      return ctx.finish(
        "unchanged",
        `${target.name} already serves 100% of traffic; nothing to roll back.`,
        traffic,
      );
    }
    const plan = planRollout({
      initial: traffic,
      candidate: target.name,
      steps: ctx.weights,
      labels: ctx.labels,
      retireAtOnce: true,
    });
    ctx.report.previous = plan.previousProduction;
    const retiring = plan.retiring.filter((name) => name !== target.name);

    const journal = ctx.startJournal({
      candidate: target.name,
      // Only a revision this run woke up is put back to sleep when the rollback fails.
      createdCandidate: !target.active,
      keepFailedRevision: false,
      before: traffic,
      tags: userTags(app.tags),
    });
    // Until the first step's write: the activation, readiness and the checks.
    const untilFirstStep = inputs.readinessTimeoutMs + inputs.smokeTimeoutMs;
    await ctx.phase("Lease", () => takeLease(ctx, app, untilFirstStep));
    if (!target.active) {
      await ctx.phase("Activate", async () => {
        journal.recordWrite({ kind: "activate", revision: target.name }, clock.now());
        await apps.activateRevision(target.name, { signal });
        await waitReady(ctx, target.name);
      });
    }
    const revisionUrl = `https://${target.name}.${fqdn.slice(app.name.length + 1)}`;
    if (inputs.skipChecks) {
      log.warning(
        `\`skip-checks: true\`: ${target.name} gets traffic without being checked first.`,
      );
    } else {
      ctx.report.labelUrl = revisionUrl;
      await ctx.phase("Smoke checks", () =>
        smoke(
          ctx,
          revisionUrl,
          "Choose another revision with `rollback-to`, or use `skip-checks: true` in an emergency.",
        ),
      );
    }
    const last = plan.steps.length - 1;
    const final = await ctx.phase("Traffic shift", () =>
      shiftSteps(
        ctx,
        {
          revision: target.name,
          start: traffic,
          steps: plan.steps,
          weights: ctx.weights,
          checkUrl: () => revisionUrl,
          // The last write gives 100% and the lease back at once: nothing is left to bake.
          bakes: (index) => index < last && !inputs.skipChecks,
          promotion: () => promotionRecord(ctx, target.name, plan.previousProduction),
          nextSteps:
            "The previous traffic was restored; choose another revision with `rollback-to`.",
        },
        0,
        plan.steps.length,
      ),
    );
    await ctx.phase("Retire", () => retire(ctx, retiring, final));
    return ctx.finish(
      "rolled-back",
      `${target.name} serves 100% of traffic again${retiring.length ? `; ${retiring.join(", ")} deactivated` : ""}.`,
      final,
    );
  } catch (error) {
    return recover(ctx, error, { restoredResult: () => "failed" });
  }
}

/** The revision to go back to, and a clear error when there is none. */
function chooseTarget(
  app: AppState,
  revisions: RevisionState[],
  traffic: TrafficWeight[],
  inputs: Inputs,
): RevisionState {
  const last = decodeLastPromotion(app.tags[LAST_TAG]);
  const labelled = traffic.find((e) => e.label === inputs.previousLabel)?.revisionName;
  const name = inputs.rollbackTo ?? last?.previous ?? labelled;
  if (!name) {
    throw new DeployFailure(
      `No previous revision of ${app.name} is known: no promotion is recorded on the app and no revision has the label "${inputs.previousLabel}".`,
      { code: "NoRollbackTarget", nextSteps: "Name the revision with `rollback-to`." },
    );
  }
  const target = revisions.find((r) => r.name === name);
  if (!target) {
    throw new DeployFailure(
      `Revision ${name} does not exist in ${app.name} (it may have been pruned by maxInactiveRevisions).`,
      { code: "RevisionNotFound", nextSteps: "Name an existing revision with `rollback-to`." },
    );
  }
  return target;
}
