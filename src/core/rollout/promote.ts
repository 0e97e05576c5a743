/**
 * Phases "Promote" and "Hold": how a rollout ends when its checks passed. Promotion leaves the
 * candidate at 100% under the production label, retires the revisions it took the traffic from
 * (never one that still has weight, never one the run did not take traffic from) and gives the
 * lease back with the promotion recorded; a hold records the deployment in the app's tags for a
 * later promote or reject.
 */
import { formatDuration } from "../report/format.ts";
import {
  LAST_TAG,
  encodeHeldTags,
  encodeLastPromotion,
  withTag,
  type HeldDeployment,
} from "../tags.ts";
import { weightsByRevision, withoutRevisions, type RolloutPlan } from "../traffic/plan.ts";
import type { DeploymentReport, TrafficWeight } from "../types.ts";
import type { RolloutContext } from "./context.ts";
import { assertTraffic } from "./step.ts";

/** The tags to leave on the app once `revision` serves everything: ours released, the promotion recorded. */
export function promotedTags(
  ctx: RolloutContext,
  revision: string,
  previous: string | undefined,
): Record<string, string> {
  return withTag(
    ctx.journal?.record.tags ?? {},
    LAST_TAG,
    encodeLastPromotion({
      revision,
      previous,
      at: new Date(ctx.deps.clock.now()).toISOString(),
    }),
  );
}

/** Phase "Promote": `candidate` is at 100%; retire the previous revisions, record, release. */
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
  const retiring = plan.retiring.filter((name) => name !== candidate);
  ctx.report.previous = plan.previousProduction;
  const tags = promotedTags(ctx, candidate, plan.previousProduction);
  let traffic = final;
  if (inputs.deactivatePrevious && retiring.length > 0) {
    if (inputs.scaleDownDelayMs > 0) {
      log.info(
        `Keeping ${retiring.join(", ")} active for scale-down-delay (${formatDuration(inputs.scaleDownDelayMs)})`,
      );
      await clock.sleep(inputs.scaleDownDelayMs, signal);
      traffic = withoutRevisions(final, retiring);
      ctx.journal?.recordWrite({ kind: "traffic", traffic }, clock.now());
      const app = await apps.updateTraffic(traffic, { signal });
      assertTraffic(app, traffic, "retiring the previous revisions");
    }
    await retire(ctx, retiring, traffic);
  }
  ctx.journal?.settle();
  await apps.updateTags(tags, { signal });
  log.info(`Lease released; ${ctx.labels.production} -> ${candidate}`);
  return traffic;
}

/** Deactivates `names`, skipping any that still has weight in `traffic` (that would be an outage). */
export async function retire(
  ctx: RolloutContext,
  names: string[],
  traffic: TrafficWeight[],
): Promise<void> {
  const { apps, clock, log, signal } = ctx.deps;
  const weights = weightsByRevision(traffic);
  for (const name of names) {
    if ((weights.get(name) ?? 0) > 0) {
      log.warning(`Not deactivating ${name}: it still has ${weights.get(name)}% of traffic.`);
      continue;
    }
    ctx.journal?.recordWrite({ kind: "deactivate", revision: name }, clock.now());
    await apps.deactivateRevision(name, { signal });
    log.info(`Deactivated ${name}`);
  }
}

/** Records the held deployment in the app's tags and gives the lease back. */
export async function hold(
  ctx: RolloutContext,
  candidate: string,
  done: number,
  traffic: TrafficWeight[],
): Promise<number> {
  const { apps, clock, log, run, signal } = ctx.deps;
  const journal = ctx.journal!;
  const held: HeldDeployment = {
    candidate,
    createdCandidate: journal.record.createdCandidate,
    image: ctx.inputs.image,
    before: journal.record.before,
    traffic,
    steps: ctx.weights,
    done,
    labels: ctx.labels,
    holder: run.holder,
    at: new Date(clock.now()).toISOString(),
  };
  journal.recordWrite({ kind: "tags" }, clock.now());
  await apps.updateTags({ ...journal.record.tags, ...encodeHeldTags(held) }, { signal });
  journal.settle();
  const weight = weightsByRevision(traffic).get(candidate) ?? 0;
  log.info(`Held at ${weight}% to ${candidate}; run action: promote or action: reject to finish.`);
  return weight;
}
