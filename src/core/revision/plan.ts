/**
 * The plan of a new revision: its complete template (the current one, the template file merged
 * in as a PATCH would merge it, then the inputs, then the image), and every change the write that
 * creates it makes, each classified as revision scope (the new revision only) or application scope
 * (every revision at once, blue included). What would alter what blue runs is refused unless the
 * run is allowed to; what a restore cannot put back is said up front. Pure; no I/O.
 */
import { createHash } from "node:crypto";
import type { RegistryEntry } from "../ports.ts";
import {
  canonical,
  isJson,
  mergePatch,
  plain,
  secretRefsIn,
  type EnvVar,
  type Json,
  type PlannedChange,
  type RevisionInputs,
  type RevisionTemplate,
  type SecretEntry,
  type TemplateContainer,
} from "./model.ts";
import { resourceProblem, resourceTotal, type WorkloadProfile } from "./resources.ts";

/** What a restore puts back of the application-scope changes, and what it cannot. */
export interface AppScopeRestore {
  /** The configuration fields the write changes, as they were (no secret values among them). */
  configuration?: Json;
  /** The secrets array as it was, plus the added secrets (with values: kept in memory only). */
  secrets?: SecretEntry[];
  /** Secrets whose value the write changes: a restore from the saved journal cannot put them back. */
  changedSecrets: string[];
  /** Changes no restore puts back, with why. */
  notRestorable: string[];
}

export interface CandidateSpec {
  /** The new revision's complete template, without its suffix. */
  template: RevisionTemplate;
  /** The container that takes the image (and the inputs). */
  containerName: string;
  /** `revisionSuffix` of the template file, used when `revision-suffix` is not given. */
  fileSuffix?: string;
  /** Set when the inputs shape the template: it goes into the derived suffix. */
  fingerprint?: string;
  /** Replicas the revision must have ready before it takes traffic. */
  minReplicas: number;
  /** What the creating write sets beside the template and the traffic. */
  write: {
    multipleRevisions: boolean;
    registries?: RegistryEntry[];
    /** The complete secrets array (with values), when it changes. */
    secrets?: SecretEntry[];
    /** Other configuration fields of the template file. */
    configuration?: Json;
  };
  changes: PlannedChange[];
  /** Application-scope changes reported as warnings (log and summary). */
  warnings: string[];
  /** Secrets the write adds; they stay after a restore. */
  addedSecrets: string[];
  restore: AppScopeRestore;
}

/** The app as the plan needs it. */
export interface PlanApp {
  name: string;
  activeRevisionsMode: string;
  template: RevisionTemplate;
  configuration: Json;
}

export interface PlanRequest {
  app: PlanApp;
  /** Active revisions and their templates: what blue runs. */
  active: { name: string; template?: Json }[];
  image: string;
  containerName?: string;
  revision?: RevisionInputs;
  /** The registries array that adds managed-identity pull (`registry-identity`), when it does. */
  registries?: RegistryEntry[];
  allowApplicationChanges: boolean;
  /** The app's secrets with their values (`listSecrets`); needed when `secretsNeedValues`. */
  secretValues?: SecretEntry[];
  /** Where the revision runs; undefined: its size is not checked. */
  profile?: WorkloadProfile;
}

/** A reason the plan cannot go ahead, naming the input it comes from. */
export class PlanRefused extends Error {
  readonly code: string;
  readonly nextSteps?: string;

  constructor(message: string, code: string, nextSteps?: string) {
    super(message);
    this.name = "PlanRefused";
    this.code = code;
    this.nextSteps = nextSteps;
  }
}

/** Whether the plan must know the current secret values: the write then sends the whole array. */
export function secretsNeedValues(app: PlanApp, revision: RevisionInputs | undefined): boolean {
  const current = currentSecrets(app);
  return current.length > 0 && requestedSecrets(revision).length > 0;
}

