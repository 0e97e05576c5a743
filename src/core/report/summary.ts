/**
 * The run's summary as GitHub-flavoured Markdown (job summary, Pipelines summary tab) and the
 * values of the outputs, both made from the DeploymentReport alone.
 */
import { OUTPUTS } from "../inputs/schema.ts";
import type { CheckRound, DeploymentReport, TrafficWeight } from "../types.ts";
import { formatDuration, formatTraffic } from "./format.ts";

const TITLES: Record<DeploymentReport["result"], string> = {
  promoted: "✅ Promoted",
  "rolled-back": "↩️ Rolled back",
  "failed-before-traffic": "❌ Failed before traffic",
  held: "⏸️ Held",
  unchanged: "➖ Unchanged",
  failed: "❌ Failed",
};

export function renderSummary(report: DeploymentReport): string {
  const sections = [
    heading(report),
    deployed(report),
    report.dryRun ? plannedTraffic(report) : timeline(report),
    report.smoke ? smokeChecks(report.smoke) : undefined,
    outcome(report),
    phases(report),
    finalTraffic(report),
  ];
  return `${sections.filter((section) => section !== undefined).join("\n\n")}\n`;
}

/** The value of every output in OUTPUTS; empty when the run never got that far. */
export function renderOutputs(report: DeploymentReport): Record<string, string> {
  const values: Record<string, string> = {
    result: report.result,
    revision: report.candidate ?? "",
    "previous-revision": report.previous ?? "",
    "label-url": report.labelUrl ?? "",
    "app-url": report.appUrl ?? "",
    traffic: JSON.stringify(report.finalTraffic),
    image: report.image ?? "",
  };
  return Object.fromEntries(OUTPUTS.map((output) => [output.name, values[output.name] ?? ""]));
}

function heading(report: DeploymentReport): string {
  const title = report.dryRun ? "🧪 Dry run" : TITLES[report.result];
  return [
    `## ${title} · ${code(report.app)}`,
    "",
    `Action ${code(report.action)} on container app ${code(report.app)} in resource group ${code(report.resourceGroup)}.`,
  ].join("\n");
}

function deployed(report: DeploymentReport): string {
  const items: [string, string | undefined][] = [
    ["Image", report.image && code(report.image)],
    ["Candidate revision", report.candidate && code(report.candidate)],
    ["Previous revision", report.previous && code(report.previous)],
    ["Label URL", report.labelUrl && link(report.labelUrl)],
    ["App URL", report.appUrl && link(report.appUrl)],
  ];
  const shown = items.filter((item): item is [string, string] => item[1] !== undefined);
  if (shown.length === 0)
    return "### What was deployed\n\nNothing: the run stopped before choosing a revision.";
  return [
    report.dryRun ? "### What would be deployed" : "### What was deployed",
    "",
    ...shown.map(([name, value]) => `- **${name}:** ${value}`),
  ].join("\n");
}

function timeline(report: DeploymentReport): string {
  const header = "### Traffic timeline";
  if (report.steps.length === 0) {
    const why =
      report.result === "failed-before-traffic"
        ? "No traffic was shifted: production traffic never reached the candidate."
        : "No traffic was shifted in this run.";
    return `${header}\n\n${why}`;
  }
  const rows = report.steps.map((step) => [
    `${step.index}`,
    `${step.weight}%`,
    formatTraffic(step.traffic),
    `${step.checksPassed}/${step.checksRun}`,
    formatDuration(step.durationMs),
    step.ok ? "✅ passed" : `❌ ${step.failure ?? "failed"}`,
  ]);
  return `${header}\n\n${table(
    ["Step", "To candidate", "Traffic split", "Checks passed", "Duration", "Result"],
    rows,
    ["right", "right", "left", "right", "right", "left"],
  )}`;
}

function plannedTraffic(report: DeploymentReport): string {
  const header = "### Planned traffic";
  const plan = report.plan ?? [];
  if (plan.length === 0) return `${header}\n\nNo traffic change was planned.`;
  const rows = plan.map((traffic, index) => [
    `${index + 1}`,
    report.candidate === undefined ? "" : `${weightOf(traffic, report.candidate)}%`,
    formatTraffic(traffic),
  ]);
  return `${header}\n\nNothing was changed in Azure. The run would set these traffic splits, in order:\n\n${table(
    ["Step", "To candidate", "Traffic split"],
    rows,
    ["right", "right", "left"],
  )}`;
}

