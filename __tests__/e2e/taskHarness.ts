/**
 * Runs the Pipelines task's real bundle the way the Azure Pipelines agent does — INPUT_* variables,
 * an Azure Resource Manager service connection as ENDPOINT_* variables, the job's access token and
 * OIDC endpoint, task variables for the post-job step, `##vso` commands read back from stdout —
 * against the emulator.
 */
import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { runProcess, type RehearsalRun } from "../../emulator/rehearsal.ts";
import type { Emulator, EmulatorInfo } from "../../emulator/types.ts";
import {
  CONFIDENTIAL_PARAMETERS,
  inputEnv,
  mask,
  parseCommands,
  recordOf,
  serviceConnectionEnv,
  systemAccessTokenEnv,
  taskVariableEnv,
  type ServiceConnection,
  type StepRecord,
  type VsoCommand,
} from "../ado/agentEnvironment.ts";
import { INPUTS } from "../../src/core/inputs/schema.ts";
import { RESOURCE_GROUP, ROOT } from "./harness.ts";

const ACTION_SPELLING = new RegExp(
  `(?<![\\w-])(${INPUTS.filter((input) => input.name.includes("-"))
    .map((input) => input.name)
    .join("|")})(?![\\w-])`,
);

/**
 * A Pipelines user writes `trafficSteps`: a line of the task that names an input as a GitHub
 * workflow writes it (`traffic-steps`) names an input they do not have. Every run is held to it.
 */
function assertTaskSpelling(text: string, where: string): void {
  const line = text.split("\n").find((candidate) => ACTION_SPELLING.test(candidate));
  if (line !== undefined) {
    throw new Error(`The task's ${where} names an input in the GitHub Action's spelling: ${line}`);
  }
}

/**
 * The emulator as an Azure Resource Manager service connection. The emulator stands for an Azure
 * Stack Hub cloud: the only kind of connection that carries its own endpoints.
 */
export function emulatorConnection(
  info: EmulatorInfo,
  scheme: "WorkloadIdentityFederation" | "ServicePrincipal" = "WorkloadIdentityFederation",
): ServiceConnection {
  return {
    id: info.adoServiceConnectionId,
    scheme,
    url: `${info.arm}/`,
    authorization: {
      tenantid: info.tenantId,
      serviceprincipalid: info.clientId,
      ...(scheme === "ServicePrincipal" && {
        authenticationType: "spnKey",
        serviceprincipalkey: info.clientSecret,
      }),
    },
    data: {
      subscriptionId: info.subscriptionId,
      subscriptionName: "Emulator",
      environment: "AzureStack",
      environmentAuthorityUrl: `${info.authorityHost}/`,
    },
  };
}

/** The variables that identify one job of one pipeline run; its main and post-job steps share them. */
export function newJob(): Record<string, string> {
  const buildId = String(randomBytes(3).readUIntBE(0, 3));
  return {
    SYSTEM_COLLECTIONURI: "https://dev.azure.com/contoso/",
    SYSTEM_TEAMFOUNDATIONCOLLECTIONURI: "https://dev.azure.com/contoso/",
    SYSTEM_TEAMPROJECT: "webapp",
    SYSTEM_JOBID: randomUUID(),
    SYSTEM_JOBATTEMPT: "1",
    BUILD_BUILDID: buildId,
    BUILD_BUILDNUMBER: `20261127.${buildId}`,
    BUILD_DEFINITIONNAME: "shop-deploy",
    BUILD_REQUESTEDFOR: "Ada Lovelace",
    BUILD_SOURCEVERSION: randomBytes(20).toString("hex"),
    BUILD_REPOSITORY_URI: "https://contoso@dev.azure.com/contoso/webapp/_git/shop",
  };
}

export interface TaskRunOptions {
  /** Default task/index.js, the main step. */
  entry?: "task/index.js" | "task/post.js";
  /** Task inputs by their task.json names; azureSubscription and resourceGroup are added. */
  inputs: Record<string, string>;
  /** Default: the emulator with workload identity federation. */
  connection?: ServiceConnection;
  /** Default: a new job. */
  job?: Record<string, string>;
  /** Task variables an earlier step of the task set (the main step's, for the post-job step). */
  taskVariables?: Record<string, string>;
  /** Extra environment; undefined removes a variable. */
  env?: Record<string, string | undefined>;
  /** Node binary; defaults to the one running this code. */
  node?: string;
  onLine?: (text: string) => void;
  /** Send a signal to the process once a stdout line matches. */
  signalOn?: { pattern: RegExp; signal: NodeJS.Signals };
}

