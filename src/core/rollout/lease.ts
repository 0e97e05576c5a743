import type { Clock } from "../clock.ts";
import { DeployFailure, LeaseLost, isRetryable } from "../failure.ts";
import type { AppState, ContainerAppsPort, Log, RunContext } from "../ports.ts";
import { LEASE_TAG, decodeLease, encodeLease, isLive, newLease, withTag } from "../tags.ts";
import type { RolloutContext } from "./context.ts";

/** How long lease acquisition keeps trying while another write holds the app's lock. */
const ACQUIRE_FOR_MS = 120_000;
/** Margin on top of the planned duration before another run may take the lease over. */
const LEASE_MARGIN_MS = 15 * 60_000;

/**
 * Takes the lease for as long as the run plans to take (readiness, checks, every bake, the
 * scale-down delay) plus a margin, so that a run that died does not block the app for long.
 */
export function takeLease(ctx: RolloutContext, found: AppState): Promise<AppState> {
  const { inputs } = ctx;
  const planned =
    inputs.readinessTimeoutMs +
    inputs.smokeTimeoutMs +
    ctx.weights.length * inputs.stepWaitMs +
    inputs.scaleDownDelayMs;
  return acquireLease(found, planned + LEASE_MARGIN_MS, ctx.deps);
}

export interface LeaseDeps {
  apps: ContainerAppsPort;
  clock: Clock;
  log: Log;
  run: RunContext;
  signal?: AbortSignal;
}

/**
 * Takes the app's lease (a tag naming this run and an expiry), refusing while another run's lease
 * is live and taking over one that expired. Container apps have no ETag, so a write is never
 * conditional; instead a write that meets the lock of another run's write (409) is not blindly
 * retried: the app is read again and the lease checked again first, so of two runs that start
 * together the second sees the first's lease and stops.
 */
export async function acquireLease(
  found: AppState,
  durationMs: number,
  deps: LeaseDeps,
): Promise<AppState> {
  const { apps, clock, log, run } = deps;
  const deadline = clock.now() + ACQUIRE_FOR_MS;
  let app = found;
  for (let attempt = 1; ; attempt++) {
    refuseLiveLease(app, deps);
    const lease = newLease(run, clock.now(), durationMs);
    try {
      const written = await apps.updateTags(withTag(app.tags, LEASE_TAG, encodeLease(lease)), {
        retryForMs: 0,
        signal: deps.signal,
      });
      assertLeaseHeld(written, run, "at the same moment");
      log.info(`Lease taken until ${lease.until}`);
      return written;
    } catch (error) {
      if (!isRetryable(error) || clock.now() > deadline || deps.signal?.aborted) throw error;
      log.info(`The app is busy with another write; reading it again (attempt ${attempt + 1})`);
      await clock.sleep(Math.min(500 * attempt, 5_000), deps.signal);
      app = await apps.getApp({ signal: deps.signal });
    }
  }
}

function refuseLiveLease(app: AppState, deps: LeaseDeps): void {
  const found = decodeLease(app.tags[LEASE_TAG]);
  if (!found || found.runId === deps.run.runId) return;
  if (isLive(found, deps.clock.now())) {
    throw new DeployFailure(
      `Another run holds ${app.name}: ${found.holder}, since ${found.since} (lease until ${found.until}).`,
      {
        code: "LeaseHeld",
        nextSteps: "Wait for that run to finish, or cancel it; its lease expires on its own.",
      },
    );
  }
  deps.log.warning(
    `Taking over the lease of ${found.holder}, which expired at ${found.until} (its run is gone).`,
  );
}

/** Fails when the app's lease is not this run's: someone else took the app over. */
export function assertLeaseHeld(app: AppState, run: RunContext, when: string): void {
  const holder = decodeLease(app.tags[LEASE_TAG]);
  if (holder?.runId !== run.runId) {
    throw new LeaseLost(
      `Another run took ${app.name} ${when}: ${holder?.holder ?? "its lease was removed"}. This run stops without changing anything more.`,
    );
  }
}
