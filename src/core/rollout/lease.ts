/**
 * The lease: a record in the app's tags naming the run that is changing the app, so that two runs
 * never shift the same app at once. It rides on the run's own writes — each planned write sets its
 * expiry to the time until the next planned write plus a margin — and carries what a successor
 * needs when the run dies mid-shift: the traffic before the run and the traffic it last wrote.
 * Container apps have no ETag, so no write is conditional: a write that meets another write's lock
 * (409) is not blindly retried; the app is read again and the lease checked again first.
 */
import { DeployFailure, isRetryable } from "../failure.ts";
import type { AppState, CallOptions } from "../ports.ts";
import { formatTraffic } from "../report/format.ts";
import {
  LAST_TAG,
  decodeLeaseTags,
  encodeLeaseTags,
  isLive,
  mergeOurTags,
  type Lease,
} from "../tags.ts";
import { currentTraffic } from "../traffic/current.ts";
import { sameTraffic, weightsByRevision } from "../traffic/plan.ts";
import type { TrafficWeight } from "../types.ts";
import type { RolloutContext } from "./context.ts";
import { assertNotTakenOver } from "./guard.ts";
import { restoreTraffic } from "./restore.ts";

/** How long taking the app keeps trying while another write holds the app's lock. */
const ACQUIRE_FOR_MS = 120_000;
/**
 * Added to every expiry: one long-running write (12–50 s on Azure) with its retries, so that a
 * live run's lease never lapses between two of its writes.
 */
export const LEASE_MARGIN_MS = 5 * 60_000;

/**
 * The tags of the run's next write: the fresh read's tags with this run's lease, valid for
 * `forMs` (the time until the run's next planned write) plus the margin, recording `last` as the
 * traffic this write sets.
 */
export function leaseTags(
  ctx: RolloutContext,
  fresh: AppState,
  forMs: number,
  last: TrafficWeight[],
): Record<string, string> {
  const { clock, run } = ctx.deps;
  const journal = ctx.journal!.record;
  const now = clock.now();
  ctx.leaseSince ??= new Date(now).toISOString();
  const lease: Lease = {
    runId: run.runId,
    holder: run.holder,
    since: ctx.leaseSince,
    until: new Date(now + forMs + LEASE_MARGIN_MS).toISOString(),
    ...(run.lineage ? { lineage: run.lineage } : {}),
    candidate: journal.candidate,
    createdCandidate: journal.createdCandidate,
    before: journal.before,
    last,
  };
  return mergeOurTags(fresh.tags, encodeLeaseTags(lease));
}

/**
 * The tags of a promotion: the lease given back, a held record (the promoted deployment's) gone,
 * and the promotion recorded.
 */
export function releasedTags(fresh: AppState, promotion: string): Record<string, string> {
  return mergeOurTags(fresh.tags, { [LAST_TAG]: promotion }, { dropHeld: true });
}

/**
 * Takes the lease with a tags write of its own (the operator verbs; a deploy takes it with the
 * write that creates its candidate). The journal must be started: the lease records what it holds.
 * `untilNextWriteMs`: how long until the run's next planned write.
 */
export async function takeLease(
  ctx: RolloutContext,
  found: AppState,
  untilNextWriteMs: number,
): Promise<AppState> {
  const { apps, clock, log } = ctx.deps;
  const written = await takeApp(ctx, found, (app, options) => {
    ctx.journal!.recordWrite({ kind: "tags" }, clock.now());
    return apps.updateTags(leaseTags(ctx, app, untilNextWriteMs, currentTraffic(app)), options);
  });
  ctx.leaseHeld = true;
  log.info(`Lease taken until ${decodeLeaseTags(written.tags)?.until ?? "its expiry"}`);
  return written;
}

/**
 * Takes the app with `write`, a write that carries this run's lease (built from the app as read).
 * A live lease of another run stops the run before any change; a dead one is taken over, after
 * putting back what its run left half-shifted. A lock conflict re-reads the app and checks again.
 */
export async function takeApp(
  ctx: RolloutContext,
  found: AppState,
  write: (app: AppState, options: CallOptions) => Promise<AppState>,
): Promise<AppState> {
  const { apps, clock, log, run, signal } = ctx.deps;
  const deadline = clock.now() + ACQUIRE_FOR_MS;
  let app = found;
  for (let attempt = 1; ; attempt++) {
    checkLease(ctx, app);
    try {
      const written = await write(app, { retryForMs: 0, signal });
      assertNotTakenOver(written, run, "at the same moment", true);
      return written;
    } catch (error) {
      if (!isRetryable(error) || clock.now() > deadline || signal?.aborted) throw error;
      log.info(`The app is busy with another write; reading it again (attempt ${attempt + 1})`);
      await clock.sleep(Math.min(500 * attempt, 5_000), signal);
      app = await apps.getApp({ signal });
    }
  }
}

