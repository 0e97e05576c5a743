import { DeployFailure, errorCode, errorMessage } from "../failure.ts";
import {
  JOURNAL_STATE_KEY,
  assertStillHeld,
  decodeHeldTags,
  userTags,
  type DeployJournal,
} from "../journal.ts";
import { acquireLease } from "../lease.ts";
import type { EngineDeps } from "../ports.ts";
import { formatTraffic } from "../report/format.ts";
import { currentTraffic, restoreSnapshot } from "../restore.ts";
import type { DeploymentReport, Inputs } from "../types.ts";
import { operatorReport, timedPhase } from "./report.ts";

/** How long a reject may hold the lease: one restore with its retries. */
const REJECT_LEASE_MS = 15 * 60_000;

/**
 * `action: reject`: puts back the traffic the held deployment found (weights and labels), removes
 * the held record, and deactivates the candidate it created. Refuses when the app no longer
 * routes what was held: that change is someone else's.
 */
export async function reject(inputs: Inputs, deps: EngineDeps): Promise<DeploymentReport> {
  const { apps, clock, log, run, state } = deps;
  const report = operatorReport(inputs);
  const phase = timedPhase(report, deps);
  try {
    const app = await phase("Snapshot", () => apps.getApp());
    const held = decodeHeldTags(app.tags);
    if (!held) {
      throw new DeployFailure(`${app.name} has no held deployment to reject.`, {
        code: "NothingHeld",
      });
    }
    const traffic = currentTraffic(app);
    report.initialTraffic = traffic;
    report.candidate = held.candidate;
    report.image = held.image;
    assertStillHeld(app.name, traffic, held);
    const leased = await phase("Lease", () => acquireLease(app, REJECT_LEASE_MS, deps));
    const journal: DeployJournal = {
      version: 1,
      subscriptionId: inputs.subscriptionId,
      resourceGroup: inputs.resourceGroup,
      app: app.name,
      runId: run.runId,
      candidate: held.candidate,
      createdCandidate: held.createdCandidate,
      keepFailedRevision: inputs.keepFailedRevision,
      snapshot: held.snapshot,
      tags: userTags(leased.tags),
      phase: "shifting",
    };
    state.save(JOURNAL_STATE_KEY, JSON.stringify(journal));
    const outcome = await phase("Restore", () => restoreSnapshot(apps, journal, { log, clock }));
    state.save(JOURNAL_STATE_KEY, JSON.stringify({ ...journal, phase: "settled" }));
    log.info(`Traffic restored: ${formatTraffic(outcome.traffic)}`);
    if (outcome.candidateDeactivated) log.info(`Deactivated ${held.candidate}`);
    report.finalTraffic = outcome.traffic;
    report.result = "rolled-back";
    report.reason = `The held deployment of ${held.candidate} was rejected; the traffic it found is back.`;
  } catch (error) {
    report.result = "failed";
    report.reason = errorMessage(error);
    report.errorCode = errorCode(error);
    report.nextSteps = error instanceof DeployFailure ? error.nextSteps : undefined;
    log.info(`Stopping: ${report.reason}`);
  }
  return report;
}
