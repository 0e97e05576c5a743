/**
 * Phase "Traffic shift": one step at a time, `shiftStep` writes the step's complete traffic array
 * and reads it back, then `bakeStep` keeps the checks running for the step's bake and confirms that
 * the lease is still this run's, the revision still ready and the traffic still as written. Every
 * verb that moves traffic in steps — deploy, promote, rollback — goes through these two.
 */
import { bakeWithChecks, describeFailures } from "../checks/smoke.ts";
import { DeployFailure, ExternalChange } from "../failure.ts";
import type { AppState } from "../ports.ts";
import { formatDuration, formatStepProgress, formatTraffic } from "../report/format.ts";
import { currentTraffic } from "../traffic/current.ts";
import { sameTraffic } from "../traffic/plan.ts";
import type { StepRecord, TrafficWeight } from "../types.ts";
import type { RolloutContext } from "./context.ts";
import { bakeWithGates } from "./gates.ts";
import { assertNotTakenOver, describeDrift, readBeforeWrite } from "./guard.ts";
import { leaseTags, releasedTags } from "./lease.ts";
import { failedState, isReady } from "./readiness.ts";

/** The steps of one shift and how each is checked. */
export interface StepPlan {
  /** The revision that gains the weight: a deploy's candidate, a rollback's target. */
  revision: string;
  /** The traffic before the first step (a deploy's candidate at 0%, a rollback's snapshot). */
  start: TrafficWeight[];
  /** One complete traffic array per step. */
  steps: TrafficWeight[][];
  /** The revision's weight at each step, for the log and the report. */
  weights: number[];
  /** Where the checks run while the traffic of a step bakes. */
  checkUrl: (traffic: TrafficWeight[]) => string;
  /** Whether step `index` (0-based) bakes; without checks there is nothing to bake on. */
  bakes: (index: number) => boolean;
  /**
   * When set, the last step's write gives the lease back and records this promotion (the value of
   * the last-promotion tag); otherwise every step's write renews the lease.
   */
  promotion?: () => string;
  /** What the operator should do when a step fails. */
  nextSteps: string;
}

/** Shifts through steps `from` (inclusive) to `to` (exclusive); returns the traffic last written. */
export async function shiftSteps(
  ctx: RolloutContext,
  plan: StepPlan,
  from: number,
  to: number,
): Promise<TrafficWeight[]> {
  const { clock, log } = ctx.deps;
  let traffic = from === 0 ? plan.start : plan.steps[from - 1];
  for (let i = from; i < to; i++) {
    const target = plan.steps[i];
    const record: StepRecord = {
      index: i + 1,
      weight: plan.weights[i],
      traffic: target,
      startedAt: clock.now(),
      durationMs: 0,
      checksPassed: 0,
      checksRun: 0,
      ok: false,
    };
    ctx.report.steps.push(record);
    const baking = plan.bakes(i);
    const progress = () =>
      formatStepProgress({
        index: i + 1,
        total: plan.steps.length,
        weight: record.weight,
        label: ctx.labels.candidate,
        bakeMs: baking ? ctx.inputs.stepWaitMs : 0,
        checksPassed: record.checksPassed,
        checksRun: record.checksRun,
      });
    try {
      const releases = i === plan.steps.length - 1 && plan.promotion !== undefined;
      await shiftStep(ctx, record, {
        bakeMs: baking ? ctx.inputs.stepWaitMs : 0,
        ...(releases && plan.promotion ? { promotion: plan.promotion() } : {}),
      });
      traffic = target;
      log.info(`${progress()}: ${formatTraffic(target)}`);
      if (baking) await bakeStep(ctx, record, plan);
      record.ok = true;
    } finally {
      record.durationMs = clock.now() - record.startedAt;
    }
    log.info(`${progress()} (${formatDuration(record.durationMs)})`);
  }
  return traffic;
}

