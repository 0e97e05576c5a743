import { connectContainerApp, type ConnectedApp } from "../azure/client.ts";
import { describeCredential } from "../azure/credentials.ts";
import { createHttpProbe } from "../azure/httpProbe.ts";
import { systemClock } from "../core/clock.ts";
import { deploy, promote } from "../core/actions/deploy.ts";
import { reject } from "../core/actions/reject.ts";
import { rollback } from "../core/actions/rollback.ts";
import { status } from "../core/actions/status.ts";
import { renderStatusSummary } from "../core/report/status.ts";
import { errorMessage } from "../core/failure.ts";
import { readInputs } from "../core/inputs/validate.ts";
import { JOURNAL_STATE_KEY, type DeployJournal } from "../core/journal.ts";
import type { EngineDeps, ImageSource } from "../core/ports.ts";
import { renderOutputs, renderSummary } from "../core/report/summary.ts";
import { formatTraffic } from "../core/report/format.ts";
import { restoreSnapshot } from "../core/restore.ts";
import type { ActionName, BuildInputs, DeploymentReport, Inputs } from "../core/types.ts";
import { buildAndPush } from "../image/buildAndPush.ts";
import type { RolloutHistory } from "../core/insights/source.ts";
import type { Host } from "./host.ts";
import { runInsights } from "./insights.ts";

/** The actions that change traffic, by name. */
const TRAFFIC_ACTIONS: Record<
  Exclude<ActionName, "status" | "insights">,
  (inputs: Inputs, deps: EngineDeps) => Promise<DeploymentReport>
> = { deploy, promote, reject, rollback };

/** Results a pipeline treats as success: a rollback is the goal of reject and rollback. */
function succeeded(report: DeploymentReport): boolean {
  const goal =
    report.action === "reject" || report.action === "rollback" ? "rolled-back" : "promoted";
  return report.result === goal || report.result === "unchanged" || report.result === "held";
}

/** Platform extras around a run (GitHub Deployments, build attachments); they never change its outcome. */
export interface RunHooks {
  /** Where `action: insights` reads the tool's records; throws when it cannot (no token). */
  history?(inputs: Inputs): RolloutHistory;
  /** After the inputs validated, before anything else. */
  before?(inputs: Inputs): Promise<void>;
  /** After the outputs and the summary are published. */
  after?(inputs: Inputs, report: DeploymentReport): Promise<void>;
}

/**
 * The main step on any host: validate every input before touching Azure, run the action, and
 * publish outputs and the summary. Returns the process exit code.
 */
export async function runMain(
  host: Host,
  signal: AbortSignal,
  hooks: RunHooks = {},
): Promise<number> {
  const run = host.context();
  const parsed = readInputs((name) => host.getInput(name), {
    commitSha: run.commitSha,
    repositoryUrl: run.repositoryUrl,
  });
  if (!parsed.ok) {
    for (const problem of parsed.errors) {
      const prefix = `${problem.input}:`;
      host.error(
        problem.message.startsWith(prefix)
          ? `${host.inputName(problem.input)}:${problem.message.slice(prefix.length)}`
          : problem.message,
      );
    }
    const names = [...new Set(parsed.errors.map((e) => host.inputName(e.input)))];
    host.setFailed(`Invalid input: ${names.join(", ")}. Nothing was changed in Azure.`);
    return 1;
  }
  const inputs = parsed.inputs;
  if (inputs.auth.creds) host.setSecret(inputs.auth.creds.clientSecret);
  if (inputs.action === "insights") return runInsights(host, inputs, hooks.history);
  let connection: ConnectedApp;
  try {
    connection = await connect(host, inputs);
  } catch (error) {
    host.setFailed(`Could not set up Azure authentication: ${errorMessage(error)}`);
    return 1;
  }
  await hooks.before?.(inputs);
  const deps: EngineDeps = {
    apps: connection.apps,
    ...(inputs.build && { image: imageSource(host, inputs, inputs.build, connection) }),
    probe: createHttpProbe(),
    clock: systemClock,
    log: host,
    state: host.state,
    run,
    signal,
  };
  let report: DeploymentReport;
  if (inputs.action === "status") {
    const outcome = await status(inputs, deps);
    report = outcome.report;
    await publish(host, report, outcome.status && renderStatusSummary(outcome.status));
    if (outcome.status) host.setOutput("status", JSON.stringify(outcome.status));
  } else {
    report = await TRAFFIC_ACTIONS[inputs.action](inputs, deps);
    await publish(host, report);
    await hooks.after?.(inputs, report);
  }
  if (succeeded(report)) return 0;
  const code = report.errorCode ? ` [${report.errorCode}]` : "";
  host.setFailed(`${report.reason}${code}${report.nextSteps ? ` Next: ${report.nextSteps}` : ""}`);
  return 1;
}

