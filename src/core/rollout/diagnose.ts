/**
 * Phase "Diagnostics": why the candidate failed, in its own words. Collected once the previous
 * traffic is back — so that it never delays the restore — and before the candidate is deactivated,
 * which stops its replicas and their log streams; bounded by `diagnostics-timeout`; masked before
 * it reaches a log, the summary or an output. A part that cannot be read is a warning: collecting
 * never changes the run's result.
 */
import { collectDiagnostics } from "../diagnostics/collect.ts";
import { describeDiagnostics } from "../diagnostics/describe.ts";
import { redactDiagnostics } from "../diagnostics/redact.ts";
import type { FailedRequest } from "../diagnostics/types.ts";
import { errorMessage } from "../failure.ts";
import { formatDuration } from "../report/format.ts";
import type { CheckRound, DeploymentReport } from "../types.ts";
import type { RolloutContext } from "./context.ts";

/** Collects the diagnostics of `revision` into the report; never throws. */
export async function collectCandidateDiagnostics(
  ctx: RolloutContext,
  revision: string,
): Promise<void> {
  const { apps, clock, diagnostics, log, signal } = ctx.deps;
  const { diagnosticsTimeoutMs: deadlineMs, diagnosticsLines: lines } = ctx.inputs;
  if (deadlineMs <= 0 || signal?.aborted) return;
  log.info(
    `The previous traffic is back; collecting the diagnostics of ${revision} before it is deactivated (up to ${formatDuration(deadlineMs)})`,
  );
  try {
    const collected = await collectDiagnostics(
      { apps, clock, signal, ...(diagnostics && { diagnostics }) },
      {
        revision,
        lines,
        deadlineMs,
        ...(ctx.environmentId && { environmentId: ctx.environmentId }),
        ...(ctx.report.errorCode && { errorCode: ctx.report.errorCode }),
        ...withFailedRequest(ctx.report),
      },
    );
    ctx.report.diagnostics = redactDiagnostics(collected, ctx.deps.secrets?.() ?? []);
  } catch (error) {
    log.warning(`Could not collect the diagnostics of ${revision}: ${errorMessage(error)}`);
  }
}

/** Shows the collected diagnostics in a log group of their own, their warnings as warnings. */
export async function logDiagnostics(ctx: RolloutContext): Promise<void> {
  const diagnostics = ctx.report.diagnostics;
  if (!diagnostics) return;
  const { log } = ctx.deps;
  await log.group(`Diagnostics of ${diagnostics.revision}`, async () => {
    for (const line of describeDiagnostics(diagnostics)) log.info(line);
    for (const warning of diagnostics.warnings) log.warning(warning);
  });
}

/** The request of the check that failed the run: of the failed step, else of the smoke checks. */
function withFailedRequest(report: DeploymentReport): { failedRequest?: FailedRequest } {
  const failedStep = report.steps.find((step) => !step.ok && step.failedRound);
  const round: CheckRound | undefined =
    failedStep?.failedRound ?? (report.smoke && !report.smoke.ok ? report.smoke : undefined);
  const result = round?.results.find((candidate) => !candidate.ok && candidate.method);
  if (!result?.method) return {};
  return {
    failedRequest: {
      check: result.check,
      method: result.method,
      url: result.url,
      ...(result.status !== undefined && { status: result.status }),
      ...(result.latencyMs !== undefined && { latencyMs: result.latencyMs }),
      failure: result.failure ?? "failed",
      ...(result.headers && { headers: result.headers }),
      ...(result.bodyPrefix !== undefined && { bodyPrefix: result.bodyPrefix }),
    },
  };
}