/**
 * Writes the step's traffic and reads it back. The app is read fresh first (or taken from the
 * read that ended the previous bake) and must still be this run's and route what it last wrote.
 * The write renews the lease until after the step's bake — or, with `promotion`, gives it back and
 * records the promotion.
 */
export async function shiftStep(
  ctx: RolloutContext,
  record: StepRecord,
  options: { bakeMs: number; promotion?: string },
): Promise<void> {
  const { apps, clock, signal } = ctx.deps;
  const journal = ctx.journal!;
  const fresh =
    ctx.fresh ??
    (await readBeforeWrite(ctx.deps, journal, {
      when: `before step ${record.index}`,
      leaseHeld: true,
    }));
  ctx.fresh = undefined;
  const tags =
    options.promotion !== undefined
      ? releasedTags(fresh, options.promotion)
      : leaseTags(ctx, fresh, options.bakeMs, record.traffic);
  journal.recordWrite({ kind: "traffic", traffic: record.traffic }, clock.now());
  const app = await apps.updateTraffic(record.traffic, { tags, signal });
  ctx.shifted = true;
  assertTraffic(app, record.traffic, `step ${record.index}`);
  journal.confirm(record.traffic);
  // The write's result is the app as it is now: the fresh read of a write that follows at once
  // (a step that does not bake); a bake replaces it with the read that ends the bake.
  ctx.fresh = app;
  ctx.leaseHeld = options.promotion === undefined;
}

/**
 * Keeps the checks running for the step's bake, then confirms that the lease is held, the revision
 * ready and the traffic as written. Fills the step's check counts as rounds complete.
 */
export async function bakeStep(
  ctx: RolloutContext,
  record: StepRecord,
  plan: Pick<StepPlan, "revision" | "checkUrl" | "nextSteps">,
): Promise<void> {
  const { apps, run, signal } = ctx.deps;
  const { inputs } = ctx;
  const url = plan.checkUrl(record.traffic);
  // The gates, when on, judge the step while the checks keep running (see gates.ts).
  const failed = await bakeWithGates(ctx, record, url, (durationMs, bakeSignal) =>
    bakeWithChecks(url, durationMs, inputs, { ...ctx.deps, signal: bakeSignal }, (round) => {
      record.checksRun += round.results.length;
      record.checksPassed += round.results.filter((r) => r.ok).length;
    }),
  );
  if (failed) {
    record.failure = describeFailures(failed);
    record.failedRound = failed;
    throw new DeployFailure(
      `Checks failed at step ${record.index} (${record.weight}% to ${plan.revision}): ${record.failure}.`,
      { code: "ChecksFailedDuringShift", nextSteps: plan.nextSteps },
    );
  }
  const [app, revision] = await Promise.all([
    apps.getApp({ signal }),
    apps.getRevision(plan.revision, { signal }),
  ]);
  assertNotTakenOver(app, run, `during step ${record.index}`, ctx.leaseHeld);
  if (!isReady(revision)) {
    record.failure = `revision is ${failedState(revision) ?? "no longer ready"}`;
    throw new DeployFailure(
      `${plan.revision} became unhealthy at step ${record.index}: ${record.failure}.`,
      { code: "RevisionUnhealthy", nextSteps: plan.nextSteps },
    );
  }
  if (!sameTraffic(currentTraffic(app), record.traffic)) {
    record.failure = "traffic was changed by someone else";
    throw new ExternalChange(
      `Someone else changed the traffic of ${app.name} during step ${record.index}: ${describeDrift(record.traffic, currentTraffic(app))}. It was left as they set it.`,
    );
  }
  // This read is the fresh read of the next write.
  ctx.fresh = app;
}

/** A write whose read-back differs from what was asked means someone else wrote at the same time. */
export function assertTraffic(app: AppState, expected: TrafficWeight[], when: string): void {
  const actual = currentTraffic(app);
  if (!sameTraffic(actual, expected)) {
    throw new ExternalChange(
      `After ${when}, ${app.name} routes ${formatTraffic(actual)} instead of ${formatTraffic(expected)}. It was left as found.`,
    );
  }
}