/**
 * The post-job step: when the main step died while traffic was shifted (cancelled job, killed
 * process), put the app back from the journal it saved before its first write.
 */
export async function runPost(host: Host): Promise<number> {
  const saved = host.state.load(JOURNAL_STATE_KEY);
  if (!saved) return 0;
  const journal = JSON.parse(saved) as DeployJournal;
  if (journal.phase === "settled") return 0;
  host.warning(
    `The deployment of ${journal.candidate} did not finish; restoring the traffic of ${journal.app} it found: ${formatTraffic(journal.snapshot)}`,
  );
  const parsed = readInputs((name) => host.getInput(name));
  if (!parsed.ok) {
    host.setFailed(`Cannot restore ${journal.app}: the inputs no longer validate.`);
    return 1;
  }
  try {
    const { apps } = await connect(host, parsed.inputs);
    const outcome = await host.group("Restore", () =>
      restoreSnapshot(apps, journal, { log: host, clock: systemClock }),
    );
    host.info(`Traffic restored: ${formatTraffic(outcome.traffic)}`);
    if (outcome.candidateDeactivated) host.info(`Deactivated ${journal.candidate}`);
    host.state.save(JOURNAL_STATE_KEY, JSON.stringify({ ...journal, phase: "settled" }));
    return 0;
  } catch (error) {
    host.setFailed(
      `Restoring ${journal.app} failed: ${errorMessage(error)}. Set its traffic by hand to ${formatTraffic(journal.snapshot)}.`,
    );
    return 1;
  }
}

async function connect(host: Host, inputs: Inputs): Promise<ConnectedApp> {
  const source = await host.credentialSource(inputs);
  host.info(`Authenticating with ${describeCredential(source)}`);
  return connectContainerApp({
    subscriptionId: inputs.subscriptionId,
    resourceGroup: inputs.resourceGroup,
    app: inputs.containerApp,
    auth: inputs.auth,
    source,
    clock: systemClock,
    debug: (message) => host.debug(message),
  });
}

/** Builds with the chosen builder and pushes; ACR logins use the same Azure identity. */
function imageSource(
  host: Host,
  inputs: Inputs,
  build: BuildInputs,
  connection: ConnectedApp,
): ImageSource {
  const target = `${build.registry}/${build.imageName}:${build.tag}`;
  return {
    describe: () => `${build.context} with ${build.builder} builder -> ${target}`,
    build: async (signal) => {
      if (build.auth.kind === "password") host.setSecret(build.auth.password);
      const built = await buildAndPush(build, {
        log: host,
        signal,
        azure: {
          armEndpoint: connection.armEndpoint,
          subscriptionId: inputs.subscriptionId,
          tenantId: inputs.auth.tenantId ?? inputs.auth.creds?.tenantId,
          armToken: connection.armToken,
        },
      });
      return { image: built.image, digest: built.digest };
    },
  };
}

async function publish(host: Host, report: DeploymentReport, summary?: string): Promise<void> {
  for (const [name, value] of Object.entries(renderOutputs(report))) host.setOutput(name, value);
  try {
    await host.writeSummary(summary ?? renderSummary(report));
  } catch (error) {
    host.warning(`Could not write the job summary: ${errorMessage(error)}`);
  }
}
