/**
 * Phases "Promote" and "Hold": how a rollout ends when its checks passed. The last step's write
 * gave the candidate 100% under the production label, gave the lease back and recorded the
 * promotion; promotion then retires the revisions the run took the traffic from (never one that
 * still has weight, never one the run did not take traffic from). A hold records the deployment
 * in the app's tags for a later promote or reject.
 */
import { formatDuration } from "../report/format.ts";
import { encodeHeldTags, encodeLastPromotion, mergeOurTags, type HeldDeployment } from "../tags.ts";
import { weightsByRevision, withoutRevisions, type RolloutPlan } from "../traffic/plan.ts";
import type { DeploymentReport, TrafficWeight } from "../types.ts";
import type { RolloutContext } from "./context.ts";
import type { HeldByGates } from "./gates.ts";
import { assertNoDrift, readBeforeWrite } from "./guard.ts";
import { assertTraffic } from "./step.ts";

/** The last-promotion record of `revision` (the rollback target is `previous`). */
export function promotionRecord(
  ctx: RolloutContext,
  revision: string,
  previous: string | undefined,
): string {
  return encodeLastPromotion({
    revision,
    previous,
    at: new Date(ctx.deps.clock.now()).toISOString(),
  });
}

/**
 * Phase "Promote": `candidate` serves 100% and the last step's write gave the lease back with the
 * promotion recorded; the previous revisions are retired.
 */
export async function promoteCandidate(
  ctx: RolloutContext,
  candidate: string,
  plan: RolloutPlan,
  final: TrafficWeight[],
): Promise<DeploymentReport> {
  const traffic = await ctx.phase("Promote", () => promoted(ctx, candidate, plan, final));
  return ctx.finish(
    "promoted",
    `${candidate} passed every check and serves 100% of traffic.`,
    traffic,
  );
}

async function promoted(
  ctx: RolloutContext,
  candidate: string,
  plan: RolloutPlan,
  final: TrafficWeight[],
): Promise<TrafficWeight[]> {
  const { apps, clock, log, signal } = ctx.deps;
  const { inputs } = ctx;
  const journal = ctx.journal!;
  const retiring = inputs.deactivatePrevious
    ? plan.retiring.filter((name) => name !== candidate)
    : [];
  ctx.report.previous = plan.previousProduction;
  let traffic = final;
  if (retiring.length > 0 && inputs.scaleDownDelayMs > 0) {
    log.info(
      `Keeping ${retiring.join(", ")} active for \`scale-down-delay\` (${formatDuration(inputs.scaleDownDelayMs)})`,
    );
    await clock.sleep(inputs.scaleDownDelayMs, signal);
    ctx.fresh = undefined;
    // One more write: the previous label leaves the revisions about to be deactivated.
    traffic = withoutRevisions(final, retiring);
    await readBeforeWrite(ctx.deps, journal, {
      when: "before retiring the previous revisions",
      leaseHeld: false,
    });
    journal.recordWrite({ kind: "traffic", traffic }, clock.now());
    const app = await apps.updateTraffic(traffic, { signal });
    assertTraffic(app, traffic, "retiring the previous revisions");
    journal.confirm(traffic);
    ctx.fresh = app;
  }
  await retire(ctx, retiring, traffic);
  log.info(`${ctx.labels.production} -> ${candidate}; lease released`);
  return traffic;
}

/**
 * Deactivates `names` — the promotion has begun, so from here an interruption finishes it rather
 * than going back. Each deactivation is recorded before it is sent and preceded by a fresh read;
 * one that still has weight in `traffic` is skipped (that would be an outage).
 */
export async function retire(
  ctx: RolloutContext,
  names: string[],
  traffic: TrafficWeight[],
): Promise<void> {
  const { apps, clock, log, signal } = ctx.deps;
  const journal = ctx.journal!;
  const weights = weightsByRevision(traffic);
  const retiring = names.filter((name) => {
    if ((weights.get(name) ?? 0) === 0) return true;
    log.warning(`Not deactivating ${name}: it still has ${weights.get(name)}% of traffic.`);
    return false;
  });
  journal.startPromotion(retiring);
  for (const name of retiring) {
    if (!ctx.fresh) {
      ctx.fresh = await readBeforeWrite(ctx.deps, journal, {
        when: `before deactivating ${name}`,
        leaseHeld: ctx.leaseHeld,
      });
    }
    ctx.fresh = undefined;
    journal.recordWrite({ kind: "deactivate", revision: name }, clock.now());
    await apps.deactivateRevision(name, { signal });
    journal.retired(name);
    log.info(`Deactivated ${name}`);
  }
  if (retiring.length > 0) {
    // A change someone made while the last revision was retired is theirs: said, not undone.
    const after = await apps.getApp({ signal });
    journal.settle();
    assertNoDrift(after, journal, "while the previous revisions were retired");
    return;
  }
  journal.settle();
}

/**
 * Records the held deployment in the app's tags (the same write gives the lease back). `origin`
 * is the deployment's own start when this run continued a held one (a promote).
 */
export async function hold(
  ctx: RolloutContext,
  candidate: string,
  done: number,
  traffic: TrafficWeight[],
  origin?: Pick<HeldDeployment, "before" | "createdCandidate" | "image">,
): Promise<number> {
  const { apps, clock, log, run, signal } = ctx.deps;
  const journal = ctx.journal!;
  const held: HeldDeployment = {
    candidate,
    createdCandidate: origin?.createdCandidate ?? journal.record.createdCandidate,
    image: origin ? origin.image : ctx.inputs.image,
    before: origin?.before ?? journal.record.before,
    traffic,
    steps: ctx.weights,
    done,
    labels: ctx.labels,
    holder: run.holder,
    at: new Date(clock.now()).toISOString(),
  };
  const fresh =
    ctx.fresh ??
    (await readBeforeWrite(ctx.deps, journal, {
      when: "before the hold",
      // The last step of a promotion already gave the lease back.
      leaseHeld: ctx.leaseHeld,
    }));
  ctx.fresh = undefined;
  journal.recordWrite({ kind: "tags" }, clock.now());
  await apps.updateTags(mergeOurTags(fresh.tags, encodeHeldTags(held)), { signal });
  ctx.leaseHeld = false;
  journal.settle();
  const weight = weightsByRevision(traffic).get(candidate) ?? 0;
  log.info(`Held at ${weight}% to ${candidate}; run action: promote or action: reject to finish.`);
  return weight;
}

/**
 * `inconclusive: hold`: the gates of a step lacked data to the end, so the step's traffic stays as
 * it is and the deployment is held for a person to promote or reject.
 */
export async function holdUndecided(
  ctx: RolloutContext,
  candidate: string,
  undecided: HeldByGates,
  origin?: Pick<HeldDeployment, "before" | "createdCandidate" | "image">,
): Promise<DeploymentReport> {
  ctx.report.errorCode = undecided.code;
  const weight = await ctx.phase("Hold", () =>
    hold(ctx, candidate, undecided.step, undecided.traffic, origin),
  );
  return ctx.finish(
    "held",
    `${undecided.message} ${candidate} is held at ${weight}% of traffic, as \`inconclusive: hold\` says, until a promote or reject run.`,
    undecided.traffic,
  );
}
