import type { EngineDeps } from "../ports.ts";
import { formatDuration } from "../report/format.ts";
import type { DeploymentReport, Inputs } from "../types.ts";

/** An empty report for an operator action, to be filled as it runs. */
export function operatorReport(inputs: Inputs): DeploymentReport {
  return {
    action: inputs.action,
    app: inputs.containerApp,
    resourceGroup: inputs.resourceGroup,
    result: "failed",
    reason: "",
    initialTraffic: [],
    finalTraffic: [],
    steps: [],
    phases: [],
    dryRun: inputs.dryRun,
  };
}

/** Runs a phase in its own log group and records how long it took. */
export function timedPhase(report: DeploymentReport, deps: Pick<EngineDeps, "clock" | "log">) {
  return async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const started = deps.clock.now();
    try {
      return await deps.log.group(name, fn);
    } finally {
      const durationMs = deps.clock.now() - started;
      report.phases.push({ phase: name, startedAt: started, durationMs });
      deps.log.info(`${name} took ${formatDuration(durationMs)}`);
    }
  };
}