/** Whether CPU or memory may change, so that the profile's limits must be checked. */
export function resourcesMayChange(revision: RevisionInputs | undefined): boolean {
  return (
    revision?.cpu !== undefined ||
    revision?.memory !== undefined ||
    revision?.file?.template !== undefined
  );
}

export function planCandidate(request: PlanRequest): CandidateSpec {
  const { app, revision } = request;
  const current = withoutSuffix(plain(app.template));
  const template = desiredTemplate(request, current);
  const containerName = targetContainer(request, template);
  applyInputs(template, containerName, request.image, revision);
  checkTemplate(template, revision);

  const changes: PlannedChange[] = describeTemplateChanges(current, template).map((what) => ({
    scope: "revision",
    what,
  }));
  const scope = applicationScope(request, template);
  changes.push(...scope.changes);

  if (request.profile && resourcesMayChange(revision)) {
    const problem = resourceProblem(template, request.profile);
    if (problem) {
      throw new PlanRefused(
        `${resourceInputs(revision)}: ${problem}. Nothing was changed.`,
        "InvalidResources",
        "Give a `cpu` and `memory` pair that fits (e.g. `cpu: 0.5` with `memory: 1Gi`), counting every container of the revision.",
      );
    }
  }

  const fileSuffix = revision?.file?.template?.revisionSuffix;
  return {
    template,
    containerName,
    ...(typeof fileSuffix === "string" && fileSuffix !== "" && { fileSuffix }),
    ...(revision !== undefined && { fingerprint: fingerprintOf(template) }),
    minReplicas: template.scale?.minReplicas ?? 0,
    write: scope.write,
    changes,
    warnings: scope.warnings,
    addedSecrets: scope.addedSecrets,
    restore: scope.restore,
  };
}

/** The plan as log lines: one per change, revision scope first. */
export function describePlan(spec: CandidateSpec): string[] {
  const lines: string[] = [];
  for (const scope of ["revision", "application"] as const) {
    const changes = spec.changes.filter((change) => change.scope === scope);
    lines.push(
      scope === "revision"
        ? "Revision scope (the new revision only):"
        : "Application scope (every revision at once, blue included):",
    );
    if (changes.length === 0) lines.push("  none");
    for (const change of changes) {
      lines.push(`  - ${change.what}${change.note ? ` (${change.note})` : ""}`);
    }
  }
  return lines;
}

// The template

function withoutSuffix(template: RevisionTemplate): RevisionTemplate {
  const copy = { ...template };
  delete copy.revisionSuffix;
  return copy;
}

/** The current template with the file's `properties.template` merged in, as a PATCH merges it. */
function desiredTemplate(request: PlanRequest, current: RevisionTemplate): RevisionTemplate {
  const file = request.revision?.file?.template;
  if (!file) return plain(current);
  const merged = mergePatch(current, file) as unknown as RevisionTemplate;
  return withoutSuffix(merged);
}

function targetContainer(request: PlanRequest, template: RevisionTemplate): string {
  const names = template.containers.map((container) => container.name);
  const name = request.containerName ?? names[0];
  if (name === undefined || !names.includes(name)) {
    const where = request.revision?.file?.template?.containers ? "the new revision" : "the app";
    throw new PlanRefused(
      `\`container-name\`: ${where} has no container "${request.containerName ?? ""}" (it has ${names.join(", ") || "none"}).`,
      "ContainerNotFound",
    );
  }
  return name;
}

/** The inputs win over the file: the image, then each setting of the target container. */
function applyInputs(
  template: RevisionTemplate,
  containerName: string,
  image: string,
  revision: RevisionInputs | undefined,
): void {
  const container = template.containers.find((c) => c.name === containerName) as TemplateContainer;
  container.image = image;
  if (!revision) return;
  if (revision.env.length > 0) container.env = editEnv(container.env ?? [], revision);
  if (revision.cpu !== undefined || revision.memory !== undefined) {
    container.resources = {
      ...container.resources,
      ...(revision.cpu !== undefined && { cpu: revision.cpu }),
      ...(revision.memory !== undefined && { memory: revision.memory }),
    };
  }
  if (revision.command) container.command = [...revision.command];
  if (revision.args) container.args = [...revision.args];
  if (revision.probes) container.probes = plain(revision.probes);
  if (revision.minReplicas !== undefined || revision.maxReplicas !== undefined) {
    template.scale = {
      ...template.scale,
      ...(revision.minReplicas !== undefined && { minReplicas: revision.minReplicas }),
      ...(revision.maxReplicas !== undefined && { maxReplicas: revision.maxReplicas }),
    };
  }
}

