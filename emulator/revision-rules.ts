/**
 * The rules a revision's template and the app's secrets must pass on a write, beyond the shape
 * that validation.ts checks: variable names, CPU and memory (each container's format and the
 * total against the workload profile), replica bounds, the secrets array (names, a value or a Key
 * Vault reference for each) and the secrets the template refers to. Each throws the error the
 * service answers with; where no source shows the service's code or words, the README marks the
 * rule unconfirmed. No I/O and no state.
 */
import { HttpError, isRecord } from "./http.ts";

type Json = Record<string, unknown>;

/** The most replicas a revision may be configured with (Container Apps quotas, 2024 and later). */
export const maxReplicasLimit = 1000;
/** The Consumption profile's largest replica (learn.microsoft.com/azure/container-apps/workload-profiles-overview). */
const consumptionMaxCpu = 4;
/** One node of each dedicated profile type, as documented on the same page. */
const dedicatedSizes: Record<string, { cores: number; memoryGiB: number }> = {
  d4: { cores: 4, memoryGiB: 16 },
  d8: { cores: 8, memoryGiB: 32 },
  d16: { cores: 16, memoryGiB: 64 },
  d32: { cores: 32, memoryGiB: 128 },
  e4: { cores: 4, memoryGiB: 32 },
  e8: { cores: 8, memoryGiB: 64 },
  e16: { cores: 16, memoryGiB: 128 },
  e32: { cores: 32, memoryGiB: 256 },
};

/** The service's variable name rule, as its own message quotes it (MicrosoftDocs/azure-docs#94512). */
const envNamePattern = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
/** Secret names (Azure/container-apps-deploy-action#116, 2024). */
const secretNamePattern = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const maxSecretNameLength = 253;

/**
 * Each container's variables, CPU and memory, and the scale bounds. Memory's words are the
 * service's (Azure/bicep-types-az#2226); the code is the emulator's own.
 */
export function checkContainerSettings(template: Json): void {
  const containers = (template.containers as Json[]) ?? [];
  for (const container of containers) {
    for (const variable of (container.env as Json[] | undefined) ?? []) {
      const name = String(variable.name);
      if (!envNamePattern.test(name)) {
        throw new HttpError(
          400,
          "ContainerAppInvalidEnvVarName",
          `The following field(s) are either invalid or missing. Invalid value: "${name}": Invalid ` +
            "Environment Variable Name: Must consist of alphanumeric characters or '_', and must " +
            "not start with a numeric character (e.g. 'MY_ENV_VAR',  or 'MY_VAR123', regex used " +
            "for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
        );
      }
    }
    const resources = isRecord(container.resources) ? container.resources : {};
    const memory = resources.memory;
    if (
      memory !== undefined &&
      (typeof memory !== "string" || !/^\d+(\.\d{1,2})?Gi$/.test(memory))
    ) {
      throw new HttpError(
        400,
        "ContainerAppInvalidResourceRequest",
        `Container with name '${String(container.name)}' has an invalid memory resource request: ` +
          `'${String(memory)}'. The 'memory' field for each container, if provided, must contain a ` +
          "decimal value to no more than 2 decimal places followed by 'Gi' to denote the unit " +
          "(Gibibytes). Example: '1.25Gi' or '2Gi'.",
      );
    }
    const cpu = resources.cpu;
    if (
      cpu !== undefined &&
      (typeof cpu !== "number" || cpu <= 0 || Math.abs(Math.round(cpu * 100) - cpu * 100) > 1e-9)
    ) {
      throw new HttpError(
        400,
        "ContainerAppInvalidResourceRequest",
        `Container with name '${String(container.name)}' has an invalid cpu resource request: ` +
          `'${String(cpu)}'. The 'cpu' field for each container, if provided, must be a decimal ` +
          "value greater than zero with no more than 2 decimal places.",
      );
    }
  }
  const scale = isRecord(template.scale) ? template.scale : {};
  const min = typeof scale.minReplicas === "number" ? scale.minReplicas : 0;
  const max = typeof scale.maxReplicas === "number" ? scale.maxReplicas : 10;
  if (min < 0 || max < 1 || min > max || max > maxReplicasLimit) {
    // The words of the service's answer (MicrosoftDocs/azure-docs#89742), with today's maximum.
    throw new HttpError(
      400,
      "ContainerAppInvalidScaleSettings",
      `The scale options provided for Container App are incorrect. The values must be positive, ` +
        `maxReplicas must not be less than minReplicas. The maxReplicas must not be bigger than ${maxReplicasLimit}.`,
    );
  }
}

/**
 * The total CPU and memory of all containers: on the Consumption profile one of the combinations
 * the service lists in ContainerAppInvalidResourceTotal (Azure/bicep-types-az#1924,
 * microsoft/azure-container-apps#1259), today up to 4 vCPU / 8Gi; on a dedicated profile at most
 * one node of its type (the emulator's own words and code for that case).
 */
