/**
 * The Markdown of docs/reliability.md: each figure renders into its own marked section, so that a
 * run of some figures replaces only theirs and leaves the others as they were last measured.
 */
import type { FuzzOutcome } from "./fuzz.ts";
import type { LoadFigure } from "./load.ts";
import { FAULTS, PHASES, type CellResult } from "./matrix.ts";
import { NOT_NEEDED, OPERATIONS } from "./role.ts";
import type { SecretScenarioResult } from "./secrets.ts";

export type Section = "run" | "matrix" | "load" | "secrets" | "fuzz" | "role";

/** Replaces the section between its markers; throws when the document has no such section. */
export function replaceSection(document: string, section: Section, body: string): string {
  const start = `<!-- figures:${section} -->`;
  const end = `<!-- /figures:${section} -->`;
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from === -1 || to < from) throw new Error(`docs/reliability.md has no ${section} section.`);
  return `${document.slice(0, from + start.length)}\n${body.trim()}\n${document.slice(to)}`;
}

/** The text between a section's markers. */
export function sectionBody(document: string, section: Section): string {
  const start = `<!-- figures:${section} -->`;
  const from = document.indexOf(start);
  const to = document.indexOf(`<!-- /figures:${section} -->`);
  return from === -1 || to < from ? "" : document.slice(from + start.length, to).trim();
}

/**
 * When and where each figure was last measured, one line each: the lines of the figures run now
 * are replaced, the others kept.
 */
export function renderRun(
  previous: string,
  runs: { section: Section; date: string; machine: string; minutes: number }[],
): string {
  const lines = new Map<string, string>();
  for (const line of previous.split("\n")) {
    const match = /^- ([a-z]+): /.exec(line);
    if (match) lines.set(match[1], line);
  }
  for (const run of runs) {
    lines.set(
      run.section,
      `- ${run.section}: ${run.date} on ${run.machine}, ${run.minutes.toFixed(1)} min`,
    );
  }
  const order: Section[] = ["matrix", "load", "secrets", "fuzz", "role"];
  return order
    .filter((section) => lines.has(section))
    .map((section) => lines.get(section))
    .join("\n");
}

const MARK = { consistent: "✓", inconsistent: "✗", "n/a": "—" } as const;

export function renderMatrix(cells: CellResult[]): string {
  const cell = (phase: string, fault: string) =>
    cells.find((c) => c.phase === phase && c.fault === fault);
  const header = `| Phase | ${FAULTS.map((f) => f.title).join(" | ")} | consistent |`;
  const rule = `| --- | ${FAULTS.map(() => ":---:").join(" | ")} | ---: |`;
  const rows = PHASES.map(({ id, title }) => {
    const row = FAULTS.map((f) => cell(id, f.id));
    const applicable = row.filter((c) => c && c.status !== "n/a");
    const consistent = applicable.filter((c) => c?.status === "consistent").length;
    return `| ${title} | ${row.map((c) => (c ? MARK[c.status] : " ")).join(" | ")} | ${consistent}/${applicable.length} |`;
  });
  const applicable = cells.filter((c) => c.status !== "n/a");
  const consistent = applicable.filter((c) => c.status === "consistent").length;
  const title = (phase: string, fault: string) =>
    `${PHASES.find((p) => p.id === phase)?.title} × ${FAULTS.find((f) => f.id === fault)?.title}`;
  const inconsistent = cells
    .filter((c) => c.status === "inconsistent")
    .map(
      (c) =>
        `- **${title(c.phase, c.fault)}** (result ${c.result ?? "none"}, ended ${c.ended ?? "?"}): ${c.violations.join("; ")}.`,
    );
  const reasons = new Map<string, string[]>();
  for (const c of cells.filter((c) => c.status === "n/a")) {
    const key = `${FAULTS.find((f) => f.id === c.fault)?.title}: ${c.violations[0]}`;
    reasons.set(key, [
      ...(reasons.get(key) ?? []),
      PHASES.find((p) => p.id === c.phase)?.title ?? c.phase,
    ]);
  }
  const notes = cells
    .filter((c) => c.notes.length > 0)
    .map((c) => `- ${title(c.phase, c.fault)}: ${c.notes.join("; ")}.`);
  const slowest = [...applicable].sort((a, b) => b.ms - a.ms)[0];
  return [
    `**${consistent} of ${applicable.length} applicable cells consistent** (${cells.length - applicable.length} not applicable). ✓ consistent, ✗ inconsistent, — not applicable. Slowest cell: ${slowest ? `${title(slowest.phase, slowest.fault)}, ${(slowest.ms / 1000).toFixed(1)} s` : "none"}.`,
    "",
    header,
    rule,
    ...rows,
    "",
    "Inconsistent cells, with what the invariant check saw:",
    "",
    ...(inconsistent.length > 0 ? inconsistent : ["- none"]),
    "",
    "Not applicable:",
    "",
    ...[...reasons].map(([reason, phases]) => `- ${reason} (${phases.join(", ")}).`),
    "",
    "Left running (not an invariant breach, but worth knowing):",
    "",
    ...(notes.length > 0 ? notes : ["- nothing"]),
  ].join("\n");
}

