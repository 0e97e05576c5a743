import { errorCode, errorMessage } from "../failure.ts";
import {
  LAST_TAG,
  decodeHeldTags,
  decodeLastPromotion,
  decodeLeaseTags,
  type HeldDeployment,
  type LastPromotion,
  type Lease,
} from "../tags.ts";
import { ingressFqdn } from "../fqdn.ts";
import type { EngineDeps } from "../ports.ts";
import { formatTraffic } from "../report/format.ts";
import { RolloutContext } from "../rollout/context.ts";
import { currentTraffic } from "../traffic/current.ts";
import type { DeploymentReport, Inputs, TrafficWeight } from "../types.ts";

export interface RevisionStatus {
  name: string;
  active: boolean;
  weight: number;
  labels: string[];
  image?: string;
  provisioningState: string;
  runningState: string;
  healthState: string;
  createdTime?: string;
}

/** What `action: status` reports, as the `status` output's JSON. */
export interface AppStatus {
  app: string;
  resourceGroup: string;
  activeRevisionsMode: string;
  url: string;
  latestRevision?: string;
  traffic: TrafficWeight[];
  revisions: RevisionStatus[];
  lease?: Lease & { live: boolean };
  held?: HeldDeployment;
  lastPromotion?: LastPromotion;
}

/** `action: status`: the app's revisions, traffic, labels, health, lease and held deployment. */
export async function status(
  inputs: Inputs,
  deps: EngineDeps,
): Promise<{ report: DeploymentReport; status?: AppStatus }> {
  const { apps, clock, log } = deps;
  const ctx = new RolloutContext(inputs, deps);
  const report = ctx.report;
  try {
    const found = await ctx.phase("Read", async () => {
      const [app, revisions] = await Promise.all([apps.getApp(), apps.listRevisions()]);
      const fqdn = await ingressFqdn(apps, app);
      return { app, revisions, fqdn };
    });
    const { app, revisions, fqdn } = found;
    const traffic = currentTraffic(app);
    const weights = new Map<string, number>();
    const labels = new Map<string, string[]>();
    for (const entry of traffic) {
      weights.set(entry.revisionName, (weights.get(entry.revisionName) ?? 0) + entry.weight);
      if (entry.label)
        labels.set(entry.revisionName, [...(labels.get(entry.revisionName) ?? []), entry.label]);
    }
    const lease = decodeLeaseTags(app.tags);
    let held: HeldDeployment | undefined;
    try {
      held = decodeHeldTags(app.tags);
    } catch (error) {
      log.warning(errorMessage(error));
    }
    const result: AppStatus = {
      app: app.name,
      resourceGroup: inputs.resourceGroup,
      activeRevisionsMode: app.activeRevisionsMode,
      url: fqdn ? `https://${fqdn}` : "",
      latestRevision: app.latestRevisionName,
      traffic,
      revisions: revisions
        .map((r) => ({
          name: r.name,
          active: r.active,
          weight: weights.get(r.name) ?? 0,
          labels: labels.get(r.name) ?? [],
          image: r.containers[0]?.image,
          provisioningState: r.provisioningState,
          runningState: r.runningState,
          healthState: r.healthState,
          createdTime: r.createdTime,
        }))
        .sort((a, b) => (b.createdTime ?? "").localeCompare(a.createdTime ?? "")),
      ...(lease && { lease: { ...lease, live: Date.parse(lease.until) > clock.now() } }),
      ...(held && { held }),
      ...(app.tags[LAST_TAG] && { lastPromotion: decodeLastPromotion(app.tags[LAST_TAG]) }),
    };
    log.info(`App ${app.name} (${app.activeRevisionsMode} revision mode) at ${result.url}`);
    log.info(`Traffic: ${formatTraffic(traffic)}`);
    for (const r of result.revisions) {
      log.info(
        `  ${r.name}${r.active ? "" : " (inactive)"}: ${r.weight}%${r.labels.length ? ` [${r.labels.join(", ")}]` : ""}, ${r.provisioningState}/${r.runningState}/${r.healthState}, ${r.image ?? "?"}`,
      );
    }
    if (result.lease) {
      log.info(
        `Lease: ${result.lease.holder} since ${result.lease.since}, until ${result.lease.until}${result.lease.live ? "" : " (expired)"}`,
      );
    }
    if (held) log.info(`Held: ${held.candidate} since ${held.at} by ${held.holder}`);
    if (result.lastPromotion) {
      log.info(
        `Last promotion: ${result.lastPromotion.revision} at ${result.lastPromotion.at}${result.lastPromotion.previous ? ` (previous ${result.lastPromotion.previous})` : ""}`,
      );
    }
    report.result = "unchanged";
    report.reason = `Status of ${app.name}: ${formatTraffic(traffic)}.`;
    report.initialTraffic = traffic;
    report.finalTraffic = traffic;
    report.appUrl = result.url || undefined;
    return { report, status: result };
  } catch (error) {
    report.reason = errorMessage(error);
    report.errorCode = errorCode(error);
    return { report };
  }
}
