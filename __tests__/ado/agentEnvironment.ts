/**
 * The Azure Pipelines agent as a task sees it: the environment variables it sets for inputs,
 * service connections and task variables, and the `##vso[...]` logging commands it reads back from
 * the task's output, parsed with azure-pipelines-task-lib's own parser.
 */
import { commandFromString } from "azure-pipelines-task-lib/taskcommand.js";

/** An Azure Resource Manager service connection as the agent hands it to a task. */
export interface ServiceConnection {
  id: string;
  /** Undefined: the agent passes no such connection. */
  scheme?: string;
  url?: string;
  /** Authorization parameters (`ENDPOINT_AUTH_PARAMETER_<id>_<KEY>`). */
  authorization?: Record<string, string>;
  /** Data (`ENDPOINT_DATA_<id>_<KEY>`). */
  data?: Record<string, string>;
}

/** Authorization parameters Azure DevOps marks confidential, which the agent masks in logs. */
export const CONFIDENTIAL_PARAMETERS = ["serviceprincipalkey", "servicePrincipalCertificate"];

export function serviceConnectionEnv(connection: ServiceConnection): Record<string, string> {
  const { id, scheme, url, authorization = {}, data = {} } = connection;
  const env: Record<string, string> = {};
  if (url !== undefined) env[`ENDPOINT_URL_${id}`] = url;
  if (scheme !== undefined) {
    env[`ENDPOINT_AUTH_${id}`] = JSON.stringify({ parameters: authorization, scheme });
    env[`ENDPOINT_AUTH_SCHEME_${id}`] = scheme;
  }
  for (const [key, value] of Object.entries(authorization)) {
    env[`ENDPOINT_AUTH_PARAMETER_${id}_${key.toUpperCase()}`] = value;
  }
  for (const [key, value] of Object.entries(data)) {
    env[`ENDPOINT_DATA_${id}_${key.toUpperCase()}`] = value;
  }
  return env;
}

/** The job's access token, which the agent passes as the SystemVssConnection endpoint. */
export function systemAccessTokenEnv(token: string): Record<string, string> {
  return { ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: token };
}

/** `INPUT_<NAME>` as the agent sets it: dots and spaces become `_`, upper-cased. */
export function inputEnv(inputs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, value]) => [`INPUT_${variableKey(name)}`, value]),
  );
}

/** Task variables an earlier step of the same task set, for its post-job step. */
export function taskVariableEnv(variables: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [
      `VSTS_TASKVARIABLE_${variableKey(name)}`,
      value,
    ]),
  );
}

function variableKey(name: string): string {
  return name.replace(/[. ]/g, "_").toUpperCase();
}

export interface VsoCommand {
  command: string;
  properties: Record<string, string>;
  message: string;
}

/** Every logging command in the output, in order, as the agent reads them. */
export function parseCommands(stdout: string): VsoCommand[] {
  const commands: VsoCommand[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const at = line.indexOf("##vso[");
    if (at === -1) continue;
    const { command, properties, message } = commandFromString(line.slice(at));
    commands.push({ command, properties, message });
  }
  return commands;
}

/** What the logging commands of one step did, as the agent records it. */
export interface StepRecord {
  /** Output variables (`isOutput=true`), by name. */
  outputs: Record<string, string>;
  taskVariables: Record<string, string>;
  /** Values registered with `task.setsecret`. */
  secrets: string[];
  issues: { type: string; message: string }[];
  /** Files attached with `task.uploadsummary`. */
  summaries: string[];
  /** The `task.complete` result and message, when the step set one. */
  result?: { result: string; message: string };
}

export function recordOf(commands: VsoCommand[]): StepRecord {
  const record: StepRecord = {
    outputs: {},
    taskVariables: {},
    secrets: [],
    issues: [],
    summaries: [],
  };
  for (const { command, properties, message } of commands) {
    switch (command) {
      case "task.setvariable":
        if (properties.isOutput === "true") record.outputs[properties.variable] = message;
        break;
      case "task.settaskvariable":
        record.taskVariables[properties.variable] = message;
        break;
      case "task.setsecret":
        record.secrets.push(message);
        break;
      case "task.logissue":
      case "task.issue":
        record.issues.push({ type: properties.type, message });
        break;
      case "task.uploadsummary":
        record.summaries.push(message);
        break;
      case "task.complete":
        record.result = { result: properties.result, message };
        break;
    }
  }
  return record;
}

/** Replaces every secret with `***`, as the agent's masker does in the log it keeps. */
export function mask(text: string, secrets: Iterable<string>): string {
  let masked = text;
  for (const secret of [...secrets].filter(Boolean).sort((a, b) => b.length - a.length)) {
    masked = masked.split(secret).join("***");
  }
  return masked;
}
