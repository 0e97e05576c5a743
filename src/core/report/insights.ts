/**
 * The job summary of `action: insights`: the four keys in a table, each number linked to the
 * rollouts behind it, the indicative DORA band and the trend, then mermaid charts (GitHub renders
 * them; other viewers show the chart's text) and the rollouts of the window. Pure.
 */
import type { InsightsReport, KeyReport, RolloutRef, Trend } from "../insights/insights.ts";

const TREND: Record<Trend, string> = {
  better: "⬆️ better",
  worse: "⬇️ worse",
  same: "➡️ same",
  new: "🆕 no data before",
  none: "no data",
};

const SECTIONS = {
  deploymentFrequency: "Deployment frequency",
  leadTime: "Lead time for changes",
  changeFailureRate: "Change failure rate",
  recoveryTime: "Failed deployment recovery time",
} as const;

export function renderInsightsSummary(report: InsightsReport): string {
  const apps = report.apps.map((a) => `\`${a.app}\``).join(", ");
  const groups = [...new Set(report.apps.map((a) => `\`${a.resourceGroup}\``))].join(", ");
  const days = plural(report.window.days, "day");
  const f = report.deploymentFrequency;
  const l = report.leadTime;
  const c = report.changeFailureRate;
  const r = report.recoveryTime;
  const rows = [
    row(
      "deploymentFrequency",
      f,
      `${frequency(f.value, f.perWeek)} (${plural(f.deploys, "promoted deploy")})`,
      frequency(f.previous),
    ),
    row(
      "leadTime",
      l,
      l.value === undefined
        ? "no commit measured"
        : `median ${duration(l.value)}, p90 ${duration(l.p90 ?? l.value)} (${plural(l.commits, "commit")})`,
      l.previous === undefined ? "" : `median ${duration(l.previous)}`,
    ),
    row(
      "changeFailureRate",
      c,
      c.value === undefined
        ? "no rollout reached traffic"
        : `${percent(c.value)} (${c.failures} of ${plural(c.reachedTraffic, "rollout")} that reached traffic)`,
      c.previous === undefined ? "" : percent(c.previous),
    ),
    row(
      "recoveryTime",
      r,
      r.value === undefined
        ? r.unrecovered > 0
          ? `not recovered yet (${plural(r.unrecovered, "failure")})`
          : "no change failure"
        : `median ${duration(r.value)} (${plural(r.recovered, "recovery", "recoveries")}${r.unrecovered ? `, ${r.unrecovered} not yet` : ""})`,
      r.previous === undefined ? "" : `median ${duration(r.previous)}`,
    ),
  ];
  return [
    `## 📈 Delivery insights · ${apps}`,
    "",
    `The last ${days} (${day(report.window.from)} to ${day(report.window.to)}) of ${apps} in ${groups}, from ${report.source}, compared with the ${days} before.`,
    "",
    `| Key | This window | Trend (before) | Band (DORA ${report.bands.year}, indicative) |`,
    "| --- | --- | --- | --- |",
    ...rows,
    "",
    `Bands: the [${report.bands.source}](${report.bands.url}). They are clusters of that year's survey answers, not thresholds: read them as an indication. A value between two clusters takes the nearest.`,
    "",
    ...charts(report),
    "### Behind the numbers",
    "",
    behind("deploymentFrequency", f.rollouts, "promoted rollouts that started in the window"),
    behind("leadTime", l.rollouts, "promoted rollouts whose commits were measured"),
    behind("changeFailureRate", c.rollouts, "rollouts that reached production traffic"),
    behind("recoveryTime", r.rollouts, "change failures"),
    rolloutsTable(report),
  ].join("\n");
}

function row(key: keyof typeof SECTIONS, report: KeyReport, value: string, before: string): string {
  const anchor = `#${SECTIONS[key].toLowerCase().replace(/ /g, "-")}`;
  const band = report.band
    ? `${report.band.cluster}: ${report.band.text}${report.band.within ? "" : " (nearest)"}`
    : "";
  const trend = `${TREND[report.trend]}${before && report.trend !== "none" ? ` (${before})` : ""}`;
  return `| ${SECTIONS[key]} | [${cell(value)}](${anchor}) | ${cell(trend)} | ${cell(band)} |`;
}

