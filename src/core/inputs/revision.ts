/**
 * The inputs that shape the new revision beyond its image — environment variables, secrets,
 * CPU and memory, replicas, command and args, probes, and a revision template file in the format
 * `az containerapp update --yaml` reads — validated into `RevisionInputs`. Pure: the template
 * file is read through the reader the host gives. Secret values never appear in a message.
 */
import { parse as parseYaml } from "yaml";
import {
  isJson,
  type EnvEdit,
  type Json,
  type RevisionInputs,
  type SecretEntry,
  type TemplateFile,
} from "../revision/model.ts";
import { containerNameProblem } from "./names.ts";

/** The inputs read here, in the schema's order. */
export const REVISION_INPUTS = [
  "revision-template",
  "env-vars",
  "secrets",
  "cpu",
  "memory",
  "min-replicas",
  "max-replicas",
  "command",
  "args",
  "probes",
] as const;

/** The service's rule for variable names (its own message quotes the regex). */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
/** Secret names: lower-case letters, digits and '-', starting and ending alphanumeric, ≤ 253. */
const SECRET_NAME = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const MAX_SECRET_NAME = 253;
/** A decimal with at most two places, as the service takes CPU and memory. */
const CPU = /^\d+(?:\.\d{1,2})?$/;
const MEMORY = /^\d+(?:\.\d{1,2})?Gi$/;
/** The most replicas a revision may be configured with (Container Apps quotas). */
export const MAX_REPLICAS = 1000;
const PROBE_TYPES = ["Liveness", "Readiness", "Startup"];
const USER_ASSIGNED_IDENTITY =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/i;
/** Fields of `properties.configuration` a container app has. */
export const CONFIGURATION_FIELDS = [
  "secrets",
  "activeRevisionsMode",
  "ingress",
  "registries",
  "dapr",
  "runtime",
  "maxInactiveRevisions",
  "service",
  "identitySettings",
] as const;

export interface RevisionInputError {
  input: string;
  message: string;
}

export type RevisionInputsResult =
  { ok: true; revision?: RevisionInputs } | { ok: false; errors: RevisionInputError[] };

/** Reads a file the user named (relative to the job's working directory); throws when it cannot. */
export type FileReader = (path: string) => string;

/**
 * Reads every revision input. `revision` is undefined when none is given: the new revision is
 * then the current one with the new image.
 */
export function readRevisionInputs(
  get: (name: string) => string | undefined,
  readFile?: FileReader,
): RevisionInputsResult {
  const errors: RevisionInputError[] = [];
  const fail = (input: string, message: string) => errors.push({ input, message });
  const given = (name: string) => {
    const value = get(name);
    return value === undefined || value.trim() === "" ? undefined : value;
  };
  if (REVISION_INPUTS.every((name) => given(name) === undefined)) return { ok: true };

  const envText = given("env-vars");
  const env = envText === undefined ? [] : parseEnvVars(envText, (m) => fail("env-vars", m));
  const secretsText = given("secrets");
  const secrets =
    secretsText === undefined ? [] : parseSecrets(secretsText, (m) => fail("secrets", m));

  const cpuText = given("cpu")?.trim();
  let cpu: number | undefined;
  if (cpuText !== undefined) {
    if (!CPU.test(cpuText) || Number(cpuText) <= 0) {
      fail(
        "cpu",
        `"${cpuText}" is not a number of vCPU above zero with at most two decimals (e.g. "0.5")`,
      );
    } else cpu = Number(cpuText);
  }
  const memoryText = given("memory")?.trim();
  let memory: string | undefined;
  if (memoryText !== undefined) {
    if (!MEMORY.test(memoryText) || Number(memoryText.slice(0, -2)) <= 0) {
      fail(
        "memory",
        `"${memoryText}" is not an amount of memory in Gi with at most two decimals (e.g. "1Gi" or "1.5Gi")`,
      );
    } else memory = memoryText;
  }

  const minReplicas = readCount("min-replicas", given("min-replicas"), 0, fail);
  const maxReplicas = readCount("max-replicas", given("max-replicas"), 1, fail);
  if (minReplicas !== undefined && maxReplicas !== undefined && minReplicas > maxReplicas) {
    fail("min-replicas", `${minReplicas} is more than \`max-replicas\` (${maxReplicas})`);
  }

  const command = readList("command", given("command"), fail);
  const args = readList("args", given("args"), fail);
  const probesText = given("probes");
  const probes = probesText === undefined ? undefined : parseProbes(probesText, fail);

  const path = given("revision-template")?.trim();
  const file = path === undefined ? undefined : readTemplateFile(path, readFile, fail);

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    revision: {
      env,
      secrets,
      ...(cpu !== undefined && { cpu }),
      ...(memory !== undefined && { memory }),
      ...(minReplicas !== undefined && { minReplicas }),
      ...(maxReplicas !== undefined && { maxReplicas }),
      ...(command !== undefined && { command }),
      ...(args !== undefined && { args }),
      ...(probes !== undefined && { probes }),
      ...(file !== undefined && { file }),
    },
  };
}

