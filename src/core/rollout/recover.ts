/**
 * Phase "Restore" and the handling of every failure, for every verb: once the journal is started,
 * a failure puts the app back as the journal found it — except when someone else changed the app or
 * took it over, which is theirs to keep, and except once the promotion has begun, which is then
 * finished instead (going back would weight revisions already deactivated). `recoverInterrupted`
 * does the same for a run that died: the post step and the task's cancel handling call it with the
 * journal the run saved.
 */
import type { Clock } from "../clock.ts";
import { DeployFailure, ExternalChange, LeaseLost, errorCode, errorMessage } from "../failure.ts";
import type { RunJournal } from "../journal.ts";
import type { AppState, ContainerAppsPort, Log, RevisionState, RunContext } from "../ports.ts";
import type { AppScopeRestore } from "../revision/plan.ts";
import { formatTraffic } from "../report/format.ts";
import { LAST_TAG, decodeLeaseTags, heldTagsOf, mergeOurTags } from "../tags.ts";
import { currentTraffic } from "../traffic/current.ts";
import type { DeploymentReport, DeployResult, TrafficWeight } from "../types.ts";
import type { RolloutContext } from "./context.ts";
import { collectCandidateDiagnostics, logDiagnostics } from "./diagnose.ts";
import { readBeforeWrite, type GuardDeps } from "./guard.ts";
import { restoreTraffic, type RestoreOutcome, type RestoreRecord } from "./restore.ts";

/**
 * Ends a run that failed (or was cancelled) with `error`. `restoredResult` names the outcome once the
 * traffic is back: for a deploy, whether users ever reached the candidate; for an operator verb, a
 * failure (its goal was the change). Never throws.
 */
export async function recover(
  ctx: RolloutContext,
  error: unknown,
  options: { restoredResult: (shifted: boolean) => DeployResult | "failed" },
): Promise<DeploymentReport> {
  const { log, signal } = ctx.deps;
  const cancelled = signal?.aborted === true;
  const reason = cancelled ? "The run was cancelled." : errorMessage(error);
  const code = cancelled ? "Cancelled" : errorCode(error);
  ctx.report.errorCode = code;
  ctx.report.nextSteps = error instanceof DeployFailure ? error.nextSteps : undefined;
  if (code === "AuthenticationFailed") {
    // Microsoft Entra ID refused the identity: asking again gives the same answer.
    ctx.report.nextSteps ??=
      "Check the sign-in: `client-id` and `tenant-id` with the federated credential's subject and `audience`, or the secret in `creds`; then run again.";
  }
  log.info(`Stopping: ${reason}${code ? ` [${code}]` : ""}`);
  const journal = ctx.journal;
  // Another run's lease stops a run before its first write lands: there is nothing of ours to undo.
  const untouched = !journal?.record.lastWrite || errorCode(error) === "LeaseHeld";
  if (!journal || untouched) {
    journal?.settle();
    ctx.report.nextSteps ??= "Nothing was changed; fix the cause and run again.";
    return ctx.finish("failed", reason, ctx.found ?? []);
  }
  if (journal.settled) {
    // The run's traffic work was done: report what the app routes now, not what it found.
    const now = await ctx.deps.apps.getApp().catch(() => undefined);
    return ctx.finish("failed", reason, now ? currentTraffic(now) : []);
  }
  if (error instanceof ExternalChange || error instanceof LeaseLost) {
    return leaveAsFound(ctx, journal, reason, error instanceof LeaseLost);
  }
  if (journal.promoting) {
    try {
      const traffic = await ctx.phase("Finish promotion", () => finishPromotion(ctx.deps, journal));
      // What the run set out to do is done: the candidate serves everything, the old is retired.
      const done = ctx.inputs.action === "rollback" ? "rolled-back" : "promoted";
      return ctx.finish(done, `${reason} The promotion was finished.`, traffic);
    } catch (finishError) {
      log.error(`Finishing the promotion failed too: ${errorMessage(finishError)}`);
      const now = await ctx.deps.apps.getApp().catch(() => undefined);
      return ctx.finish("failed", reason, now ? currentTraffic(now) : []);
    }
  }
  if (ctx.restoring) return restoreFailed(ctx, reason, error);
  const handover =
    cancelled && ctx.deps.handover ? AbortSignal.timeout(ctx.deps.handover.afterMs) : undefined;
  try {
    // A cancelled run restores as fast as it can; any other failure says why in the candidate's words.
    const restored = await restore(ctx, { diagnose: !cancelled, ...(handover && { handover }) });
    await logDiagnostics(ctx);
    return ctx.finish(options.restoredResult(ctx.shifted), reason, restored);
  } catch (restoreError) {
    if (handover?.aborted) return handedOver(ctx, reason);
    if (restoreError instanceof ExternalChange || restoreError instanceof LeaseLost) {
      return leaveAsFound(
        ctx,
        journal,
        `${reason} ${restoreError.message}`,
        restoreError instanceof LeaseLost,
      );
    }
    return restoreFailed(ctx, reason, restoreError);
  }
}