function editEnv(env: EnvVar[], revision: RevisionInputs): EnvVar[] {
  const result = env.map((variable) => ({ ...variable }));
  for (const edit of revision.env) {
    const index = result.findIndex((variable) => variable.name === edit.name);
    if (edit.kind === "remove") {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    const variable: EnvVar =
      edit.kind === "set"
        ? { name: edit.name, value: edit.value }
        : { name: edit.name, secretRef: edit.secret };
    if (index >= 0) result[index] = variable;
    else result.push(variable);
  }
  return result;
}

function checkTemplate(template: RevisionTemplate, revision: RevisionInputs | undefined): void {
  for (const container of [...template.containers, ...(template.initContainers ?? [])]) {
    if (typeof container.image !== "string" || container.image.trim() === "") {
      throw new PlanRefused(
        `\`revision-template\`: container ${container.name} has no image; give it one in the file (only the container \`container-name\` names takes \`image\`).`,
        "InvalidTemplate",
      );
    }
  }
  const { minReplicas, maxReplicas } = template.scale ?? {};
  if (minReplicas !== undefined && maxReplicas !== undefined && minReplicas > maxReplicas) {
    const input = revision?.minReplicas !== undefined ? "min-replicas" : "max-replicas";
    throw new PlanRefused(
      `\`${input}\`: the new revision would have at least ${minReplicas} and at most ${maxReplicas} replicas; the minimum must not exceed the maximum.`,
      "InvalidScale",
    );
  }
}

function resourceInputs(revision: RevisionInputs | undefined): string {
  const named = [
    revision?.cpu !== undefined ? "`cpu`" : undefined,
    revision?.memory !== undefined ? "`memory`" : undefined,
  ].filter(Boolean);
  return named.length > 0 ? named.join(" and ") : "`revision-template`";
}

/** A short stable hash of the template: the same inputs on the same app give the same suffix. */
function fingerprintOf(template: RevisionTemplate): string {
  return createHash("sha256").update(canonical(template)).digest("hex").slice(0, 6);
}

/** What changes between two templates, container by container; no values of variables. */
export function describeTemplateChanges(
  before: RevisionTemplate,
  after: RevisionTemplate,
): string[] {
  const lines: string[] = [];
  const beforeByName = new Map(before.containers.map((c) => [c.name, c]));
  const afterNames = new Set(after.containers.map((c) => c.name));
  for (const container of after.containers) {
    const was = beforeByName.get(container.name);
    if (!was) {
      lines.push(`container ${container.name} added (image ${container.image})`);
      continue;
    }
    if (was.image !== container.image) {
      lines.push(`image of ${container.name}: ${was.image} → ${container.image}`);
    }
    const env = envChanges(was.env ?? [], container.env ?? []);
    if (env) lines.push(`env of ${container.name}: ${env}`);
    const [cpuWas, cpuNow] = [was.resources?.cpu, container.resources?.cpu];
    const [memWas, memNow] = [was.resources?.memory, container.resources?.memory];
    if (cpuWas !== cpuNow || memWas !== memNow) {
      lines.push(
        `resources of ${container.name}: ${cpuWas ?? "default"} vCPU / ${memWas ?? "default"} → ${cpuNow ?? "default"} vCPU / ${memNow ?? "default"}`,
      );
    }
    for (const field of ["command", "args", "probes", "volumeMounts"]) {
      if (canonical(was[field] ?? null) !== canonical(container[field] ?? null)) {
        lines.push(`${field} of ${container.name} changed`);
      }
    }
  }
  for (const container of before.containers) {
    if (!afterNames.has(container.name)) lines.push(`container ${container.name} removed`);
  }
  const scaleWas = before.scale ?? {};
  const scaleNow = after.scale ?? {};
  for (const field of ["minReplicas", "maxReplicas"]) {
    if (scaleWas[field] !== scaleNow[field]) {
      lines.push(
        `${field}: ${String(scaleWas[field] ?? "default")} → ${String(scaleNow[field] ?? "default")}`,
      );
    }
  }
  const others = (scale: Json) =>
    canonical({ ...scale, minReplicas: undefined, maxReplicas: undefined });
  if (others(scaleWas) !== others(scaleNow)) lines.push("scale rules changed");
  const fields = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const field of fields) {
    if (field === "containers" || field === "scale" || field === "revisionSuffix") continue;
    if (canonical(before[field] ?? null) !== canonical(after[field] ?? null)) {
      lines.push(`${field} changed`);
    }
  }
  return lines;
}

