import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { connectContainerApp, type ConnectedApp } from "../azure/client.ts";
import { describeCredential } from "../azure/credentials.ts";
import { createHttpProbe } from "../azure/httpProbe.ts";
import { systemClock } from "../core/clock.ts";
import { deploy } from "../core/actions/deploy.ts";
import { promote } from "../core/actions/promote.ts";
import { reject } from "../core/actions/reject.ts";
import { rollback } from "../core/actions/rollback.ts";
import { status } from "../core/actions/status.ts";
import { renderStatusSummary } from "../core/report/statusSummary.ts";
import { errorMessage } from "../core/failure.ts";
import { ACTIONS, INPUTS } from "../core/inputs/schema.ts";
import { readInputs } from "../core/inputs/validate.ts";
import { RunJournal } from "../core/journal.ts";
import type { EngineDeps, ImageSource } from "../core/ports.ts";
import { renderOutputs, renderSummary } from "../core/report/summary.ts";
import { waitForRevisionReady, withinReadinessTimeout } from "../core/rollout/readiness.ts";
import { interruptedReport, recoverInterrupted } from "../core/rollout/recover.ts";
import { timingFromEnvironment, type TimingProfile } from "../core/timing.ts";
import type { ActionName, BuildInputs, DeploymentReport, Inputs } from "../core/types.ts";
import { buildAndPush } from "../image/buildAndPush.ts";
import type { RolloutHistory } from "../core/insights/source.ts";
import type { Host } from "./host.ts";
import { runInsights } from "./insights.ts";

/**
 * How long a cancelled run keeps restoring before it hands the rest to the post step: the Azure
 * Pipelines agent sends SIGTERM 7.5 s after SIGINT and SIGKILL 2.5 s after that, and the GitHub
 * runner allows about as long.
 */