export function checkResourceTotal(
  template: Json,
  profile: { name: string; type?: string } | undefined,
): void {
  let cpu = 0;
  let memory = 0;
  for (const container of (template.containers as Json[]) ?? []) {
    const resources = isRecord(container.resources) ? container.resources : {};
    cpu += typeof resources.cpu === "number" ? resources.cpu : 0.5;
    memory += Number(String(resources.memory ?? "1Gi").replace(/Gi$/, ""));
  }
  cpu = Math.round(cpu * 100) / 100;
  memory = Math.round(memory * 100) / 100;
  const type = profile?.type?.toLowerCase();
  const size = type ? dedicatedSizes[type] : undefined;
  if (size) {
    if (cpu <= size.cores && memory <= size.memoryGiB) return;
    throw new HttpError(
      400,
      "ContainerAppInvalidResourceTotal",
      `The total requested CPU and memory resources for this application (CPU: ${cpu}, memory: ` +
        `${memory}) is invalid. Total CPU and memory for all containers defined in a Container App ` +
        `must fit the workload profile '${profile?.name}' (${profile?.type}: ${size.cores} cores, ` +
        `${size.memoryGiB}Gi).`,
    );
  }
  if (type !== undefined && !type.startsWith("consumption")) return;
  const steps = cpu / 0.25;
  if (
    Math.abs(steps - Math.round(steps)) < 1e-9 &&
    cpu >= 0.25 &&
    cpu <= consumptionMaxCpu &&
    Math.abs(memory - 2 * cpu) < 1e-9
  ) {
    return;
  }
  const combinations: string[] = [];
  for (let c = 0.25; c <= consumptionMaxCpu; c += 0.25) {
    combinations.push(
      `[cpu: ${c.toFixed((c * 100) % 10 === 0 ? 1 : 2)}, memory: ${(2 * c).toFixed(1)}Gi]`,
    );
  }
  throw new HttpError(
    400,
    "ContainerAppInvalidResourceTotal",
    `The total requested CPU and memory resources for this application (CPU: ${cpu}, memory: ` +
      `${memory}) is invalid. Total CPU and memory for all containers defined in a Container App ` +
      `must add up to one of the following CPU - Memory combinations: ${combinations.join("; ")}`,
  );
}

/**
 * The secrets array of a write: names as the service takes them (ContainerAppInvalidSecretName),
 * and a value or a Key Vault reference with its identity for each (ContainerAppSecretInvalid,
 * pulumi/pulumi-azure-native#2807) — a write replaces the whole array, so a secret sent without
 * its value is refused rather than emptied.
 */
export function checkSecrets(secrets: unknown): void {
  if (!Array.isArray(secrets)) return;
  const invalid: string[] = [];
  for (const secret of secrets as Json[]) {
    const name = String(secret.name);
    if (!secretNamePattern.test(name) || name.length > maxSecretNameLength) {
      throw new HttpError(
        400,
        "ContainerAppInvalidSecretName",
        `Secret name has an invalid value '${name}'. A value must consist of lower case ` +
          "alphanumeric characters, '-', and must start and end with an alphanumeric character. " +
          `The length must not be more than ${maxSecretNameLength} characters.`,
      );
    }
    const hasValue = typeof secret.value === "string" && secret.value !== "";
    const hasReference =
      typeof secret.keyVaultUrl === "string" && typeof secret.identity === "string";
    if (!hasValue && !hasReference) invalid.push(name);
  }
  if (invalid.length > 0) {
    throw new HttpError(
      400,
      "ContainerAppSecretInvalid",
      `Invalid Request: Container app secret(s) with name(s) '${invalid.join(", ")}' are invalid: ` +
        "value or keyVaultUrl and identity should be provided.",
    );
  }
  const names = (secrets as Json[]).map((secret) => String(secret.name));
  const twice = names.find((name, index) => names.indexOf(name) !== index);
  if (twice) {
    throw new HttpError(
      400,
      "ContainerAppSecretInvalid",
      `Invalid Request: Container app secret(s) with name(s) '${twice}' are invalid: a secret name is used twice.`,
    );
  }
}

/**
 * Every `secretRef` of a container's variables names one of the app's secrets
 * (ContainerAppSecretRefNotFound, microsoft/java-on-aca-with-ai#13).
 */
export function checkSecretRefs(template: Json, secrets: unknown): void {
  const names = new Set(
    Array.isArray(secrets) ? (secrets as Json[]).map((secret) => String(secret.name)) : [],
  );
  for (const container of [
    ...((template.containers as Json[]) ?? []),
    ...((template.initContainers as Json[] | undefined) ?? []),
  ]) {
    for (const variable of (container.env as Json[] | undefined) ?? []) {
      const ref = variable.secretRef;
      if (typeof ref === "string" && !names.has(ref)) {
        throw new HttpError(
          400,
          "ContainerAppSecretRefNotFound",
          `SecretRef '${ref}' defined for container '${String(container.name)}' not found.`,
        );
      }
    }
  }
}

/** The environment's workload profile an app runs on; undefined: Consumption. */
export function profileOf(
  environmentProperties: Json,
  workloadProfileName: string | undefined,
): { name: string; type?: string } | undefined {
  if (workloadProfileName === undefined) return undefined;
  const profiles = Array.isArray(environmentProperties.workloadProfiles)
    ? (environmentProperties.workloadProfiles as Json[])
    : [];
  const found = profiles.find(
    (profile) => String(profile.name).toLowerCase() === workloadProfileName.toLowerCase(),
  );
  return { name: workloadProfileName, type: found ? String(found.workloadProfileType) : undefined };
}

/**
 * A container's variables as its process sees them: values as given, secret references resolved
 * from the app's secrets. A Key Vault reference cannot be resolved here: the variable is left out.
 */
export function resolveEnv(container: Json, secrets: unknown): Record<string, string> {
  const values = new Map(
    (Array.isArray(secrets) ? (secrets as Json[]) : [])
      .filter((secret) => typeof secret.value === "string")
      .map((secret) => [String(secret.name), String(secret.value)]),
  );
  const env: Record<string, string> = {};
  for (const variable of (container.env as Json[] | undefined) ?? []) {
    const name = String(variable.name);
    if (typeof variable.secretRef === "string") {
      const value = values.get(variable.secretRef);
      if (value !== undefined) env[name] = value;
    } else if (variable.value !== undefined) {
      env[name] = String(variable.value);
    }
  }
  return env;
}