function envChanges(before: EnvVar[], after: EnvVar[]): string {
  const was = new Map(before.map((v) => [v.name, v]));
  const now = new Map(after.map((v) => [v.name, v]));
  const parts: string[] = [];
  for (const [name, variable] of now) {
    const old = was.get(name);
    const ref = variable.secretRef ? ` (secret ${variable.secretRef})` : "";
    if (!old) parts.push(`+${name}${ref}`);
    else if (old.value !== variable.value || old.secretRef !== variable.secretRef) {
      parts.push(`~${name}${ref}`);
    }
  }
  for (const name of was.keys()) if (!now.has(name)) parts.push(`-${name}`);
  return parts.join(", ");
}

// Application scope

function currentSecrets(app: PlanApp): SecretEntry[] {
  const secrets = app.configuration.secrets;
  return Array.isArray(secrets)
    ? secrets.filter(isJson).map((secret) => plain(secret) as unknown as SecretEntry)
    : [];
}

/** The secrets the run asks for: the `secrets` input over the file's `configuration.secrets`. */
function requestedSecrets(
  revision: RevisionInputs | undefined,
): { entry: SecretEntry; input: string }[] {
  const fromFile = revision?.file?.configuration?.secrets;
  const requested = new Map<string, { entry: SecretEntry; input: string }>();
  if (Array.isArray(fromFile)) {
    for (const secret of fromFile.filter(isJson)) {
      const entry = plain(secret) as unknown as SecretEntry;
      requested.set(entry.name, { entry, input: "revision-template" });
    }
  }
  for (const entry of revision?.secrets ?? [])
    requested.set(entry.name, { entry, input: "secrets" });
  return [...requested.values()];
}

function sameSecret(a: SecretEntry, b: SecretEntry): boolean {
  if (a.keyVaultUrl || b.keyVaultUrl) {
    return a.keyVaultUrl === b.keyVaultUrl && (a.identity ?? "") === (b.identity ?? "");
  }
  return a.value === b.value;
}

/** The entry as the write sends it: a value, or a Key Vault reference. */
function secretToWrite(entry: SecretEntry): SecretEntry {
  return entry.keyVaultUrl
    ? {
        name: entry.name,
        keyVaultUrl: entry.keyVaultUrl,
        ...(entry.identity && { identity: entry.identity }),
      }
    : { name: entry.name, value: entry.value ?? "" };
}

interface AppScopePlan {
  changes: PlannedChange[];
  warnings: string[];
  addedSecrets: string[];
  write: CandidateSpec["write"];
  restore: AppScopeRestore;
}