/** Lines that are neither blank nor a `#` comment, with their line numbers. */
function lines(text: string): { line: string; number: number }[] {
  return text
    .split(/\r?\n/)
    .map((raw, index) => ({ line: raw.trim(), number: index + 1 }))
    .filter(({ line }) => line !== "" && !line.startsWith("#"));
}

/** `KEY=VALUE`, `KEY=secretref:SECRET` or `-KEY`, one a line. */
export function parseEnvVars(text: string, fail: (message: string) => void): EnvEdit[] {
  const edits: EnvEdit[] = [];
  const seen = new Set<string>();
  for (const { line, number } of lines(text)) {
    const removal = line.startsWith("-");
    const equals = line.indexOf("=");
    const name = removal
      ? line.slice(1).trim()
      : (equals < 0 ? line : line.slice(0, equals)).trim();
    if (!removal && equals < 0) {
      fail(
        `line ${number} ("${name}") is not KEY=VALUE, KEY=secretref:SECRET_NAME or -KEY (to remove KEY)`,
      );
      continue;
    }
    if (removal && equals >= 0) {
      fail(`line ${number}: -KEY removes a variable and takes no value`);
      continue;
    }
    if (!ENV_NAME.test(name)) {
      fail(
        `line ${number}: "${name}" is not a variable name: letters, digits, '_', '-' and '.', not starting with a digit`,
      );
      continue;
    }
    if (seen.has(name)) {
      fail(`line ${number}: ${name} is given twice`);
      continue;
    }
    seen.add(name);
    if (removal) {
      edits.push({ kind: "remove", name });
      continue;
    }
    const value = line.slice(equals + 1).trim();
    const reference = /^secretref:(.*)$/i.exec(value);
    if (reference) {
      const secret = reference[1].trim();
      const problem = secretNameProblem(secret);
      if (problem) {
        fail(`line ${number}: ${name} refers to secret "${secret}", which ${problem}`);
        continue;
      }
      edits.push({ kind: "secretref", name, secret });
    } else {
      edits.push({ kind: "set", name, value });
    }
  }
  return edits;
}

/** `NAME=VALUE` or `NAME=keyvaultref:<secret URL>,identityref:<system or identity resource ID>`. */
export function parseSecrets(text: string, fail: (message: string) => void): SecretEntry[] {
  const secrets: SecretEntry[] = [];
  for (const { line, number } of lines(text)) {
    const equals = line.indexOf("=");
    const name = (equals < 0 ? line : line.slice(0, equals)).trim();
    if (equals < 0) {
      fail(
        `line ${number} is not NAME=VALUE or NAME=keyvaultref:<secret URL>,identityref:<identity>`,
      );
      continue;
    }
    const problem = secretNameProblem(name);
    if (problem) {
      // The name is shown only when it is one: a line without a proper name may be a value.
      fail(`line ${number}: the secret name ${problem}`);
      continue;
    }
    if (secrets.some((secret) => secret.name === name)) {
      fail(`line ${number}: secret ${name} is given twice`);
      continue;
    }
    const value = line.slice(equals + 1).trim();
    if (value === "") {
      fail(`line ${number}: secret ${name} has no value`);
      continue;
    }
    const reference = /^keyvaultref:([^,]*)(?:,identityref:(.*))?$/i.exec(value);
    if (!reference) {
      secrets.push({ name, value });
      continue;
    }
    const url = reference[1].trim();
    const identity = reference[2]?.trim();
    if (!/^https:\/\/[^/\s]+\/secrets\/[^\s]+$/i.test(url)) {
      fail(
        `line ${number}: secret ${name} has keyvaultref "${url}", which is not a Key Vault secret URL (https://<vault>.vault.azure.net/secrets/<name>)`,
      );
      continue;
    }
    if (
      identity === undefined ||
      (identity.toLowerCase() !== "system" && !USER_ASSIGNED_IDENTITY.test(identity))
    ) {
      fail(
        `line ${number}: secret ${name} needs identityref:system or identityref:<user-assigned identity resource ID> to read ${url}`,
      );
      continue;
    }
    secrets.push({
      name,
      keyVaultUrl: url,
      identity: identity.toLowerCase() === "system" ? "system" : identity,
    });
  }
  return secrets;
}

/** What is wrong with a secret name, or undefined. */
export function secretNameProblem(name: string): string | undefined {
  if (name.length === 0) return "is empty";
  if (name.length > MAX_SECRET_NAME) {
    return `is longer than ${MAX_SECRET_NAME} characters`;
  }
  if (!SECRET_NAME.test(name)) {
    return `"${name}" may contain only lower-case letters, digits and '-', starting and ending with a letter or digit`;
  }
  return undefined;
}

