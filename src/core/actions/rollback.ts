import { DeployFailure, errorCode, errorMessage } from "../failure.ts";
import {
  JOURNAL_STATE_KEY,
  LAST_TAG,
  decodeHeldTags,
  decodeLastPromotion,
  encodeLastPromotion,
  userTags,
  withTag,
  type DeployJournal,
} from "../journal.ts";
import { acquireLease } from "../lease.ts";
import { ingressFqdn } from "../fqdn.ts";
import type { AppState, EngineDeps, RevisionState } from "../ports.ts";
import { waitForRevisionReady } from "../readiness.ts";
import { formatDuration, formatTraffic } from "../report/format.ts";
import { currentTraffic, restoreSnapshot } from "../restore.ts";
import { bakeWithChecks, describeFailures, smokeCheck } from "../smoke.ts";
import { planRollout, sameTraffic, weightsByRevision } from "../traffic/plan.ts";
import type { DeploymentReport, Inputs, TrafficWeight } from "../types.ts";
import { DEFAULT_POLL } from "./deploy.ts";
import { operatorReport, timedPhase } from "./report.ts";

const ROLLBACK_LEASE_MARGIN_MS = 10 * 60_000;

/**
 * `action: rollback`: back to the previous production revision (`rollback-to`, else the last
 * promotion recorded on the app, else the revision carrying the previous label). Activates it when
 * it is inactive and waits until it is ready, checks it on its own revision URL (unless
 * `skip-checks`), gives it 100% with the production label — at once, in the same write that
 * releases the lease, or through `traffic-steps` — and deactivates the revisions that served
 * before. A failure before traffic moved leaves the app as it was.
 */