function applicationScope(request: PlanRequest, template: RevisionTemplate): AppScopePlan {
  const { app, revision } = request;
  const plan: AppScopePlan = {
    changes: [],
    warnings: [],
    addedSecrets: [],
    write: { multipleRevisions: false },
    restore: { changedSecrets: [], notRestorable: [] },
  };
  const refused: string[] = [];
  const allowed = request.allowApplicationChanges;
  const altering = (what: string, note: string) => {
    if (!allowed) {
      refused.push(`${what} (${note})`);
      return;
    }
    plan.changes.push({
      scope: "application",
      what,
      note: `${note}; allowed by \`allow-application-changes\``,
    });
    plan.warnings.push(
      `Application scope: ${what} — ${note}. It applies to every revision at once, blue included (allowed by \`allow-application-changes\`).`,
    );
  };

  if (app.activeRevisionsMode.toLowerCase() === "single") {
    plan.write.multipleRevisions = true;
    plan.changes.push({
      scope: "application",
      what: "revision mode Single → Multiple",
      note: "needed for two revisions to share traffic; blue keeps serving",
    });
    plan.warnings.push(
      `${app.name} is in Single revision mode; switching it to Multiple so that two revisions can share traffic. A restore leaves it in Multiple mode.`,
    );
    plan.restore.notRestorable.push(
      "the revision mode stays Multiple: in Single mode all traffic would go to the latest revision, the new one",
    );
  }

  const configuration = app.configuration;
  const restoreConfiguration: Json = {};
  if (request.registries) {
    const servers = request.registries.map((entry) => entry.server);
    const before = Array.isArray(configuration.registries) ? configuration.registries : [];
    plan.write.registries = request.registries;
    restoreConfiguration.registries = plain(before);
    plan.changes.push({
      scope: "application",
      what: `registries: managed-identity pull added (${servers.join(", ")})`,
      note: "put back by a restore",
    });
    plan.warnings.push(
      `Application scope: the app's registries change to add managed-identity pull (${servers.join(", ")}); it applies to every revision at once. A restore puts the registries back.`,
    );
  }

  secretChanges(request, template, plan, altering);

  const file = revision?.file?.configuration;
  if (file) {
    const write: Json = {};
    for (const [field, value] of Object.entries(file)) {
      if (field === "secrets") continue;
      if (field === "activeRevisionsMode") continue; // Multiple only (input validation), as above.
      const was =
        field === "ingress" ? ingressSettings(configuration.ingress) : configuration[field];
      const now = isJson(value) && isJson(was) ? mergePatch(was, value) : plain(value);
      if (canonical(was ?? null) === canonical(now ?? null)) continue;
      write[field] = now;
      if (was !== undefined) restoreConfiguration[field] = plain(was);
      else if (Array.isArray(now)) restoreConfiguration[field] = [];
      else
        plan.restore.notRestorable.push(
          `configuration.${field} of \`revision-template\` (the app had none before)`,
        );
      altering(
        `configuration.${field} of \`revision-template\` changes`,
        "it alters the app for the running revisions too",
      );
    }
    if (Object.keys(write).length > 0) plan.write.configuration = write;
  }

  if (refused.length > 0) {
    throw new PlanRefused(
      `The deploy would change what the running revisions use: ${refused.join("; ")}. Application-scope changes apply to every revision at once, blue included, so none was made. Nothing was changed.`,
      "ApplicationChangeRefused",
      "Give the new value a new secret name and refer to it from `env-vars` (a new name is safe for blue), or set `allow-application-changes: true` to change it for every revision.",
    );
  }
  if (Object.keys(restoreConfiguration).length > 0)
    plan.restore.configuration = restoreConfiguration;
  return plan;
}

/** Ingress as a template file may change it: without the traffic (the rollout's) and the FQDN. */
function ingressSettings(ingress: unknown): Json | undefined {
  if (!isJson(ingress)) return undefined;
  const settings = plain(ingress);
  delete settings.traffic;
  delete settings.fqdn;
  return settings;
}

