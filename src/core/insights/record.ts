/**
 * The record each rollout leaves behind (a GitHub deployment's payload, an Azure Pipelines build
 * attachment), made from the run's report alone, and read back by `action: insights`. Pure.
 */
import type { ActionName, DeploymentReport } from "../types.ts";

export const RECORD_TOOL = "aca-blue-green";
export const RECORD_VERSION = 1;

/** The actions that leave a record: those that move traffic. */
export type RecordedAction = Exclude<ActionName, "status" | "insights">;
const RECORDED: readonly RecordedAction[] = ["deploy", "promote", "reject", "rollback"];
const RESULTS: readonly DeploymentReport["result"][] = [
  "promoted",
  "rolled-back",
  "failed-before-traffic",
  "held",
  "unchanged",
  "failed",
];

/** One run of deploy, promote, reject or rollback, as the tool recorded it. Times are ISO 8601. */
export interface RolloutRecord {
  tool: typeof RECORD_TOOL;
  version: typeof RECORD_VERSION;
  action: RecordedAction;
  app: string;
  resourceGroup: string;
  /** The revision the run put in front of users: the candidate, or a rollback's target. */
  revision?: string;
  /** The revision that served production before the run. */
  previous?: string;
  image?: string;
  /** The commit the run deployed (GITHUB_SHA, Build.SourceVersion). */
  commit?: string;
  result: DeploymentReport["result"];
  startedAt: string;
  /** When the run first sent production traffic to `revision`; absent when it never did. */
  firstTrafficAt?: string;
  /** When `revision` took 100% of the traffic and the production label. */
  promotedAt?: string;
  /** When the run ended: for a run that rolled back, when the traffic was back as it was. */
  finishedAt: string;
  /** The run that made the record. */
  runUrl?: string;
  /** Azure Pipelines: the build (pipeline run) of the record, to read its commits from. */
  buildId?: number;
}

export interface RecordContext {
  startedAt: number;
  finishedAt: number;
  commit?: string;
  runUrl?: string;
  buildId?: number;
}

/**
 * The record of a finished run. First traffic and promotion come from the traffic steps: each
 * step's start is the moment its traffic was written.
 */
export function recordOf(
  report: DeploymentReport,
  context: RecordContext,
): RolloutRecord | undefined {
  if (!isRecordedAction(report.action) || report.dryRun) return undefined;
  const reached = report.steps.filter((step) => step.weight > 0);
  const full = reached.find((step) => step.weight === 100 && step.ok);
  const promoted =
    report.result === "promoted" ||
    (report.action === "rollback" && report.result === "rolled-back");
  return {
    tool: RECORD_TOOL,
    version: RECORD_VERSION,
    action: report.action,
    app: report.app,
    resourceGroup: report.resourceGroup,
    ...(report.candidate !== undefined && { revision: report.candidate }),
    ...(report.previous !== undefined && { previous: report.previous }),
    ...(report.image !== undefined && { image: report.image }),
    ...(context.commit !== undefined && { commit: context.commit }),
    result: report.result,
    startedAt: iso(context.startedAt),
    ...(reached[0] && { firstTrafficAt: iso(reached[0].startedAt) }),
    ...(promoted && { promotedAt: iso(full?.startedAt ?? context.finishedAt) }),
    finishedAt: iso(context.finishedAt),
    ...(context.runUrl !== undefined && { runUrl: context.runUrl }),
    ...(context.buildId !== undefined && { buildId: context.buildId }),
  };
}

/**
 * A record read back from GitHub or Azure DevOps, or undefined when the value is not one this
 * tool wrote (another tool's deployment payload, say) or is damaged.
 */
export function parseRecord(value: unknown): RolloutRecord | undefined {
  let parsed = value;
  if (typeof parsed === "string") {
    try {
      parsed = JSON.parse(parsed) as unknown;
    } catch {
      return undefined;
    }
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return undefined;
  const r = parsed as Record<string, unknown>;
  const text = (key: string) => typeof r[key] === "string" && r[key] !== "";
  const time = (key: string) => text(key) && !Number.isNaN(Date.parse(r[key] as string));
  const optionalTime = (key: string) => r[key] === undefined || time(key);
  if (
    r.tool !== RECORD_TOOL ||
    r.version !== RECORD_VERSION ||
    !isRecordedAction(r.action) ||
    !text("app") ||
    !text("resourceGroup") ||
    !RESULTS.includes(r.result as DeploymentReport["result"]) ||
    !time("startedAt") ||
    !time("finishedAt") ||
    !optionalTime("firstTrafficAt") ||
    !optionalTime("promotedAt")
  ) {
    return undefined;
  }
  return parsed as RolloutRecord;
}

function isRecordedAction(action: unknown): action is RecordedAction {
  return RECORDED.includes(action as RecordedAction);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