const HANDOVER_MS = 5_000;

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
  maskSecretInputs(host);
  const parsed = readInputs((name) => host.getInput(name), {
    commitSha: run.commitSha,
    repositoryUrl: run.repositoryUrl,
    readFile: readWorkspaceFile,
  });
  if (!parsed.ok) {
    for (const problem of parsed.errors) {
      // `traffic-steps: …`, or a part of it such as `smoke-checks[0].path: …`: named as the
      // platform spells the input.
      const named =
        problem.message.startsWith(problem.input) &&
        /^[:[.]/.test(problem.message.slice(problem.input.length));
      host.error(
        named
          ? `${host.inputName(problem.input)}${problem.message.slice(problem.input.length)}`
          : problem.message,
      );
    }
    const names = [...new Set(parsed.errors.map((e) => host.inputName(e.input)))];
    return stopBeforeAzure(host, {
      reason: `Invalid input: ${names.join(", ")}. Nothing was changed in Azure.`,
      code: "InvalidInput",
      nextSteps: "Fix the inputs named above and run again.",
    });
  }
  const inputs = parsed.inputs;
  if (inputs.auth.creds) host.setSecret(inputs.auth.creds.clientSecret);
  for (const value of secretValuesOf(inputs)) host.setSecret(value);
  if (inputs.action === "insights") return runInsights(host, inputs, hooks.history);
  let timing: TimingProfile;
  try {
    timing = timingFromEnvironment(process.env);
  } catch (error) {
    return stopBeforeAzure(host, {
      reason: `${errorMessage(error)} Nothing was changed in Azure.`,
      code: "InvalidEnvironment",
    });
  }
  let connection: ConnectedApp;
  try {
    connection = await connect(host, inputs, timing);
  } catch (error) {
    return stopBeforeAzure(host, {
      reason: `Could not set up Azure authentication: ${errorMessage(error)} Nothing was changed in Azure.`,
      code: "AuthenticationSetupFailed",
      nextSteps: `Check ${host.inputName("client-id")} and ${host.inputName("tenant-id")} (or ${host.inputName("creds")}) and the job's permissions, then run again.`,
    });
  }
  await hooks.before?.(inputs);
  const deps: EngineDeps = {
    apps: connection.apps,
    diagnostics: connection.diagnostics,
    secrets: () => host.secrets(),
    ...(inputs.build && { image: imageSource(host, inputs, inputs.build, connection) }),
    probe: createHttpProbe(),
    clock: systemClock,
    log: host,
    state: host.state,
    run,
    signal,
    timing,
    // Both hosts run a post step that finishes a restore the main step could not.
    handover: { afterMs: HANDOVER_MS },
    monitor: connection.monitor,
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

/** Secret-bearing inputs are masked before anything can print them, valid or not. */
function maskSecretInputs(host: Host): void {
  for (const { name } of INPUTS.filter((input) => input.secret)) {
    const value = host.getInput(name);
    if (!value) continue;
    host.setSecret(value);
    // A value over several lines is masked line by line too, so that no line of it shows alone.
    for (const line of value.split(/\r?\n/))
      if (line.trim() && line !== value) host.setSecret(line);
    if (name === "creds") {
      try {
        const secret = (JSON.parse(value) as { clientSecret?: unknown }).clientSecret;
        if (typeof secret === "string" && secret) host.setSecret(secret);
      } catch {
        // Not JSON: the whole value is masked above, and validation says what is wrong.
      }
    }
  }
}

/**
 * A run that stops before it reaches Azure still sets `result` and writes a summary, so that a
 * later step's condition on `result` works and the job page says why.
 */
async function stopBeforeAzure(
  host: Host,
  stop: { reason: string; code: string; nextSteps?: string },
): Promise<number> {
  const action = host.getInput("action");
  await publish(host, {
    action: ACTIONS.find((name) => name === action) ?? "deploy",
    app: host.getInput("container-app") ?? "",
    resourceGroup: host.getInput("resource-group") ?? "",
    result: "failed",
    reason: stop.reason,
    errorCode: stop.code,
    ...(stop.nextSteps ? { nextSteps: stop.nextSteps } : {}),
    initialTraffic: [],
    finalTraffic: [],
    steps: [],
    phases: [],
    dryRun: false,
  });
  host.setFailed(stop.reason);
  return 1;
}

/**
 * The post-job step: when the main step died while traffic was shifted (cancelled job, killed
 * process), put the app back from the journal it saved before its first write.
 */
export async function runPost(host: Host): Promise<number> {
  let journal: RunJournal | undefined;
  try {
    journal = RunJournal.load(host.state);
  } catch (error) {
    host.setFailed(`${errorMessage(error)} Check the app's traffic by hand.`);
    return 1;
  }
  if (!journal) {
    host.info("Nothing to restore: the main step changed no traffic.");
    return 0;
  }
  if (journal.settled) {
    host.info(`Nothing to restore: the deployment of ${journal.record.candidate} settled.`);
    return 0;
  }
  const { app, subscriptionId, resourceGroup } = journal.record;
  const parsed = readInputs((name) => host.getInput(name), { readFile: readWorkspaceFile });
  if (!parsed.ok) {
    host.setFailed(`Cannot restore ${app}: the inputs no longer validate.`);
    return 1;
  }
  // The app the journal names, whatever the post step's inputs say now.
  const inputs: Inputs = { ...parsed.inputs, subscriptionId, resourceGroup, containerApp: app };
  const timing = timingFromEnvironment(process.env);
  const outcome = await recoverInterrupted(journal, {
    apps: async () => (await connect(host, inputs, timing)).apps,
    log: host,
    clock: systemClock,
    run: host.context(),
    waitReady: (apps, revision) =>
      waitForRevisionReady(
        apps,
        revision,
        withinReadinessTimeout({
          app,
          resourceGroup,
          clock: systemClock,
          log: host,
          schedule: timing.readiness,
          timeoutMs: inputs.readinessTimeoutMs,
        }),
      ),
  });
  if (outcome.kind === "nothing") return 0;
  // The main step was cut short: this step writes the summary and result it could not.
  await publish(host, interruptedReport(journal, outcome));
  if (outcome.kind === "left") {
    host.warning(outcome.message);
    return 0;
  }
  if (outcome.kind === "failed") {
    host.setFailed(outcome.message);
    return 1;
  }
  return 0;
}

async function connect(host: Host, inputs: Inputs, timing: TimingProfile): Promise<ConnectedApp> {
  const source = await host.credentialSource(inputs);
  host.info(`Authenticating with ${describeCredential(source)}`);
  return connectContainerApp({
    subscriptionId: inputs.subscriptionId,
    resourceGroup: inputs.resourceGroup,
    app: inputs.containerApp,
    auth: inputs.auth,
    source,
    clock: systemClock,
    operationPoll: timing.operation,
    onRetry: (message) => host.info(message),
    maskSecret: (value) => host.setSecret(value),
  });
}

/** A file the inputs name, relative to the job's working directory (the checkout). */
function readWorkspaceFile(path: string): string {
  return readFileSync(resolve(process.cwd(), path), "utf8");
}

/** Every secret value the inputs carry: `secrets` and the template file's configuration secrets. */
function secretValuesOf(inputs: Inputs): string[] {
  const file = inputs.revision?.file?.configuration?.secrets;
  const fromFile = Array.isArray(file)
    ? file.map((secret: { value?: unknown }) => secret.value).filter((v) => typeof v === "string")
    : [];
  const fromInput = (inputs.revision?.secrets ?? []).map((secret) => secret.value);
  return [...fromInput, ...fromFile].filter((value): value is string => Boolean(value));
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
    await host.writeSummary(summary ?? renderSummary(report, { flavour: host.platform }));
  } catch (error) {
    host.warning(`Could not write the job summary: ${errorMessage(error)}`);
  }
}
