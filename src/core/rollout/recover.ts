/**
 * Phase "Restore" and the handling of every failure, for every verb: once the journal is started,
 * a failure puts the app back as the journal found it — except when someone else changed the app or
 * took it over, which is theirs to keep. `recoverInterrupted` does the same for a run that died:
 * the post step and the task's cancel handling call it with the journal the run saved.
 */
import type { Clock } from "../clock.ts";
import { DeployFailure, ExternalChange, LeaseLost, errorCode, errorMessage } from "../failure.ts";
import type { RunJournal } from "../journal.ts";
import type { ContainerAppsPort, Log } from "../ports.ts";
import { formatTraffic } from "../report/format.ts";
import { currentTraffic } from "../traffic/current.ts";
import type { DeploymentReport, DeployResult, TrafficWeight } from "../types.ts";
import type { RolloutContext } from "./context.ts";
import { restoreTraffic } from "./restore.ts";

/**
 * Ends a run that failed (or was cancelled) with `error`. `restoredResult` names the outcome once the
 * traffic is back: for a deploy, whether users ever reached the candidate; for an operator verb, a
 * failure (its goal was the change). Never throws.
 */
export async function recover(
  ctx: RolloutContext,
  error: unknown,
  options: {
    restoredResult: (shifted: boolean) => DeployResult | "failed";
    found?: TrafficWeight[];
  },
): Promise<DeploymentReport> {
  const { apps, log, signal } = ctx.deps;
  const cancelled = signal?.aborted === true;
  const reason = cancelled ? "The run was cancelled." : errorMessage(error);
  const code = cancelled ? "Cancelled" : errorCode(error);
  ctx.report.errorCode = code;
  ctx.report.nextSteps = error instanceof DeployFailure ? error.nextSteps : undefined;
  log.info(`Stopping: ${reason}${code ? ` [${code}]` : ""}`);
  const journal = ctx.journal;
  if (!journal) {
    ctx.report.nextSteps ??= "Nothing was changed; fix the cause and run again.";
    return ctx.finish("failed", reason, ctx.found ?? []);
  }
  if (journal.settled) return ctx.finish("failed", reason, ctx.found ?? []);
  if (error instanceof ExternalChange || error instanceof LeaseLost) {
    // Someone else's change is never silently overwritten, and their lease is theirs.
    journal.settle();
    if (!(error instanceof LeaseLost)) {
      await apps
        .updateTags(journal.record.tags)
        .catch((e: unknown) => log.warning(`Could not release the lease: ${errorMessage(e)}`));
    }
    const now = await apps.getApp().catch(() => undefined);
    return ctx.finish("failed", reason, now ? currentTraffic(now) : []);
  }
  if (ctx.restoring) return restoreFailed(ctx, reason, error);
  try {
    const restored = await restore(ctx);
    return ctx.finish(options.restoredResult(ctx.shifted), reason, restored);
  } catch (restoreError) {
    return restoreFailed(ctx, reason, restoreError);
  }
}

/** A deploy (or promote) that failed: rolled back once users reached the candidate. */
export function recoverDeploy(ctx: RolloutContext, error: unknown): Promise<DeploymentReport> {
  return recover(ctx, error, {
    restoredResult: (shifted) => (shifted ? "rolled-back" : "failed-before-traffic"),
  });
}

/** Phase "Restore": the journal's traffic and tags back, the candidate retired, the journal settled. */
export async function restore(ctx: RolloutContext): Promise<TrafficWeight[]> {
  const { clock, log } = ctx.deps;
  const journal = ctx.journal!;
  ctx.restoring = true;
  return ctx.phase("Restore", async () => {
    const outcome = await restoreTraffic(ctx.deps.apps, journal.record, { log, clock });
    reportRestored(log, journal, outcome);
    journal.settle();
    return outcome.traffic;
  });
}

function restoreFailed(ctx: RolloutContext, reason: string, error: unknown): DeploymentReport {
  const { record } = ctx.journal!;
  ctx.report.nextSteps = `Restoring the previous traffic failed (${errorMessage(error)}). ${manualRestore(record)}`;
  ctx.deps.log.error(ctx.report.nextSteps);
  return ctx.finish("failed", `${reason} Restoring the previous traffic failed too.`, []);
}

/** The Azure CLI command that puts the journal's traffic back by hand. */
export function manualRestore(record: RunJournal["record"]): string {
  return `Set it by hand: az containerapp ingress traffic set -n ${record.app} -g ${record.resourceGroup} --revision-weight ${record.before.map((e) => `${e.revisionName}=${e.weight}`).join(" ")}`;
}

function reportRestored(
  log: Log,
  journal: RunJournal,
  outcome: { traffic: TrafficWeight[]; candidateDeactivated: boolean },
): void {
  log.info(`Traffic restored: ${formatTraffic(outcome.traffic)}`);
  if (outcome.candidateDeactivated) log.info(`Deactivated ${journal.record.candidate}`);
}

export type InterruptedOutcome =
  | { kind: "nothing" }
  | { kind: "restored"; traffic: TrafficWeight[] }
  | { kind: "failed"; message: string };

/**
 * Finishes a run that died (killed, cancelled before it could restore) from the journal it saved:
 * nothing when it had settled, else its traffic and tags back and its candidate retired. Never
 * throws; the outcome says what happened.
 */
export async function recoverInterrupted(
  journal: RunJournal | undefined,
  deps: { apps: () => Promise<ContainerAppsPort>; log: Log; clock: Clock },
): Promise<InterruptedOutcome> {
  if (!journal || journal.settled) return { kind: "nothing" };
  const { record } = journal;
  const { log, clock } = deps;
  log.warning(
    `The deployment of ${record.candidate} did not finish; restoring the traffic of ${record.app} it found: ${formatTraffic(record.before)}`,
  );
  try {
    const apps = await deps.apps();
    const outcome = await log.group("Restore", () => restoreTraffic(apps, record, { log, clock }));
    reportRestored(log, journal, outcome);
    journal.settle();
    return { kind: "restored", traffic: outcome.traffic };
  } catch (error) {
    return {
      kind: "failed",
      message: `Restoring ${record.app} failed: ${errorMessage(error)}. ${manualRestore(record)}`,
    };
  }
}