type Fail = (input: string, message: string) => void;

function readCount(
  name: string,
  text: string | undefined,
  min: number,
  fail: Fail,
): number | undefined {
  if (text === undefined) return undefined;
  const value = text.trim();
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > MAX_REPLICAS) {
    fail(name, `"${value}" is not a whole number from ${min} to ${MAX_REPLICAS}`);
    return undefined;
  }
  return Number(value);
}

/** One item a line, or a YAML list such as `["/bin/sh", "-c"]`. */
function readList(name: string, text: string | undefined, fail: Fail): string[] | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = parseYaml(trimmed);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === "string")) {
      fail(
        name,
        'is not a list of strings; give one item a line, or a list such as ["/bin/sh", "-c"]',
      );
      return undefined;
    }
    return parsed;
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/**
 * Probes as the template holds them: a YAML list of `type` (Liveness, Readiness or Startup) with
 * `httpGet` (`path`, `port`) or `tcpSocket` (`port`), and optionally the timing fields.
 */
function parseProbes(text: string, fail: Fail): Json[] | undefined {
  const example = "e.g. `- type: Readiness` with `httpGet: {path: /health, port: 8080}`";
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    fail("probes", `is not valid YAML (${(error as Error).message.split("\n")[0]}); ${example}`);
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    fail("probes", `is not a YAML list of probes; ${example}`);
    return undefined;
  }
  const probes: Json[] = [];
  const types = new Set<string>();
  for (const [index, item] of parsed.entries()) {
    const where = `probe ${index + 1}`;
    const problem = probeProblem(item);
    if (problem) {
      fail("probes", `${where} ${problem}; ${example}`);
      continue;
    }
    const probe = item as Json;
    const type = PROBE_TYPES.find((t) => t.toLowerCase() === String(probe.type).toLowerCase());
    if (types.has(type as string)) {
      fail("probes", `${where}: there is already a ${type} probe; each type may appear once`);
      continue;
    }
    types.add(type as string);
    probes.push({ ...probe, type });
  }
  return probes;
}

const PROBE_NUMBERS = [
  "initialDelaySeconds",
  "periodSeconds",
  "timeoutSeconds",
  "successThreshold",
  "failureThreshold",
  "terminationGracePeriodSeconds",
];

function probeProblem(item: unknown): string | undefined {
  if (!isJson(item)) return "is not a mapping";
  const type = PROBE_TYPES.find((t) => t.toLowerCase() === String(item.type).toLowerCase());
  if (!type) return `has type "${String(item.type)}", not one of ${PROBE_TYPES.join(", ")}`;
  const actions = ["httpGet", "tcpSocket"].filter((key) => item[key] !== undefined);
  if (actions.length !== 1) return "needs exactly one of httpGet and tcpSocket";
  const action = item[actions[0]];
  if (!isJson(action)) return `has ${actions[0]} that is not a mapping`;
  const port = action.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    return `has ${actions[0]}.port "${String(port)}", not a port from 1 to 65535`;
  }
  if (
    action.path !== undefined &&
    (typeof action.path !== "string" || !action.path.startsWith("/"))
  ) {
    return `has httpGet.path "${String(action.path)}", which does not start with /`;
  }
  for (const field of PROBE_NUMBERS) {
    const value = item[field];
    if (
      value !== undefined &&
      (typeof value !== "number" || !Number.isInteger(value) || value < 0)
    ) {
      return `has ${field} "${String(value)}", not a whole number`;
    }
  }
  return undefined;
}

/**
 * The file of `revision-template`: a YAML document as `az containerapp update --yaml` reads it,
 * whose `properties.template` is the revision's template and whose `properties.configuration` is
 * application scope. Its other fields are not a rollout's to change; they are listed as ignored.
 */
