import type { RunHooks } from "../hosts/run.ts";
import { recordOf } from "../core/insights/record.ts";
import type { Log, RunContext } from "../core/ports.ts";
import type { DeploymentReport, Inputs } from "../core/types.ts";
import { GitHubDeploymentHistory } from "./deploymentHistory.ts";
import { GitHubDeployments, type DeploymentState } from "./deployments.ts";

/**
 * GitHub Deployments for the actions that change what serves the app: when a deploy, promote,
 * reject or rollback ends, one deployment in the `deployment-environment` (default: the app's
 * name) with the run's record as its payload and its outcome as its state: `success` (with the
 * app URL), `failure` (rolled back, rejected or failed) or `in_progress` (held). The promote or
 * reject that settles a held deploy retires the held deploy's deployment. `action: insights`
 * reads the records back.
 */
export function deploymentHooks(
  log: Pick<Log, "debug" | "info" | "warning">,
  context: () => RunContext,
  clock: { now(): number } = Date,
): RunHooks {
  let deployments: GitHubDeployments | undefined;
  let startedAt = 0;
  return {
    history: (inputs) => GitHubDeploymentHistory.fromEnvironment(inputs),
    async before(inputs: Inputs) {
      startedAt = clock.now();
      if (inputs.action === "status" || inputs.action === "insights" || inputs.dryRun) return;
      deployments = GitHubDeployments.fromEnvironment(inputs.githubToken, log);
    },
    async after(inputs: Inputs, report: DeploymentReport) {
      // A run that stopped before it chose a revision (a promote with nothing held, a lease held
      // by another run) deployed nothing.
      if (!deployments || !report.candidate) return;
      const run = context();
      const record = recordOf(report, {
        startedAt,
        finishedAt: clock.now(),
        commit: run.commitSha,
        runUrl: run.runUrl,
      });
      if (!record) return;
      const environment = inputs.deploymentEnvironment ?? inputs.containerApp;
      const held =
        inputs.action === "promote" || inputs.action === "reject"
          ? await deployments.findHeld({
              environment,
              app: inputs.containerApp,
              resourceGroup: inputs.resourceGroup,
              revision: report.candidate,
            })
          : undefined;
      // A promote runs on the workflow's latest commit; what it releases is the held deploy's.
      if (held) record.commit = held.sha;
      const [state, description] = outcome(inputs, report);
      const created = await deployments.create({ environment, record, description });
      if (!created) return;
      await deployments.update(state, {
        description,
        ...(state === "success" && report.appUrl && { environmentUrl: report.appUrl }),
      });
      if (held) {
        await deployments.retire(
          held.id,
          `Settled by ${inputs.action} in deployment ${deployments.deploymentId}`,
        );
      }
    },
  };
}

function outcome(inputs: Inputs, report: DeploymentReport): [DeploymentState, string] {
  const revision = report.candidate ?? inputs.containerApp;
  switch (report.result) {
    case "promoted":
      return ["success", `${revision} serves 100% of traffic`];
    case "unchanged":
      return ["success", `${revision} already served 100%: nothing changed`];
    case "held":
      return ["in_progress", `${revision} is held; promote or reject it`];
    case "rolled-back":
      if (inputs.action === "rollback") return ["success", `Rolled back to ${revision}`];
      if (inputs.action === "reject") return ["failure", `${revision} was rejected`];
      return ["failure", `${revision} was rolled back: ${report.reason}`];
    default:
      return ["failure", report.reason];
  }
}
