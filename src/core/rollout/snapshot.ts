/**
 * Phase "Snapshot": the app as the run finds it, before its first write — its traffic (weights and
 * labels), revisions, tags and ingress host name — with every reason the app cannot be rolled out
 * found here, before anything changes.
 */
import { DeployFailure } from "../failure.ts";
import { ingressFqdn } from "../fqdn.ts";
import type { AppState, RevisionState } from "../ports.ts";
import { formatTraffic } from "../report/format.ts";
import { decodeHeldTags } from "../tags.ts";
import { currentTraffic } from "../traffic/current.ts";
import { totalWeight } from "../traffic/resolve.ts";
import type { TrafficWeight } from "../types.ts";
import type { RolloutContext } from "./context.ts";
import { recoverDeadRun } from "./lease.ts";

/** The app as the run found it. */
export interface AppSnapshot {
  app: AppState;
  revisions: RevisionState[];
  traffic: TrafficWeight[];
  fqdn: string;
}

/**
 * Reads the app and its revisions together and checks that its traffic can be shifted. A run that
 * died mid-shift on this app is cleaned up first (`recoverDead`, unless it is a dry run).
 */
export async function takeSnapshot(
  ctx: RolloutContext,
  options: { recoverDead?: boolean } = {},
): Promise<AppSnapshot> {
  const { apps, log } = ctx.deps;
  const [app, revisions] = await Promise.all([apps.getApp(), apps.listRevisions()]);
  if ((options.recoverDead ?? true) && (await recoverDeadRun(ctx, app))) {
    return takeSnapshot(ctx, options);
  }
  if (!app.ingress) {
    throw new DeployFailure(
      `Container app ${app.name} has no ingress, so traffic cannot be split between revisions.`,
      {
        code: "IngressDisabled",
        nextSteps: `Enable ingress on ${app.name} (\`az containerapp ingress enable -n ${app.name} -g ${ctx.inputs.resourceGroup} --type external --target-port\` with the port the container listens on), then run again.`,
      },
    );
  }
  if (app.activeRevisionsMode.toLowerCase() === "labels") {
    throw new DeployFailure(
      `Container app ${app.name} uses the Labels revision mode, which routes by label only; this deployment needs weights.`,
      {
        code: "UnsupportedRevisionMode",
        nextSteps: `Switch ${app.name} to Multiple revision mode (\`az containerapp revision set-mode -n ${app.name} -g ${ctx.inputs.resourceGroup} --mode multiple\`), then run again.`,
      },
    );
  }
  ctx.environmentId = app.environmentId;
  const fqdn = (await ingressFqdn(apps, app)) ?? "";
  const traffic = currentTraffic(app);
  if (totalWeight(traffic) !== 100) {
    throw new DeployFailure(
      `The app's traffic adds up to ${totalWeight(traffic)}%, not 100% (${formatTraffic(traffic)}).`,
      { code: "InvalidTraffic", nextSteps: "Fix the app's traffic split, then run again." },
    );
  }
  const active = new Set(revisions.filter((r) => r.active).map((r) => r.name));
  const dark = traffic.filter((e) => e.weight > 0 && !active.has(e.revisionName));
  if (dark.length > 0) {
    log.warning(
      `Traffic already points at inactive revisions: ${formatTraffic(dark)}. Restoring the snapshot would keep that outage.`,
    );
  }
  ctx.found = traffic;
  ctx.report.initialTraffic = traffic;
  ctx.report.appUrl = `https://${fqdn}`;
  log.info(
    `App ${app.name} (${app.activeRevisionsMode} revision mode), ${revisions.length} revisions, ${active.size} active`,
  );
  log.info(`Traffic now: ${formatTraffic(traffic)}`);
  return { app, revisions, traffic, fqdn };
}

/** A deploy or a rollback must not run over a held deployment: promote or reject it first. */
export function refuseHeld(app: AppState, nextSteps: string): void {
  const held = decodeHeldTags(app.tags);
  if (held) {
    throw new DeployFailure(
      `A deployment of ${held.candidate} is held on ${app.name} (since ${held.at}, by ${held.holder}).`,
      { code: "DeploymentHeld", nextSteps },
    );
  }
}