function readTemplateFile(
  path: string,
  readFile: FileReader | undefined,
  fail: Fail,
): TemplateFile | undefined {
  const input = "revision-template";
  if (!readFile) {
    fail(input, "cannot be read: this host gives no file access");
    return undefined;
  }
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    fail(input, `${path} cannot be read: ${(error as Error).message}`);
    return undefined;
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    fail(input, `${path} is not valid YAML: ${(error as Error).message.split("\n")[0]}`);
    return undefined;
  }
  const form =
    "a container app as `az containerapp update --yaml` reads it, with `properties.template` (and optionally `properties.configuration`)";
  if (!isJson(document) || !isJson(document.properties)) {
    fail(input, `${path} is not ${form}`);
    return undefined;
  }
  const { template, configuration, ...otherProperties } = document.properties;
  if (template === undefined && configuration === undefined) {
    fail(input, `${path} has neither \`properties.template\` nor \`properties.configuration\``);
    return undefined;
  }
  if (template !== undefined && !isJson(template)) {
    fail(input, `${path}: properties.template is not a mapping`);
    return undefined;
  }
  if (configuration !== undefined && !isJson(configuration)) {
    fail(input, `${path}: properties.configuration is not a mapping`);
    return undefined;
  }
  const problems = [
    ...(template ? templateProblems(template) : []),
    ...(configuration ? configurationProblems(configuration) : []),
  ];
  for (const problem of problems) fail(input, `${path}: ${problem}`);
  if (problems.length > 0) return undefined;
  const ignored = [
    ...Object.keys(document)
      .filter((key) => key !== "properties")
      .map((key) => key),
    ...Object.keys(otherProperties).map((key) => `properties.${key}`),
  ];
  return {
    path,
    ...(template && { template }),
    ...(configuration && { configuration }),
    ignored,
  };
}

function templateProblems(template: Json): string[] {
  const problems: string[] = [];
  for (const field of ["containers", "initContainers"]) {
    const list = template[field];
    if (list === undefined) continue;
    if (!Array.isArray(list) || (field === "containers" && list.length === 0)) {
      problems.push(`properties.template.${field} is not a list of containers`);
      continue;
    }
    const names = new Set<string>();
    list.forEach((container: unknown, index) => {
      const where = `properties.template.${field}[${index}]`;
      if (!isJson(container)) {
        problems.push(`${where} is not a mapping`);
        return;
      }
      const name = typeof container.name === "string" ? container.name : "";
      const problem = containerNameProblem(name);
      if (problem) problems.push(`${where}.name "${name}" ${problem}`);
      else if (names.has(name)) problems.push(`${where}: container ${name} appears twice`);
      names.add(name);
      if (container.image !== undefined && typeof container.image !== "string") {
        problems.push(`${where}.image is not a string`);
      }
      if (container.env !== undefined) {
        const env = container.env;
        if (!Array.isArray(env) || !env.every((e) => isJson(e) && typeof e.name === "string")) {
          problems.push(`${where}.env is not a list of named variables`);
        }
      }
      if (container.resources !== undefined && !isJson(container.resources)) {
        problems.push(`${where}.resources is not a mapping`);
      }
    });
  }
  if (template.scale !== undefined) {
    const scale = template.scale;
    if (!isJson(scale)) problems.push("properties.template.scale is not a mapping");
    else {
      for (const field of ["minReplicas", "maxReplicas"]) {
        const value = scale[field];
        if (
          value !== undefined &&
          (typeof value !== "number" ||
            !Number.isInteger(value) ||
            value < 0 ||
            value > MAX_REPLICAS)
        ) {
          problems.push(
            `properties.template.scale.${field} is not a whole number from 0 to ${MAX_REPLICAS}`,
          );
        }
      }
    }
  }
  if (template.revisionSuffix !== undefined && typeof template.revisionSuffix !== "string") {
    problems.push("properties.template.revisionSuffix is not a string");
  }
  return problems;
}

function configurationProblems(configuration: Json): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(configuration)) {
    if (!(CONFIGURATION_FIELDS as readonly string[]).includes(key)) {
      problems.push(
        `properties.configuration.${key} is not a field of a container app's configuration (${CONFIGURATION_FIELDS.join(", ")})`,
      );
    }
  }
  const ingress = configuration.ingress;
  if (ingress !== undefined && !isJson(ingress)) {
    problems.push("properties.configuration.ingress is not a mapping");
  } else if (ingress?.traffic !== undefined) {
    problems.push(
      "properties.configuration.ingress.traffic is set; traffic is what the rollout moves step by step: remove it from the file",
    );
  }
  const mode = configuration.activeRevisionsMode;
  if (mode !== undefined && String(mode).toLowerCase() !== "multiple") {
    problems.push(
      `properties.configuration.activeRevisionsMode is "${String(mode)}"; a blue-green rollout needs Multiple (leave it out, or set Multiple)`,
    );
  }
  const secrets = configuration.secrets;
  if (secrets !== undefined) {
    if (!Array.isArray(secrets) || !secrets.every((s) => isJson(s) && typeof s.name === "string")) {
      problems.push("properties.configuration.secrets is not a list of named secrets");
    } else {
      for (const secret of secrets as Json[]) {
        const problem = secretNameProblem(String(secret.name));
        if (problem) problems.push(`properties.configuration.secrets: the secret name ${problem}`);
        if (secret.value !== undefined && typeof secret.value !== "string") {
          problems.push(
            `properties.configuration.secrets: ${String(secret.name)} has a value that is not a string`,
          );
        }
      }
    }
  }
  return problems;
}
