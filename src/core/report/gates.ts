/**
 * The gates in the summary and in the `gates` output: for each step, every comparison with the
 * samples, rates, percentiles, p-value and level it was judged on, its verdict and why.
 */
import { formatP, percent, worstVerdict } from "../judge/compare.ts";
import type { ComparisonVerdict, SideSummary, StepGates, Verdict } from "../judge/types.ts";
import type { DeploymentReport, StepRecord } from "../types.ts";
import { formatDuration } from "./format.ts";

const ICONS: Record<Verdict, string> = {
  pass: "✅ pass",
  fail: "❌ fail",
  inconclusive: "⚠️ inconclusive",
  skipped: "➖ skipped",
};

type JudgedStep = StepRecord & { gates: StepGates };

function judgedSteps(report: DeploymentReport): JudgedStep[] {
  return report.steps.filter((step): step is JudgedStep => step.gates !== undefined);
}

/** The `gates` output: empty without gates, else the verdicts of every step as JSON. */
export function gatesOutput(report: DeploymentReport): string {
  const steps = judgedSteps(report);
  if (steps.length === 0) return "";
  return JSON.stringify({
    verdict: worstVerdict(steps.map((step) => step.gates.verdict)),
    steps: steps.map((step) => ({
      step: step.index,
      weight: step.weight,
      ...step.gates,
    })),
  });
}

/** The step whose gates stopped the run, if any. */
function stoppedBy(report: DeploymentReport): JudgedStep | undefined {
  return judgedSteps(report).find(
    (s) => !s.ok && (s.gates.verdict === "fail" || s.gates.verdict === "inconclusive"),
  );
}

/** The gates of the step that failed, right under the outcome: what a reader asks first. */
export function failingStepGates(report: DeploymentReport): string | undefined {
  const step = stoppedBy(report);
  if (!step) return undefined;
  const title =
    step.gates.verdict === "fail"
      ? `### ❌ Failing gates at step ${step.index} (${step.weight}% of traffic to the candidate)`
      : `### ⚠️ Gates without enough data at step ${step.index} (${step.weight}% of traffic to the candidate)`;
  return [
    title,
    "",
    stepLine(step),
    "",
    comparisonTable(step.gates.comparisons),
    "",
    budgetLine(step.gates.comparisons),
  ].join("\n");
}

function budgetLine(comparisons: readonly ComparisonVerdict[]): string {
  const alpha = comparisons.find((v) => v.alpha > 0)?.alpha;
  if (alpha === undefined) return "";
  return `Each comparison at each look needed p < ${formatP(alpha)}: the false-alarm budget split over every look of the rollout. A candidate fails only when it is significantly worse and beyond the floor; too little data is never taken for good.`;
}

/** Every judged step's gates, in order, but for the one already shown at the top. */
export function gatesSection(report: DeploymentReport): string | undefined {
  const shown = stoppedBy(report);
  const steps = judgedSteps(report).filter((step) => step !== shown);
  if (steps.length === 0) return undefined;
  const lines = ["### Gates", ""];
  const budget = budgetLine(steps.flatMap((step) => step.gates.comparisons));
  if (budget) lines.push(budget, "");
  for (const step of steps) {
    lines.push(`#### Step ${step.index} at ${step.weight}%`, "", stepLine(step), "");
    if (step.gates.comparisons.length > 0) {
      lines.push(comparisonTable(step.gates.comparisons), "");
    }
  }
  return lines.join("\n").trimEnd();
}

function stepLine(step: JudgedStep): string {
  const { gates } = step;
  const parts = [
    `**${ICONS[gates.verdict]}**`,
    `${gates.looks} look${gates.looks === 1 ? "" : "s"}`,
  ];
  if (gates.requestsSent !== undefined) {
    parts.push(`${gates.requestsSent} side-by-side requests to each revision`);
  }
  if (gates.waitedMs > 0) parts.push(`waited ${formatDuration(gates.waitedMs)} for late data`);
  if (gates.extendedMs > 0) parts.push(`bake extended by ${formatDuration(gates.extendedMs)}`);
  return `${parts.join(" · ")}${gates.reason ? `: ${inline(gates.reason)}` : ""}`;
}

function comparisonTable(comparisons: readonly ComparisonVerdict[]): string {
  const header = [
    "Comparison",
    "Verdict",
    "Candidate",
    "Stable",
    "Effect",
    "p-value",
    "Level",
    "Why",
  ];
  const rows = comparisons.map((v) => [
    v.comparison,
    ICONS[v.verdict],
    describeSide(v.candidate),
    v.stable ? describeSide(v.stable) : "",
    effect(v),
    v.pValue === undefined ? "" : formatP(v.pValue),
    formatP(v.alpha),
    v.reason,
  ]);
  const line = (cells: string[]) =>
    `| ${cells.map((c) => c.replace(/\r?\n/g, " ").replace(/\|/g, "\\|")).join(" | ")} |`;
  return [
    line(header),
    "| --- | --- | --- | --- | ---: | ---: | ---: | --- |",
    ...rows.map(line),
  ].join("\n");
}

function describeSide(side: SideSummary): string {
  const parts = [`${side.samples} req`];
  if (side.errorRate !== undefined && side.samples > 0)
    parts.push(`${percent(side.errorRate)} err`);
  if (side.p50 !== undefined) {
    parts.push(`p50 ${ms(side.p50)} · p95 ${ms(side.p95)} · p99 ${ms(side.p99)}`);
  }
  return parts.join(", ");
}

function effect(v: ComparisonVerdict): string {
  if (v.effect === undefined) return "";
  if (v.comparison.endsWith("latency")) return `${v.effect.toFixed(2)}× (floor ${v.floor}×)`;
  if (v.comparison === "production 5xx rate") {
    return `${percent(v.effect)} (ceiling ${percent(v.floor ?? 0)})`;
  }
  const points = (value: number) => `${value >= 0 ? "+" : ""}${(value * 100).toFixed(1)} pt`;
  return `${points(v.effect)} (margin ${points(v.floor ?? 0)})`;
}

function ms(value: number | undefined): string {
  return value === undefined ? "?" : `${Math.round(value)} ms`;
}

function inline(text: string): string {
  return text.replace(/\s*\r?\n\s*/g, " ").trim();
}
