/**
 * A revision as Container Apps defines it: the template (revision scope: containers, scale,
 * volumes…) and the secrets of the app (application scope), in the field names of the REST API,
 * which are also those of `az containerapp update --yaml` and of the SDK's flattened models.
 * Pure types and pure helpers; no I/O.
 */

export type Json = Record<string, unknown>;

export interface EnvVar {
  name: string;
  value?: string;
  /** Name of one of the app's secrets, whose value the variable takes. */
  secretRef?: string;
}

export interface ContainerResources {
  /** vCPU, e.g. 0.5. */
  cpu?: number;
  /** Gibibytes with the unit, e.g. `1Gi` or `1.5Gi`. */
  memory?: string;
  [field: string]: unknown;
}

export interface TemplateContainer {
  name: string;
  image: string;
  env?: EnvVar[];
  resources?: ContainerResources;
  command?: string[];
  args?: string[];
  probes?: Json[];
  [field: string]: unknown;
}

export interface RevisionScale {
  minReplicas?: number;
  maxReplicas?: number;
  [field: string]: unknown;
}

/** `properties.template` of a container app. */
export interface RevisionTemplate {
  containers: TemplateContainer[];
  initContainers?: TemplateContainer[];
  scale?: RevisionScale;
  revisionSuffix?: string;
  [field: string]: unknown;
}

/**
 * One of the app's secrets: a value, or a Key Vault reference (`keyVaultUrl` and the `identity`
 * that reads it). The service never returns values on a GET; only its `listSecrets` action does.
 */
export interface SecretEntry {
  name: string;
  value?: string;
  keyVaultUrl?: string;
  /** `system` or the resource ID of a user-assigned identity. */
  identity?: string;
}

/** One line of `env-vars`. */
export type EnvEdit =
  | { kind: "set"; name: string; value: string }
  | { kind: "secretref"; name: string; secret: string }
  | { kind: "remove"; name: string };

/** What `revision-template` holds: the parts of `az containerapp update --yaml` a rollout uses. */
export interface TemplateFile {
  path: string;
  /** `properties.template`. */
  template?: Json;
  /** `properties.configuration`: application scope. */
  configuration?: Json;
  /** Other fields of the file, which a rollout does not change (reported, not applied). */
  ignored: string[];
}

/** The inputs that change the new revision (and the secrets it adds), validated. */
export interface RevisionInputs {
  env: EnvEdit[];
  secrets: SecretEntry[];
  cpu?: number;
  memory?: string;
  minReplicas?: number;
  maxReplicas?: number;
  command?: string[];
  args?: string[];
  probes?: Json[];
  file?: TemplateFile;
}

/** One change of a rollout's plan, as the log and the summary list it. */
export interface PlannedChange {
  scope: "revision" | "application";
  /** What changes, e.g. `env of web: +FEATURE_X`; never a value of a secret. */
  what: string;
  /** What it means for blue or for a restore. */
  note?: string;
}

export function isJson(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A deep copy without `undefined` fields, as the value would travel over the wire. */
export function plain<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    isJson(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
      : item,
  );
}

/**
 * RFC 7386 merge, as a PATCH of Container Apps applies a body: objects merge key by key, anything
 * else (arrays included) replaces, and null removes the key.
 */
export function mergePatch(target: unknown, patch: unknown): Json {
  const result: Json = isJson(target) ? plain(target) : {};
  if (!isJson(patch)) return result;
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else if (isJson(value)) result[key] = mergePatch(result[key], value);
    else result[key] = plain(value);
  }
  return result;
}

/** Memory in GiB from `1Gi` / `1.5Gi`; undefined when the text is not in that form. */
export function memoryGiB(memory: string | undefined): number | undefined {
  if (memory === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)Gi$/.exec(memory.trim());
  return match ? Number(match[1]) : undefined;
}

/** Every secret name `value` refers to (`secretRef`, `passwordSecretRef`), at any depth. */
export function secretRefsIn(value: unknown): Set<string> {
  const found = new Set<string>();
  const visit = (item: unknown) => {
    if (Array.isArray(item)) item.forEach(visit);
    else if (isJson(item)) {
      for (const [key, child] of Object.entries(item)) {
        if ((key === "secretRef" || key === "passwordSecretRef") && typeof child === "string") {
          found.add(child);
        } else visit(child);
      }
    }
  };
  visit(value);
  return found;
}
