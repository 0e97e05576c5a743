import type { RunHooks } from "../hosts/run.ts";
import type { Log } from "../core/ports.ts";
import type { DeploymentReport, Inputs } from "../core/types.ts";
import { GitHubDeployments, type DeploymentState } from "./deployments.ts";

/**
 * GitHub Deployments for the actions that change what serves the app: one deployment per deploy
 * or rollback, in the environment named after the container app, with `in_progress` while it
 * runs, then `success` (with the app URL) or `failure` (rolled back, rejected or failed).
 * Promote and reject finish the deployment their held deploy opened.
 */
export function deploymentHooks(log: Pick<Log, "debug" | "info" | "warning">): RunHooks {
  let deployments: GitHubDeployments | undefined;
  return {
    async before(inputs: Inputs) {
      if (inputs.action === "status" || inputs.dryRun) return;
      deployments = GitHubDeployments.fromEnvironment(inputs.githubToken, log);
      if (!deployments || (inputs.action !== "deploy" && inputs.action !== "rollback")) return;
      await deployments.start({
        environment: inputs.containerApp,
        action: inputs.action,
        app: inputs.containerApp,
        resourceGroup: inputs.resourceGroup,
        ...(inputs.revisionSuffix && {
          revision: `${inputs.containerApp}--${inputs.revisionSuffix}`,
        }),
        ...(inputs.image && { image: inputs.image }),
        description:
          inputs.action === "deploy"
            ? `Deploying ${inputs.image ?? "a new build"} to ${inputs.containerApp}`
            : `Rolling ${inputs.containerApp} back`,
      });
    },
    async after(inputs: Inputs, report: DeploymentReport) {
      if (!deployments) return;
      if (inputs.action === "promote" || inputs.action === "reject") {
        if (!report.candidate) return;
        const found = await deployments.resume({
          environment: inputs.containerApp,
          app: inputs.containerApp,
          resourceGroup: inputs.resourceGroup,
          revision: report.candidate,
        });
        if (!found) return;
      }
      const [state, description] = outcome(inputs, report);
      await deployments.update(state, {
        description,
        ...(state === "success" && report.appUrl && { environmentUrl: report.appUrl }),
      });
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