/** A deploy (or promote) that failed: rolled back once users reached the candidate. */
export function recoverDeploy(ctx: RolloutContext, error: unknown): Promise<DeploymentReport> {
  return recover(ctx, error, {
    restoredResult: (shifted) => (shifted ? "rolled-back" : "failed-before-traffic"),
  });
}

/**
 * Someone else changed the app, or took it: it is left exactly as they set it; only this run's lease
 * is given back (never another run's).
 */
async function leaveAsFound(
  ctx: RolloutContext,
  journal: RunJournal,
  reason: string,
  taken: boolean,
): Promise<DeploymentReport> {
  const { apps, log } = ctx.deps;
  ctx.report.errorCode = taken ? "LeaseLost" : "TrafficChangedExternally";
  journal.settle();
  const now = await apps.getApp().catch(() => undefined);
  if (!taken && now && ctx.leaseHeld) await giveLeaseBack(apps, now, log);
  return ctx.finish("failed", reason, now ? currentTraffic(now) : []);
}

/**
 * Phase "Restore": the journal's traffic and tags back, the candidate retired, the journal settled.
 * With `diagnose`, the candidate's diagnostics are collected between the two; `handover` stops the
 * restore (a cancelled run handing it to the post step).
 */
export async function restore(
  ctx: RolloutContext,
  options: { diagnose?: boolean; handover?: AbortSignal } = {},
): Promise<TrafficWeight[]> {
  const { clock, log, run } = ctx.deps;
  const journal = ctx.journal!;
  ctx.restoring = true;
  // Not bound to the run's cancellation: a cancelled run is exactly the one that must restore.
  // Only a hand-over to the post step stops it.
  return ctx.phase("Restore", async () => {
    const outcome = await restoreTraffic(ctx.deps.apps, restoreRecord(journal, ctx.appScope), {
      log,
      clock,
      run,
      ...(options.handover ? { signal: options.handover } : {}),
      waitReady: ctx.waitReady,
      recordWrite: (write) => journal.recordWrite(write, clock.now()),
      ...(options.diagnose && {
        beforeRetire: () => collectCandidateDiagnostics(ctx, journal.record.candidate),
      }),
    });
    reportRestored(log, journal, outcome);
    if (outcome.notRestored.length > 0) ctx.report.notRestored = outcome.notRestored;
    ctx.leaseHeld = false;
    journal.settle();
    return outcome.traffic;
  });
}

/**
 * What a restore from `journal` puts back: the traffic before, this tool's tags as they were, and
 * the configuration fields the run changed. Old secret values come only from `inMemory`, the run's
 * own plan: a restore from the saved journal alone cannot put them back, and says so.
 */
export function restoreRecord(journal: RunJournal, inMemory?: AppScopeRestore): RestoreRecord {
  const { record } = journal;
  const appScope = record.appScope;
  const changed = appScope?.changedSecrets ?? [];
  const secrets = changed.length > 0 ? inMemory?.secrets : undefined;
  const notRestorable = [
    ...(appScope?.notRestorable ?? []),
    ...(changed.length > 0 && !secrets
      ? [
          `secret${changed.length > 1 ? "s" : ""} ${changed.join(", ")} keep${changed.length > 1 ? "" : "s"} the new value: the old value was never saved, so only the run that changed it can put it back`,
        ]
      : []),
  ];
  return {
    before: record.before,
    candidate: record.candidate,
    createdCandidate: record.createdCandidate,
    keepFailedRevision: record.keepFailedRevision,
    expected: journal.expectedTraffic(),
    lastPromotion: record.tags[LAST_TAG],
    keepTags: heldTagsOf(record.tags),
    ...(appScope?.configuration && { configuration: appScope.configuration }),
    ...(secrets && { secrets }),
    notRestorable,
  };
}