/**
 * One step as the agent saw it. stdout, stderr, lines and summary are masked as the agent masks
 * its log; outputs and state are the output and task variables the step set.
 */
export interface TaskRun extends RehearsalRun {
  rawStdout: string;
  /** Files the step attached (`task.addattachment`), read before the agent's folder is removed. */
  attachments: { type: string; name: string; content: string }[];
  /** Tags the step added to the run (`build.addbuildtag`). */
  tags: string[];
  commands: VsoCommand[];
  record: StepRecord;
}

export async function runTask(emulator: Emulator, options: TaskRunOptions): Promise<TaskRun> {
  const { info } = emulator;
  const connection = options.connection ?? emulatorConnection(info);
  const dir = mkdtempSync(join(tmpdir(), "aca-bg-agent-"));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? dir,
    AGENT_TEMPDIRECTORY: dir,
    AGENT_WORKFOLDER: dir,
    AGENT_VERSION: "4.266.2",
    ...(options.job ?? newJob()),
    SYSTEM_OIDCREQUESTURI: info.adoOidcUrl,
    NODE_EXTRA_CA_CERTS: info.caFile,
    HTTPS_PROXY: info.proxy,
    // As the emulator's banner says: loopback (ARM, Entra ID, the log streams) directly, app
    // hostnames through the proxy.
    NO_PROXY: "127.0.0.1,localhost",
    ...inputEnv({
      azureSubscription: connection.id,
      resourceGroup: RESOURCE_GROUP,
      ...options.inputs,
    }),
    ...serviceConnectionEnv(connection),
    ...systemAccessTokenEnv(info.adoAccessToken),
    ...taskVariableEnv(options.taskVariables ?? {}),
  };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }

  const {
    exitCode,
    signal,
    stdout,
    stderr,
    lines: rawLines,
  } = await runProcess(
    options.node ?? process.execPath,
    [join(ROOT, options.entry ?? "task/index.js")],
    { cwd: dir, env, onLine: options.onLine, signalOn: options.signalOn },
  );

  const commands = parseCommands(stdout);
  const record = recordOf(commands);
  const summary = record.summaries
    .filter((file) => existsSync(file))
    .map((file) => readFileSync(file, "utf8"))
    .join("\n");
  const attachments = commands
    .filter((c) => c.command === "task.addattachment" && existsSync(c.message))
    .map((c) => ({
      type: c.properties.type,
      name: c.properties.name,
      content: readFileSync(c.message, "utf8"),
    }));
  const tags = commands.filter((c) => c.command === "build.addbuildtag").map((c) => c.message);
  rmSync(dir, { recursive: true, force: true });
  // What the agent masks: secrets the task registered, the connection's confidential
  // parameters and the job's access token.
  const secrets = [
    ...record.secrets,
    ...CONFIDENTIAL_PARAMETERS.map((key) => connection.authorization?.[key] ?? ""),
    info.adoAccessToken,
  ];
  assertTaskSpelling(stdout, "log");
  assertTaskSpelling(summary, "summary");
  return {
    exitCode,
    signal,
    stdout: mask(stdout, secrets),
    stderr: mask(stderr, secrets),
    lines: rawLines.map((line) => ({ ...line, text: mask(line.text, secrets) })),
    outputs: record.outputs,
    state: record.taskVariables,
    summary: mask(summary, secrets),
    rawStdout: stdout,
    attachments,
    tags,
    commands,
    record,
  };
}

/**
 * The system's Node 20, outside node_modules, which runs the task on agents that have the
 * Node20_1 handler and not yet Node24.
 */
export function systemNode20(): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "" || dir.includes("node_modules")) continue;
    const candidate = join(dir, "node");
    if (!existsSync(candidate)) continue;
    const version = execFileSync(candidate, ["--version"], { encoding: "utf8" }).trim();
    if (version.startsWith("v20.")) return candidate;
  }
  throw new Error(
    "No Node 20 on PATH outside node_modules; the task's Node20_1 handler is tested with it.",
  );
}