export function renderLoad(figures: LoadFigure[]): string {
  return [
    "| Scenario | Requests | Failed | Goal | Run |",
    "| --- | ---: | ---: | ---: | --- |",
    ...figures.map(
      (f) =>
        `| ${f.scenario} | ${f.requests} | ${f.failed} | ${f.goal ?? "—"} | exit ${f.exitCode}${f.result ? `, ${f.result}` : ""} |`,
    ),
  ].join("\n");
}

export function renderSecrets(results: SecretScenarioResult[]): string {
  const inputs = ["creds", "registry-password", "github-token"] as const;
  const mark = (r: SecretScenarioResult, input: (typeof inputs)[number]) => {
    if (r.skipped) return `not run (${r.skipped})`;
    const found = r.secrets.find((s) => s.input === input);
    if (!found) return "—";
    if (found.foundIn.length > 0) return `**found in ${found.foundIn.join(", ")}**`;
    return found.masked ? "absent, masked" : "absent, not masked";
  };
  return [
    "| Scenario | Path | `creds` secret | `registry-password` | `github-token` | Runs |",
    "| --- | --- | --- | --- | --- | --- |",
    ...results.map(
      (r) =>
        `| ${r.scenario} | ${r.path} | ${inputs.map((i) => mark(r, i)).join(" | ")} | ${r.outcome || "—"} |`,
    ),
  ].join("\n");
}

export function renderFuzz(figures: {
  seed: number;
  inProcess: FuzzOutcome[];
  bundle: FuzzOutcome[];
  armCalls: number;
}): string {
  const summary = (outcomes: FuzzOutcome[]) => {
    const refused = outcomes.filter((o) => o.refused).length;
    const inputs = new Set(outcomes.map((o) => o.case.input)).size;
    return { refused, inputs, total: outcomes.length };
  };
  const failures = (outcomes: FuzzOutcome[]) => {
    const byInput = new Map<string, { count: number; example: FuzzOutcome }>();
    for (const o of outcomes.filter((o) => !o.refused)) {
      const entry = byInput.get(o.case.input);
      if (entry) entry.count++;
      else byInput.set(o.case.input, { count: 1, example: o });
    }
    return [...byInput].map(
      ([input, { count, example }]) =>
        `- \`${input}\`: ${count} not refused with a message naming it, e.g. ${JSON.stringify(example.case.values[input] ?? example.case.values).slice(0, 120)} → ${example.message.slice(0, 200)}`,
    );
  };
  const inProcess = summary(figures.inProcess);
  const bundle = summary(figures.bundle);
  return [
    `Seed ${figures.seed}; values invalid by construction, one input at a time over ${inProcess.inputs} inputs.`,
    "",
    "| Where | Cases | Refused naming the input | ARM calls |",
    "| --- | ---: | ---: | ---: |",
    `| In process (\`readInputs\`) | ${inProcess.total} | ${inProcess.refused} | — |`,
    `| The Action bundle against the emulator | ${bundle.total} | ${bundle.refused} | ${figures.armCalls} |`,
    "",
    ...(failures([...figures.inProcess, ...figures.bundle]).length > 0
      ? [
          "Not refused as they should be:",
          "",
          ...failures(figures.inProcess),
          ...failures(figures.bundle),
        ]
      : ["Every case was refused with a message naming its input."]),
  ].join("\n");
}

export function renderRole(): string {
  return [
    "| Operation | Needed by | When |",
    "| --- | --- | --- |",
    ...OPERATIONS.map(
      (o) =>
        `| \`${o.operation}\` | ${o.calls} | ${o.optional ? `optional: ${o.optional}` : "always"} |`,
    ),
    "",
    "Left out on purpose:",
    "",
    ...NOT_NEEDED.map((n) => `- \`${n.operation}\`: ${n.why}.`),
  ].join("\n");
}