/** Retires what the promotion had left to retire; the traffic stays as promoted. */
async function finishPromotion(
  deps: GuardDeps & { clock: Clock; log: Log },
  journal: RunJournal,
): Promise<TrafficWeight[]> {
  const { apps, clock, log } = deps;
  let app = await readBeforeWrite(deps, journal, {
    when: "before finishing the promotion",
    leaseHeld: false,
  });
  for (const name of journal.record.retiring ?? []) {
    journal.recordWrite({ kind: "deactivate", revision: name }, clock.now());
    await apps.deactivateRevision(name, { retryForMs: 10 * 60_000 });
    journal.retired(name);
    log.info(`Deactivated ${name}`);
    app = await readBeforeWrite(deps, journal, {
      when: `after deactivating ${name}`,
      leaseHeld: false,
    });
  }
  journal.settle();
  return currentTraffic(app);
}

/**
 * A cancelled run whose restore did not finish within the hand-over window: the journal still
 * says where it stands (its last write included), and the post step finishes the restore and
 * writes the summary and result.
 */
function handedOver(ctx: RolloutContext, reason: string): DeploymentReport {
  const { record } = ctx.journal!;
  ctx.deps.log.warning(
    `The restore of ${record.app} is handed over to the post step, which finishes it from the journal (last write: ${record.lastWrite?.kind ?? "none"} at ${record.lastWrite?.at ?? "?"}).`,
  );
  ctx.report.nextSteps = `The post step restores ${record.app} to ${formatTraffic(record.before)}; its summary says how it ended.`;
  return ctx.finish(
    "failed",
    `${reason} Restoring the previous traffic was handed over to the post step.`,
    [],
  );
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

function reportRestored(log: Log, journal: RunJournal, outcome: RestoreOutcome): void {
  log.info(`Traffic restored: ${formatTraffic(outcome.traffic)}`);
  if (outcome.candidateDeactivated) log.info(`Deactivated ${journal.record.candidate}`);
  const { appScope } = journal.record;
  const putBack = Object.keys(appScope?.configuration ?? {}).map(
    (field) => `configuration.${field}`,
  );
  if (outcome.secretsRestored) {
    putBack.push(`the old value of ${appScope?.changedSecrets.join(", ")}`);
  }
  if (putBack.length > 0) log.info(`Put back: ${putBack.join(", ")}`);
  const added = appScope?.addedSecrets ?? [];
  if (added.length > 0) {
    log.info(
      `Kept the secrets the run added (${added.join(", ")}): removing a secret a revision refers to fails on Azure.`,
    );
  }
  for (const kept of outcome.notRestored) log.warning(`Not put back: ${kept}.`);
}

/** Gives this run's lease back, if the app still carries it; the rest is left as found. */
async function releaseOwnLease(
  deps: { apps: () => Promise<ContainerAppsPort>; run: RunContext },
  log: Log,
): Promise<void> {
  try {
    const apps = await deps.apps();
    const app = await apps.getApp();
    if (decodeLeaseTags(app.tags)?.runId === deps.run.runId) await giveLeaseBack(apps, app, log);
  } catch (error) {
    log.warning(`Could not release the lease: ${errorMessage(error)}`);
  }
}

/** Takes this run's lease off `app` (as just read), every other tag kept; never throws. */
async function giveLeaseBack(apps: ContainerAppsPort, app: AppState, log: Log): Promise<void> {
  await apps
    .updateTags(mergeOurTags(app.tags, {}))
    .then(() => log.info("Lease released; the app was left as found."))
    .catch((e: unknown) => log.warning(`Could not release the lease: ${errorMessage(e)}`));
}

export type InterruptedOutcome =
  | { kind: "nothing" }
  | { kind: "restored"; traffic: TrafficWeight[]; notRestored: string[] }
  | { kind: "promoted"; traffic: TrafficWeight[] }
  | { kind: "left"; message: string }
  | { kind: "failed"; message: string };

/**
 * Finishes a run that died (killed, cancelled before it could restore) from the journal it saved:
 * nothing when it had settled; the promotion finished when it had begun; else its traffic and
 * tags back and its candidate retired — unless someone else changed the app meanwhile, which is
 * left as they set it. Never throws; the outcome says what happened.
 */
export async function recoverInterrupted(
  journal: RunJournal | undefined,
  deps: {
    apps: () => Promise<ContainerAppsPort>;
    log: Log;
    clock: Clock;
    run: RunContext;
    waitReady: (apps: ContainerAppsPort, revision: string) => Promise<RevisionState>;
  },
): Promise<InterruptedOutcome> {
  if (!journal || journal.settled) return { kind: "nothing" };
  const { record } = journal;
  const { log, clock, run } = deps;
  try {
    const apps = await deps.apps();
    if (journal.promoting) {
      log.warning(
        `The promotion of ${record.candidate} did not finish; retiring what it had left: ${(record.retiring ?? []).join(", ") || "nothing"}`,
      );
      const traffic = await log.group("Finish promotion", () =>
        finishPromotion({ apps, run, clock, log }, journal),
      );
      return { kind: "promoted", traffic };
    }
    log.warning(
      `The deployment of ${record.candidate} did not finish; restoring the traffic of ${record.app} it found: ${formatTraffic(record.before)}`,
    );
    const outcome = await log.group("Restore", () =>
      restoreTraffic(apps, restoreRecord(journal), {
        log,
        clock,
        run,
        waitReady: (revision) => deps.waitReady(apps, revision),
        recordWrite: (write) => journal.recordWrite(write, clock.now()),
      }),
    );
    reportRestored(log, journal, outcome);
    journal.settle();
    return { kind: "restored", traffic: outcome.traffic, notRestored: outcome.notRestored };
  } catch (error) {
    if (error instanceof ExternalChange || error instanceof LeaseLost) {
      journal.settle();
      if (error instanceof ExternalChange) await releaseOwnLease(deps, log);
      return { kind: "left", message: error.message };
    }
    return {
      kind: "failed",
      message: `Restoring ${record.app} failed: ${errorMessage(error)}. ${manualRestore(record)}`,
    };
  }
}

/**
 * The report of a post step that finished an interrupted run: what the run's summary and `result`
 * would have said had it ended by itself.
 */
export function interruptedReport(
  journal: RunJournal,
  outcome: Exclude<InterruptedOutcome, { kind: "nothing" }>,
): DeploymentReport {
  const { record } = journal;
  const action = ACTIONS_WITH_JOURNAL.find((name) => name === record.action) ?? "deploy";
  const shifted = journal
    .expectedTraffic()
    .some((traffic) => traffic.some((e) => e.revisionName === record.candidate && e.weight > 0));
  const base = {
    action,
    app: record.app,
    resourceGroup: record.resourceGroup,
    candidate: record.candidate,
    initialTraffic: record.before,
    steps: [],
    phases: [],
    dryRun: false,
    errorCode: "Cancelled",
  };
  switch (outcome.kind) {
    case "restored":
      return {
        ...base,
        result:
          action === "deploy" ? (shifted ? "rolled-back" : "failed-before-traffic") : "failed",
        reason: `The run was interrupted before it finished; the post step put back the traffic it found.`,
        finalTraffic: outcome.traffic,
      };
    case "promoted":
      return {
        ...base,
        result: action === "rollback" ? "rolled-back" : "promoted",
        reason: `The run was interrupted while retiring the previous revisions; the post step finished the promotion of ${record.candidate}.`,
        finalTraffic: outcome.traffic,
      };
    case "left":
      return {
        ...base,
        result: "failed",
        errorCode: "TrafficChangedExternally",
        reason: `The run was interrupted, and the app was changed since: ${outcome.message}`,
        nextSteps: "Decide which traffic split is right, set it, and deploy again.",
        finalTraffic: [],
      };
    case "failed":
      return {
        ...base,
        result: "failed",
        reason: `The run was interrupted, and the post step could not put the traffic back.`,
        nextSteps: outcome.message,
        finalTraffic: [],
      };
  }
}

const ACTIONS_WITH_JOURNAL = ["deploy", "promote", "reject", "rollback"] as const;