export async function rollback(inputs: Inputs, deps: EngineDeps): Promise<DeploymentReport> {
  const { apps, clock, log, run, signal, state } = deps;
  const report = operatorReport(inputs);
  const phase = timedPhase(report, deps);
  let journal: DeployJournal | undefined;
  let shifted = false;
  try {
    const { app, revisions, fqdn } = await phase("Snapshot", async () => {
      const [app, revisions] = await Promise.all([apps.getApp(), apps.listRevisions()]);
      if (!app.ingress) {
        throw new DeployFailure(`Container app ${app.name} has no ingress to roll back.`, {
          code: "IngressDisabled",
        });
      }
      const held = decodeHeldTags(app.tags);
      if (held) {
        throw new DeployFailure(
          `A deployment of ${held.candidate} is held on ${app.name}; reject it instead of rolling back.`,
          { code: "DeploymentHeld", nextSteps: "Run action: reject." },
        );
      }
      const fqdn = (await ingressFqdn(apps, app)) ?? "";
      return { app, revisions, fqdn };
    });
    const traffic = currentTraffic(app);
    report.initialTraffic = traffic;
    report.appUrl = `https://${fqdn}`;
    const target = chooseTarget(app, revisions, traffic, inputs);
    report.candidate = target.name;
    report.image = target.containers[0]?.image;
    log.info(
      `Rolling ${app.name} back to ${target.name} (${target.active ? "active" : "inactive"})`,
    );
    log.info(`Traffic now: ${formatTraffic(traffic)}`);
    if ((weightsByRevision(traffic).get(target.name) ?? 0) === 100) {
      report.result = "unchanged";
      report.reason = `${target.name} already serves 100% of traffic; nothing to roll back.`;
      report.finalTraffic = traffic;
      return report;
    }
    const labels = {
      candidate: inputs.candidateLabel,
      production: inputs.productionLabel,
      previous: inputs.previousLabel,
    };
    const plan = planRollout({
      initial: traffic,
      candidate: target.name,
      steps: inputs.trafficSteps,
      labels,
      retireAtOnce: true,
    });
    report.previous = plan.previousProduction;
    const retiring = plan.retiring.filter((name) => name !== target.name);

    const leased = await phase("Lease", () =>
      acquireLease(
        app,
        inputs.readinessTimeoutMs +
          inputs.smokeTimeoutMs +
          inputs.trafficSteps.length * inputs.stepWaitMs +
          ROLLBACK_LEASE_MARGIN_MS,
        deps,
      ),
    );
    journal = {
      version: 1,
      subscriptionId: inputs.subscriptionId,
      resourceGroup: inputs.resourceGroup,
      app: app.name,
      runId: run.runId,
      candidate: target.name,
      // Only a revision this run woke up is put back to sleep when the rollback fails.
      createdCandidate: !target.active,
      keepFailedRevision: false,
      snapshot: traffic,
      tags: userTags(leased.tags),
      phase: "shifting",
    };
    state.save(JOURNAL_STATE_KEY, JSON.stringify(journal));

    if (!target.active) {
      await phase("Activate", async () => {
        await apps.activateRevision(target.name, { signal });
        await waitForRevisionReady(apps, target.name, {
          clock,
          log,
          signal,
          deadline: clock.now() + inputs.readinessTimeoutMs,
          timeoutText: `\`readiness-timeout\` (${formatDuration(inputs.readinessTimeoutMs)})`,
          interval: deps.pollIntervalMs ?? DEFAULT_POLL,
          resourceGroup: inputs.resourceGroup,
        });
      });
    }
    const revisionUrl = `https://${target.name}.${fqdn.slice(app.name.length + 1)}`;
    if (inputs.skipChecks) {
      log.warning(
        `\`skip-checks: true\`: ${target.name} gets traffic without being checked first.`,
      );
    } else {
      report.labelUrl = revisionUrl;
      report.smoke = await phase("Smoke checks", () =>
        smokeCheck(revisionUrl, inputs, deps, {
          code: "SmokeChecksFailed",
          nextSteps: `Choose another revision with \`rollback-to\`, or use \`skip-checks: true\` in an emergency.`,
        }),
      );
    }

    const tags = withTag(
      journal.tags,
      LAST_TAG,
      encodeLastPromotion({
        revision: target.name,
        previous: plan.previousProduction,
        at: new Date(clock.now()).toISOString(),
      }),
    );
    const final = await phase("Traffic shift", async () => {
      let written: TrafficWeight[] = traffic;
      for (const [i, step] of plan.steps.entries()) {
        const last = i === plan.steps.length - 1;
        const started = clock.now();
        // The last write also gives the lease back: one traffic write for an immediate rollback.
        const app = await apps.updateTraffic(step, last ? tags : undefined, { signal });
        shifted = true;
        written = currentTraffic(app);
        if (!sameTraffic(written, step)) {
          throw new DeployFailure(
            `After step ${i + 1}, ${app.name} routes ${formatTraffic(written)} instead of ${formatTraffic(step)}.`,
            { code: "TrafficChangedExternally" },
          );
        }
        log.info(`[${i + 1}/${plan.steps.length}] ${formatTraffic(step)}`);
        if (!last && !inputs.skipChecks) await bake(revisionUrl, inputs, deps);
        report.steps.push({
          index: i + 1,
          weight: inputs.trafficSteps[i],
          traffic: step,
          startedAt: started,
          durationMs: clock.now() - started,
          checksPassed: 0,
          checksRun: 0,
          ok: true,
        });
      }
      return written;
    });
    journal.phase = "settled";
    state.save(JOURNAL_STATE_KEY, JSON.stringify(journal));
    await phase("Retire", async () => {
      const weights = weightsByRevision(final);
      for (const name of retiring) {
        if ((weights.get(name) ?? 0) > 0) continue;
        await apps.deactivateRevision(name, { signal });
        log.info(`Deactivated ${name}`);
      }
    });
    report.finalTraffic = final;
    report.result = "rolled-back";
    report.reason = `${target.name} serves 100% of traffic again${retiring.length ? `; ${retiring.join(", ")} deactivated` : ""}.`;
    return report;
  } catch (error) {
    const cancelled = signal?.aborted === true;
    report.reason = cancelled ? "The run was cancelled." : errorMessage(error);
    report.errorCode = cancelled ? "Cancelled" : errorCode(error);
    report.nextSteps = error instanceof DeployFailure ? error.nextSteps : undefined;
    log.info(`Stopping: ${report.reason}`);
    report.result = "failed";
    if (journal && journal.phase === "shifting") {
      try {
        const outcome = await phase("Restore", () =>
          restoreSnapshot(apps, journal!, { log, clock }),
        );
        report.finalTraffic = outcome.traffic;
        log.info(
          `Traffic ${shifted ? "restored" : "unchanged"}: ${formatTraffic(outcome.traffic)}`,
        );
        state.save(JOURNAL_STATE_KEY, JSON.stringify({ ...journal, phase: "settled" }));
      } catch (restoreError) {
        log.error(`Restoring the traffic failed too: ${errorMessage(restoreError)}`);
      }
    }
    return report;
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

/** A rollback step bakes like a deploy step: the checks keep running on the revision. */
async function bake(url: string, inputs: Inputs, deps: EngineDeps): Promise<void> {
  const failed = await bakeWithChecks(url, inputs.stepWaitMs, inputs, deps);
  if (failed) {
    throw new DeployFailure(
      `Checks on ${url} failed during the rollback: ${describeFailures(failed)}.`,
      { code: "ChecksFailedDuringShift" },
    );
  }
}