function charts(report: InsightsReport): string[] {
  const labels = report.weeks.map((w) => `"${w.from.slice(5, 10)}"`).join(", ");
  const deploys = report.weeks.map((w) => w.deploys);
  const lines = [
    "### Promoted deploys per week",
    "",
    "```mermaid",
    "xychart-beta",
    `  x-axis "Week starting" [${labels}]`,
    `  y-axis "Deploys" 0 --> ${Math.max(1, ...deploys)}`,
    `  bar [${deploys.join(", ")}]`,
    "```",
    "",
  ];
  const measured = report.weeks.filter((w) => w.medianLeadTimeMs !== undefined);
  if (measured.length === 0) return lines;
  const hours = measured.map(
    (w) => Math.round(((w.medianLeadTimeMs as number) / 3_600_000) * 10) / 10,
  );
  return [
    ...lines,
    "### Lead time for changes per week",
    "",
    "```mermaid",
    "xychart-beta",
    `  x-axis "Week starting" [${measured.map((w) => `"${w.from.slice(5, 10)}"`).join(", ")}]`,
    `  y-axis "Median hours" 0 --> ${Math.max(1, Math.ceil(Math.max(...hours)))}`,
    `  line [${hours.join(", ")}]`,
    "```",
    "",
  ];
}

function behind(key: keyof typeof SECTIONS, rollouts: RolloutRef[], what: string): string {
  const items = rollouts.map((r) => `- ${describe(r)}`);
  return [
    `#### ${SECTIONS[key]}`,
    "",
    rollouts.length === 0 ? `No ${what}.` : `${capital(what)}:`,
    ...(rollouts.length === 0 ? [] : ["", ...items]),
    "",
  ].join("\n");
}

function rolloutsTable(report: InsightsReport): string {
  if (report.rollouts.length === 0) return "### Rollouts\n\nNo rollout started in the window.\n";
  const rows = report.rollouts.map(
    (r) =>
      `| ${time(r.startedAt)} | \`${r.app}\` | ${r.revision ? `\`${r.revision}\`` : ""} | ${r.commit ? `\`${r.commit.slice(0, 7)}\`` : ""} | ${r.outcome} | ${r.firstTrafficAt ? time(r.firstTrafficAt) : ""} | ${r.promotedAt ? time(r.promotedAt) : ""} | ${r.changeFailure ?? ""} | ${r.recoveryMs === undefined ? "" : duration(r.recoveryMs)} | ${links(r)} |`,
  );
  return [
    "### Rollouts",
    "",
    "| Started | App | Revision | Commit | Outcome | First traffic | Promoted | Change failure | Recovery | Runs |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | ---: | --- |",
    ...rows,
    "",
  ].join("\n");
}

function describe(r: RolloutRef): string {
  const when = r.promotedAt
    ? `promoted ${time(r.promotedAt)}`
    : `${r.outcome}, started ${time(r.startedAt)}`;
  const runs = links(r);
  return `\`${r.revision ?? r.app}\` (${when})${runs ? ` ${runs}` : ""}`;
}

function links(r: RolloutRef): string {
  return r.links
    .filter((url) => /^https?:\/\/[^\s<>()]+$/.test(url))
    .map((url, index) => `[run ${index + 1}](${url})`)
    .join(" ");
}

/** Deploys per day when at least one a day, else per week. */
function frequency(
  perDay: number | undefined,
  perWeek = perDay === undefined ? undefined : perDay * 7,
): string {
  if (perDay === undefined || perWeek === undefined) return "";
  if (perDay >= 1) return `${round(perDay)} per day`;
  return `${round(perWeek)} per week`;
}

/** `42m`, `3h 10m`, `2d 4h`. */
export function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${String(minutes % 60).padStart(2, "0")}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

function percent(rate: number): string {
  return `${round(rate * 100)}%`;
}

function round(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

function capital(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

function day(iso: string): string {
  return iso.slice(0, 10);
}

function time(iso: string): string {
  return `${iso.slice(0, 16).replace("T", " ")} UTC`;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|");
}
