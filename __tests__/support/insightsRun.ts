/**
 * Runs `action: insights` (the host-side glue, with a real history reader) on a host that only
 * records what it is given, at a fixed moment, and returns the `insights` output and summary.
 */
import type { InsightsReport } from "../../src/core/insights/insights.ts";
import type { RolloutHistory } from "../../src/core/insights/source.ts";
import { readInputs } from "../../src/core/inputs/validate.ts";
import type { Inputs } from "../../src/core/types.ts";
import type { Host } from "../../src/hosts/host.ts";
import { runInsights } from "../../src/hosts/insights.ts";

export interface InsightsRun {
  exitCode: number;
  report?: InsightsReport;
  summary: string;
  warnings: string[];
  failure?: string;
}

export function insightsInputs(values: Record<string, string>): Inputs {
  const parsed = readInputs((name) => ({ action: "insights", ...values })[name]);
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join("; "));
  return parsed.inputs;
}

export async function runInsightsAt(
  now: number,
  inputs: Inputs,
  history: (inputs: Inputs) => RolloutHistory,
): Promise<InsightsRun> {
  const outputs = new Map<string, string>();
  const run: InsightsRun = { exitCode: 0, summary: "", warnings: [] };
  const host = {
    info: () => undefined,
    debug: () => undefined,
    error: () => undefined,
    warning: (message: string) => run.warnings.push(message),
    group: <T>(_title: string, fn: () => Promise<T>) => fn(),
    setOutput: (name: string, value: string) => outputs.set(name, value),
    writeSummary: async (markdown: string) => {
      run.summary = markdown;
    },
    setFailed: (message: string) => {
      run.failure = message;
    },
  } as unknown as Host;
  run.exitCode = await runInsights(host, inputs, history, {
    now: () => now,
    sleep: async () => undefined,
  });
  const json = outputs.get("insights");
  if (json) run.report = JSON.parse(json) as InsightsReport;
  return run;
}
