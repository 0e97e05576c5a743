/**
 * The run's summary as GitHub-flavoured Markdown (job summary, Pipelines summary tab) and the
 * values of the outputs, both made from the DeploymentReport alone.
 *
 * The summary answers in the order a reader asks: what happened, why, and what to do now; then
 * which checks failed, what was deployed, and how the run went over time.
 */
import {
  describeContainer,
  describeEvent,
  describeEventCount,
  describeLine,
  describeLogAnalytics,
  describeReplica,
  describeRequest,
  describeState,
  describeTailCount,
  headline,
} from "../diagnostics/describe.ts";
import type { CandidateDiagnostics } from "../diagnostics/types.ts";
import { OUTPUTS } from "../inputs/schema.ts";
import type { CheckRound, DeploymentReport, StepRecord, TrafficWeight } from "../types.ts";
import { formatDuration, formatTraffic } from "./format.ts";
import { failingStepGates, gatesOutput, gatesSection } from "./gates.ts";

/**
 * Where the summary is shown. GitHub draws Mermaid charts, so the timeline is a Gantt chart there;
 * the Pipelines summary tab does not, so it gets a table of the phases.
 */
export type SummaryFlavour = "github" | "azure-pipelines";

export interface SummaryOptions {
  flavour?: SummaryFlavour;
}

const TITLES: Record<DeploymentReport["result"], string> = {
  promoted: "✅ Promoted",
  "rolled-back": "↩️ Rolled back",
  "failed-before-traffic": "❌ Failed before traffic",
  held: "⏸️ Held",
  unchanged: "➖ Unchanged",
  failed: "❌ Failed",
};

export function renderSummary(report: DeploymentReport, options: SummaryOptions = {}): string {
  const flavour = options.flavour ?? "github";
  const failedStep = report.steps.find((step) => !step.ok);
  const smokeFailed = report.smoke !== undefined && !report.smoke.ok;
  const sections = [
    heading(report),
    outcome(report),
    failedStep?.failedRound ? failingStepChecks(failedStep, failedStep.failedRound) : undefined,
    failingStepGates(report),
    report.smoke && smokeFailed ? smokeChecks(report, report.smoke) : undefined,
    report.diagnostics ? diagnosticsSection(report.diagnostics) : undefined,
    deployed(report),
    changes(report),
    ...(report.dryRun ? [plannedTraffic(report)] : timeline(report, flavour)),
    gatesSection(report),
    report.smoke && !smokeFailed ? smokeChecks(report, report.smoke) : undefined,
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
    diagnostics: report.diagnostics ? JSON.stringify(report.diagnostics) : "",
    gates: gatesOutput(report),
  };
  return Object.fromEntries(OUTPUTS.map((output) => [output.name, values[output.name] ?? ""]));
}

function heading(report: DeploymentReport): string {
  const title = report.dryRun ? "🧪 Dry run" : TITLES[report.result];
  return `## ${title} · ${code(report.app)}`;
}

function outcome(report: DeploymentReport): string {
  const result = report.dryRun ? `dry run (${report.result})` : report.result;
  const revision = report.candidate ? ` of ${code(report.candidate)}` : "";
  const lines = [
    `**Result:** ${code(result)}: ${code(report.action)}${revision} on container app ${code(report.app)} in resource group ${code(report.resourceGroup)}.`,
    "",
    `**Why:** ${sentence(report.reason)}`,
  ];
  if (report.errorCode) lines.push("", `**Error code:** ${code(report.errorCode)}`);
  const next = nextSteps(report);
  if (next.length === 1) lines.push("", `**Next steps:** ${next[0]}`);
  if (next.length > 1) lines.push("", "**Next steps:**", "", ...next.map((step) => `- ${step}`));
  return lines.join("\n");
}

/**
 * What the engine advises, then the commands that show why, for this app and resource group: a
 * reader should never have to fill in a name.
 */
function nextSteps(report: DeploymentReport): string[] {
  const steps = report.nextSteps ? [sentence(report.nextSteps)] : [];
  const where = `-n ${report.app} -g ${report.resourceGroup}`;
  const failed = report.result !== "promoted" && report.result !== "unchanged";
  // A run that stopped before it reached Azure has nothing there to look at.
  const beforeAzure =
    report.errorCode === "InvalidInput" || report.errorCode === "InvalidEnvironment";
  if (report.dryRun || !failed || beforeAzure) return steps;
  if (report.result === "held") {
    steps.push(
      `Look at ${report.candidate ? code(report.candidate) : "the held revision"} on its label URL, then run this step again with ${code("action: promote")} or ${code("action: reject")}.`,
    );
    return steps;
  }
  if (report.candidate && report.action !== "rollback") {
    steps.push(
      `Read what ${code(report.candidate)} logged: ${code(`az containerapp logs show ${where} --revision ${report.candidate} --type console`)}.`,
    );
  }
  steps.push(
    `See the revisions and their traffic: ${code(`az containerapp revision list ${where} -o table`)}.`,
  );
  return steps;
}