function smokeChecks(round: CheckRound): string {
  const passed = round.results.filter((result) => result.ok).length;
  const rows = round.results.map((result) => [
    result.check,
    result.url,
    result.ok ? "✅" : "❌",
    result.status === undefined ? "" : `${result.status}`,
    result.latencyMs === undefined ? "" : formatDuration(result.latencyMs),
    result.failure ?? "",
  ]);
  return [
    "### Smoke checks",
    "",
    `${passed} of ${round.results.length} passed${round.ok ? "." : "; the last round is shown."}`,
    "",
    table(["Check", "URL", "Result", "Status", "Latency", "Failure"], rows, [
      "left",
      "left",
      "left",
      "right",
      "right",
      "left",
    ]),
  ].join("\n");
}

function outcome(report: DeploymentReport): string {
  const result = report.dryRun ? `dry run (${report.result})` : report.result;
  const lines = [
    "### Outcome",
    "",
    `**Result:** ${code(result)}`,
    "",
    `**Why:** ${inline(report.reason)}`,
  ];
  if (report.errorCode) lines.push("", `**Error code:** ${code(report.errorCode)}`);
  if (report.nextSteps) lines.push("", `**Next steps:** ${inline(report.nextSteps)}`);
  return lines.join("\n");
}

function phases(report: DeploymentReport): string | undefined {
  if (report.phases.length === 0) return undefined;
  const total = report.phases.reduce((sum, phase) => sum + phase.durationMs, 0);
  const rows = [
    ...report.phases.map((phase) => [phase.phase, formatDuration(phase.durationMs)]),
    ["**Total**", `**${formatDuration(total)}**`],
  ];
  return `### Phase durations\n\n${table(["Phase", "Duration"], rows, ["left", "right"])}`;
}

function finalTraffic(report: DeploymentReport): string {
  const header = report.dryRun ? "### Traffic (unchanged)" : "### Final traffic";
  const rows = report.finalTraffic.map((entry) => [
    entry.revisionName,
    `${entry.weight}%`,
    entry.label ?? "",
  ]);
  const lines = [header, ""];
  if (rows.length === 0) lines.push("The app reported no traffic entries.");
  else lines.push(table(["Revision", "Weight", "Label"], rows, ["left", "right", "left"]));
  if (!report.dryRun && !sameTraffic(report.initialTraffic, report.finalTraffic)) {
    lines.push("", `Before the run: ${inline(formatTraffic(report.initialTraffic))}`);
  }
  return lines.join("\n");
}

function weightOf(traffic: readonly TrafficWeight[], revision: string): number {
  return traffic
    .filter((entry) => entry.revisionName === revision)
    .reduce((sum, entry) => sum + entry.weight, 0);
}

function sameTraffic(a: readonly TrafficWeight[], b: readonly TrafficWeight[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (entry, index) =>
        entry.revisionName === b[index].revisionName &&
        entry.weight === b[index].weight &&
        entry.label === b[index].label,
    )
  );
}

type Align = "left" | "right";

function table(header: string[], rows: string[][], align: Align[]): string {
  const line = (cells: string[]) => `| ${cells.map(cell).join(" | ")} |`;
  const rule = `| ${align.map((a) => (a === "right" ? "---:" : "---")).join(" | ")} |`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

function cell(text: string): string {
  return text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
}

/** Text from the run (reasons, next steps) on one line, so it cannot open a block of its own. */
function inline(text: string): string {
  return text.replace(/\s*\r?\n\s*/g, " ").trim();
}

/** A code span that survives backticks inside the value. */
function code(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((run) => run[0].length));
  const fence = "`".repeat(longest + 1);
  const pad = longest > 0 ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

function link(url: string): string {
  return /^https?:\/\/[^\s<>]+$/.test(url) ? `<${url}>` : code(url);
}