function secretChanges(
  request: PlanRequest,
  template: RevisionTemplate,
  plan: AppScopePlan,
  altering: (what: string, note: string) => void,
): void {
  const { app } = request;
  const current = currentSecrets(app);
  const names = new Set(current.map((secret) => secret.name));
  const values = new Map((request.secretValues ?? current).map((secret) => [secret.name, secret]));
  const requested = requestedSecrets(request.revision);
  const next = new Map(current.map((secret) => [secret.name, values.get(secret.name) ?? secret]));
  const changed: string[] = [];
  for (const { entry, input } of requested) {
    const existing = values.get(entry.name);
    if (!names.has(entry.name)) {
      if (!entry.value && !entry.keyVaultUrl) {
        throw new PlanRefused(
          `\`${input}\`: secret ${entry.name} has no value and the app has no secret of that name; give its value (or a Key Vault reference).`,
          "SecretNotFound",
        );
      }
      next.set(entry.name, secretToWrite(entry));
      plan.addedSecrets.push(entry.name);
      plan.changes.push({
        scope: "application",
        what: `secret ${entry.name} added`,
        note: entry.keyVaultUrl
          ? "a Key Vault reference; stays after a restore"
          : "new name, safe for blue; stays after a restore",
      });
      continue;
    }
    // A name without a value or reference (a file exported by `az containerapp show`) keeps it.
    if (!entry.value && !entry.keyVaultUrl) continue;
    if (existing && sameSecret(existing, entry)) continue;
    next.set(entry.name, secretToWrite(entry));
    changed.push(entry.name);
    const users = usersOf(request, entry.name);
    if (users.length === 0) {
      plan.changes.push({
        scope: "application",
        what: `secret ${entry.name} gets a new value`,
        note: "no running revision uses it",
      });
    } else {
      altering(`secret ${entry.name} gets a new value`, `used by ${users.join(", ")}`);
    }
  }
  const available = new Set(next.keys());
  for (const ref of secretRefsIn(template)) {
    if (available.has(ref)) continue;
    const fromEnv = request.revision?.env.find(
      (edit) => edit.kind === "secretref" && edit.secret === ref,
    );
    const input = fromEnv
      ? "env-vars"
      : request.revision?.file?.template
        ? "revision-template"
        : "container-name";
    throw new PlanRefused(
      `\`${input}\`: ${fromEnv ? `${fromEnv.name} refers to` : "the new revision refers to"} secret ${ref}, which ${app.name} does not have (it has ${[...names].join(", ") || "no secrets"}).`,
      "SecretNotFound",
      "Add the secret with `secrets` (its value from a pipeline secret), or fix the name.",
    );
  }
  if (plan.addedSecrets.length === 0 && changed.length === 0) return;
  // The write replaces the whole array: a secret without its value would be emptied.
  const unread = [...next.values()].filter((secret) => !secret.value && !secret.keyVaultUrl);
  if (unread.length > 0) {
    throw new Error(
      `The values of secrets ${unread.map((secret) => secret.name).join(", ")} were not read; the app's secrets cannot be written without them.`,
    );
  }
  plan.write.secrets = [...next.values()].map(secretToWrite);
  if (changed.length > 0) {
    const before = current.map((secret) => secretToWrite(values.get(secret.name) ?? secret));
    const added = plan.addedSecrets.map((name) => next.get(name) as SecretEntry);
    plan.restore.secrets = [...before, ...added];
    plan.restore.changedSecrets = changed;
  }
}

/** The active revisions (and the app's registries) that refer to secret `name`. */
function usersOf(request: PlanRequest, name: string): string[] {
  const users = request.active
    .filter((revision) => secretRefsIn(revision.template).has(name))
    .map((revision) => revision.name);
  if (secretRefsIn(request.app.configuration.registries).has(name))
    users.push("the app's registries");
  return users;
}

/** The total CPU and memory of the template, for the log. */
export function describeResources(template: RevisionTemplate): string {
  const total = resourceTotal(template);
  return `${total.cpu} vCPU / ${total.memoryGiB}Gi per replica`;
}
