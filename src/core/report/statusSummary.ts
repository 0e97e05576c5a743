import type { AppStatus } from "../actions/status.ts";
import { formatTraffic } from "./format.ts";

/** The job summary of `action: status`: one table of revisions, then lease and held deployment. */
export function renderStatusSummary(status: AppStatus): string {
  const lines = [
    `## ℹ️ Status · \`${status.app}\``,
    "",
    `Container app \`${status.app}\` in resource group \`${status.resourceGroup}\` (${status.activeRevisionsMode} revision mode)${status.url ? ` at <${status.url}>` : ""}.`,
    "",
    `**Traffic:** ${formatTraffic(status.traffic) || "none"}`,
    "",
    "| Revision | Active | Traffic | Labels | Provisioning | Running | Health | Image |",
    "| --- | --- | ---: | --- | --- | --- | --- | --- |",
    ...status.revisions.map(
      (r) =>
        `| ${r.name} | ${r.active ? "yes" : "no"} | ${r.weight}% | ${r.labels.join(", ")} | ${r.provisioningState} | ${r.runningState} | ${r.healthState} | \`${r.image ?? ""}\` |`,
    ),
    "",
  ];
  if (status.lease) {
    lines.push(
      `**Lease:** ${status.lease.holder}, since ${status.lease.since}, until ${status.lease.until}${status.lease.live ? "" : " (expired: another run may take it over)"}`,
      "",
    );
  }
  if (status.held) {
    lines.push(
      `**Held deployment:** ${status.held.candidate} since ${status.held.at} by ${status.held.holder}, at ${formatTraffic(status.held.traffic)}; run \`action: promote\` or \`action: reject\`.`,
      "",
    );
  }
  if (status.lastPromotion) {
    lines.push(
      `**Last promotion:** ${status.lastPromotion.revision} at ${status.lastPromotion.at}${status.lastPromotion.previous ? `; rollback target ${status.lastPromotion.previous}` : ""}.`,
      "",
    );
  }
  return lines.join("\n");
}