function failingStepChecks(step: StepRecord, round: CheckRound): string {
  const passed = round.results.filter((result) => result.ok).length;
  return [
    `### ❌ Failing checks at step ${step.index} (${step.weight}% of traffic to the candidate)`,
    "",
    `The round of checks that failed the step: ${passed} of ${round.results.length} passed.`,
    "",
    checksTable(round),
  ].join("\n");
}

/** The checks before any production traffic moved: on the candidate's label URL. */
function smokeChecks(report: DeploymentReport, round: CheckRound): string {
  const passed = round.results.filter((result) => result.ok).length;
  const where =
    report.action === "rollback" ? "on the revision rolled back to" : "on the label URL";
  const text = round.ok
    ? `Passed ${where} before any production traffic moved: ${passed} of ${round.results.length}.`
    : `Failed ${where}, so no production traffic moved: ${passed} of ${round.results.length} passed in the last round.`;
  return [
    round.ok ? "### Pre-traffic smoke checks" : "### ❌ Pre-traffic smoke checks",
    "",
    text,
    "",
    checksTable(round),
  ].join("\n");
}

function checksTable(round: CheckRound): string {
  const rows = round.results.map((result) => [
    result.check,
    result.url,
    result.ok ? "✅" : "❌",
    result.status === undefined ? "" : `${result.status}`,
    result.latencyMs === undefined ? "" : formatDuration(result.latencyMs),
    result.failure ?? "",
  ]);
  return table(["Check", "URL", "Result", "Status", "Latency", "Failure"], rows, [
    "left",
    "left",
    "left",
    "right",
    "right",
    "left",
  ]);
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

/**
 * What the deploy changes beyond traffic: revision scope (the new revision only), then
 * application scope (every revision at once), its warnings, the secrets it added (they stay), and
 * what a restore could not put back.
 */
function changes(report: DeploymentReport): string | undefined {
  const planned = report.changes ?? [];
  const warnings = report.warnings ?? [];
  const notRestored = report.notRestored ?? [];
  if (planned.length === 0 && warnings.length === 0 && notRestored.length === 0) return undefined;
  const lines = [report.dryRun ? "### Changes it would make" : "### Changes"];
  for (const scope of ["revision", "application"] as const) {
    const items = planned.filter((change) => change.scope === scope);
    if (items.length === 0) continue;
    lines.push(
      "",
      scope === "revision"
        ? "**Revision scope** (the new revision only):"
        : "**Application scope** (every revision at once, blue included):",
      "",
      ...items.map(
        (change) => `- ${inline(change.what)}${change.note ? ` (${inline(change.note)})` : ""}`,
      ),
    );
  }
  for (const warning of warnings) lines.push("", `> ⚠️ ${inline(warning)}`);
  const added = report.addedSecrets ?? [];
  if (added.length > 0) {
    lines.push(
      "",
      `**Secrets added:** ${added.map(code).join(", ")}. They stay after a restore: removing a secret a revision refers to fails on Azure.`,
    );
  }
  if (notRestored.length > 0) {
    lines.push(
      "",
      "**Not put back by the restore:**",
      "",
      ...notRestored.map((item) => `- ${inline(item)}`),
    );
  }
  return lines.join("\n");
}

function timeline(report: DeploymentReport, flavour: SummaryFlavour): string[] {
  const chart = flavour === "github" ? ganttChart(report) : undefined;
  return [
    trafficSteps(report),
    ...(chart ? [chart] : [phaseTable(report)].filter((table) => table !== undefined)),
  ];
}

function trafficSteps(report: DeploymentReport): string {
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

/**
 * The phases and the traffic steps on one time axis, as a Mermaid Gantt chart: where the time
 * went, and which step failed. Undefined when the phases carry no start times.
 */
function ganttChart(report: DeploymentReport): string | undefined {
  if (report.phases.length === 0) return undefined;
  if (report.phases.some((phase) => phase.startedAt === undefined)) return undefined;
  const total = report.phases.reduce((sum, phase) => sum + phase.durationMs, 0);
  const bar = (name: string, tags: string, start: number, durationMs: number) =>
    `    ${ganttText(name)} (${formatDuration(durationMs)}) :${tags}${Math.round(start)}, ${Math.round(start + Math.max(1, durationMs))}`;
  const lines = [
    "```mermaid",
    "gantt",
    "    dateFormat x",
    "    axisFormat %H:%M:%S",
    "    todayMarker off",
    "    section Phases",
    ...report.phases.map((phase) => bar(phase.phase, "", phase.startedAt ?? 0, phase.durationMs)),
  ];
  if (report.steps.length > 0) {
    lines.push("    section Traffic steps");
    for (const step of report.steps) {
      lines.push(
        bar(
          `Step ${step.index} at ${step.weight}%`,
          step.ok ? "done, " : "crit, ",
          step.startedAt,
          step.durationMs,
        ),
      );
    }
  }
  lines.push("```");
  return [`### Phases over time`, "", `Total: ${formatDuration(total)}.`, "", ...lines].join("\n");
}

/** Mermaid ends a task's name at `:` and reads `#` and `;` as markup. */
function ganttText(text: string): string {
  return text.replace(/[:#;\r\n]+/g, " ").trim();
}

function phaseTable(report: DeploymentReport): string | undefined {
  if (report.phases.length === 0) return undefined;
  const total = report.phases.reduce((sum, phase) => sum + phase.durationMs, 0);
  const rows = [
    ...report.phases.map((phase) => [phase.phase, formatDuration(phase.durationMs)]),
    ["**Total**", `**${formatDuration(total)}**`],
  ];
  return `### Phase durations\n\n${table(["Phase", "Duration"], rows, ["left", "right"])}`;
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

/**
 * What the failed candidate said about itself, collapsed: the headline in the summary line, then
 * its state, its replicas, the failed request, the platform's events and its console lines.
 */
function diagnosticsSection(diagnostics: CandidateDiagnostics): string {
  const { state, replicas, failedRequest } = diagnostics;
  const parts: string[] = [];
  if (state) {
    const details = [
      state.provisioningError && `- **Provisioning error:** ${inline(state.provisioningError)}`,
      state.runningStateDetails && `- **Running state:** ${inline(state.runningStateDetails)}`,
    ].filter((line): line is string => Boolean(line));
    parts.push([`**Revision:** ${describeState(state)}.`, ...details].join("\n"));
  }
  if (replicas) {
    const rows = replicas.flatMap((replica) =>
      replica.containers.map((container) => [
        replica.name,
        describeReplica(replica),
        container.name,
        describeContainer(container),
      ]),
    );
    parts.push(
      rows.length === 0
        ? "**Replicas:** none."
        : table(["Replica", "Replica state", "Container", "Container state"], rows, [
            "left",
            "left",
            "left",
            "left",
          ]),
    );
  }
  if (failedRequest) {
    const headers = Object.entries(failedRequest.headers ?? {});
    parts.push(
      [
        `**Failed request** (${code(failedRequest.check)}): ${code(describeRequest(failedRequest))}${failedRequest.status === undefined ? "" : `: ${inline(failedRequest.failure)}`}`,
        ...(headers.length > 0 ? ["", table(["Header", "Value"], headers, ["left", "left"])] : []),
        ...(failedRequest.bodyPrefix
          ? ["", "Body (first bytes):", "", codeBlock(failedRequest.bodyPrefix)]
          : []),
      ].join("\n"),
    );
  }
  if (diagnostics.systemEvents.length > 0) {
    parts.push(
      `**System events** (${describeEventCount(diagnostics)}):\n\n${codeBlock(diagnostics.systemEvents.map(describeEvent).join("\n"))}`,
    );
  }
  for (const tail of diagnostics.console) {
    parts.push(
      tail.lines.length === 0
        ? `**Console of ${code(tail.container)} in ${code(tail.replica)}:** nothing printed.`
        : `**Console of ${code(tail.container)} in ${code(tail.replica)}** (${describeTailCount(tail)}):\n\n${codeBlock(tail.lines.map(describeLine).join("\n"))}`,
    );
  }
  if (diagnostics.logAnalytics) {
    parts.push(`**Log Analytics:** ${inline(describeLogAnalytics(diagnostics.logAnalytics))}.`);
  }
  if (diagnostics.warnings.length > 0) {
    parts.push(diagnostics.warnings.map((warning) => `- ⚠️ ${inline(warning)}`).join("\n"));
  }
  parts.push(
    `Collected in ${formatDuration(diagnostics.durationMs)}, once the previous traffic was back and before the revision was deactivated.`,
  );
  return [
    "<details>",
    `<summary><strong>🔎 Diagnostics of ${html(diagnostics.revision)}</strong>: ${html(headline(diagnostics))}</summary>`,
    "",
    parts.join("\n\n"),
    "",
    "</details>",
  ].join("\n");
}

/** A fenced block that no backtick run inside the text can close. */
function codeBlock(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((run) => run[0].length));
  const fence = "`".repeat(longest + 1);
  return `${fence}text\n${text.replace(/\r\n?/g, "\n")}\n${fence}`;
}

function html(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
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

/**
 * Text from the run as one sentence: on one line, ending in exactly one stop. Messages are often
 * made of parts that each end in a stop ("... retry the operation." + "."); the reader should
 * never see two.
 */
function sentence(text: string): string {
  const line = inline(text)
    .replace(/[\s,;:]+$/, "")
    .replace(/([.!?])(?:\s*\.)+(?=\s|$)/g, "$1")
    .replace(/[,;:]\s*\.(?=\s|$)/g, ".");
  if (line === "") return line;
  return /[.!?]$/.test(line) ? line : `${line}.`;
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