/**
 * Whether the app's lease lets this run in: the lease of a run that is gone (expired, or an earlier
 * attempt of this very job: a re-run starts only after its run ended) is taken over; another
 * run's live lease stops this one.
 */
function checkLease(ctx: RolloutContext, app: AppState): void {
  const { clock, log, run } = ctx.deps;
  const found = decodeLeaseTags(app.tags);
  if (!found || found.runId === run.runId) return;
  if (isLive(found, clock.now()) && isDead(ctx, found)) {
    log.warning(
      `Taking over the lease of ${found.holder}: it is an earlier attempt of this job, which has ended.`,
    );
    return;
  }
  if (isLive(found, clock.now())) {
    throw new DeployFailure(
      `Another run holds ${app.name}: ${found.holder}, since ${found.since} (lease until ${found.until}).`,
      {
        code: "LeaseHeld",
        nextSteps: "Wait for that run to finish, or cancel it; its lease expires on its own.",
      },
    );
  }
  log.warning(
    `Taking over the lease of ${found.holder}, which expired at ${found.until} (its run is gone).`,
  );
}

/**
 * A run died mid-shift and its lease is dead: when the app still routes what it last wrote, its
 * pre-deploy traffic is put back (and its candidate retired), so that this run starts from there
 * rather than from a half-shifted split; when someone changed the app since, this run stops and
 * says how to put it right. Returns whether the app was changed (then it must be read again).
 */
export async function recoverDeadRun(ctx: RolloutContext, app: AppState): Promise<boolean> {
  const { apps, clock, log, run, signal } = ctx.deps;
  const dead = decodeLeaseTags(app.tags);
  if (!dead || dead.runId === run.runId || !isDead(ctx, dead)) return false;
  const traffic = currentTraffic(app);
  if (!dead.before || !dead.last || sameTraffic(traffic, dead.before)) return false;
  if (!sameTraffic(traffic, dead.last)) {
    throw new DeployFailure(
      `${dead.holder} stopped while shifting ${app.name}, and its traffic was changed since (${formatTraffic(traffic)}; it last wrote ${formatTraffic(dead.last)}). Nothing was changed.`,
      { code: "DeadRunTrafficChanged", nextSteps: fixCommand(ctx, app.name, dead.before) },
    );
  }
  const gone = isSuperseded(ctx, dead)
    ? "an earlier attempt of this job, which has ended"
    : `its lease expired at ${dead.until}`;
  log.warning(
    `${dead.holder} (${gone}) stopped mid-shift and left ${formatTraffic(traffic)}; putting back the traffic it found: ${formatTraffic(dead.before)}`,
  );
  const outcome = await restoreTraffic(
    apps,
    {
      before: dead.before,
      candidate: dead.candidate ?? "",
      createdCandidate: dead.createdCandidate === true && Boolean(dead.candidate),
      keepFailedRevision: ctx.inputs.keepFailedRevision,
      expected: [dead.last],
      lastPromotion: app.tags[LAST_TAG],
      adoptsLeaseOf: dead.runId,
    },
    { log, clock, run, signal, waitReady: ctx.waitReady },
  );
  if (outcome.candidateDeactivated) log.info(`Deactivated ${dead.candidate}`);
  return true;
}

function isDead(ctx: RolloutContext, lease: Lease): boolean {
  return isSuperseded(ctx, lease) || !isLive(lease, ctx.deps.clock.now());
}

/** Whether `lease` is held by an earlier attempt of this run's job. */
function isSuperseded(ctx: RolloutContext, lease: Lease): boolean {
  const { run } = ctx.deps;
  return (
    run.lineage !== undefined &&
    lease.lineage?.key === run.lineage.key &&
    lease.lineage.attempt < run.lineage.attempt
  );
}

/** The exact command that puts `before` back. */
function fixCommand(ctx: RolloutContext, app: string, before: TrafficWeight[]): string {
  const weights = weightsByRevision(before);
  const sole = [...weights].find(([, weight]) => weight === 100)?.[0];
  const az = `az containerapp ingress traffic set -n ${app} -g ${ctx.inputs.resourceGroup} --revision-weight ${before.map((e) => `${e.revisionName}=${e.weight}`).join(" ")}`;
  return sole
    ? `Decide which split is right; to go back to the one the stopped run found, run \`action: rollback\` with \`rollback-to: ${sole}\` (or ${az}).`
    : `Decide which split is right; to go back to the one the stopped run found: ${az}`;
}
