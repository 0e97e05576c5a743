/**
 * The rules an ARM write to Container Apps must pass, as the service enforces them: resource,
 * app, environment and revision names, tags, configuration and template shape, revision modes,
 * traffic weights and labels, lock conflicts and revision suffix reuse; and the same rules for a
 * seed sent to the control API. A check throws the ARM error (status, code and message) the
 * service answers with; one that shapes a value returns it with the service's defaults filled in.
 * No I/O and no state: writes.ts decides when a rule applies.
 */
import { HttpError, isRecord } from "./http.ts";
import type { SeedSpec } from "./types.ts";

type Json = Record<string, unknown>;

export const defaultMaxInactiveRevisions = 100;
const maxAppNameLength = 32;
const maxRevisionNameLength = 54;
const revisionModes = ["Single", "Multiple", "Labels"];

/** Traffic when a write sends none: everything to the latest revision. */
export const defaultTraffic = (): Json[] => [{ latestRevision: true, weight: 100 }];

// Errors

function schemaError(message: string): HttpError {
  return new HttpError(400, "ContainerAppInvalidSchema", message);
}

function locationRequired(): HttpError {
  return new HttpError(
    400,
    "LocationRequired",
    "The location property is required for this definition.",
  );
}

/** The service's words (Azure/azure-quickstart-templates#14660, 2026). */
function invalidRevisionName(name: string): HttpError {
  return new HttpError(
    400,
    "ContainerAppInvalidRevisionName",
    `Revision name has an invalid value '${name}'. A revision name must consist of lower case ` +
      "alphanumeric characters or '-', start with an alphabetic character, and end with an " +
      `alphanumeric character. The length of the revision name must not be more than a combined ` +
      `${maxRevisionNameLength} characters with the container app name.`,
  );
}

// Names

export function checkResourceGroupName(name: string): void {
  if (!/^[-\w.()]{1,90}$/.test(name) || name.endsWith(".")) {
    throw new HttpError(
      400,
      "InvalidResourceGroupName",
      `Resource group name '${name}' is invalid: use up to 90 letters, digits, '-', '_', '.', ` +
        "'(' or ')', not ending with '.'.",
    );
  }
}

export function checkEnvironmentName(name: string): void {
  if (!/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/.test(name) || name.includes("--")) {
    throw new HttpError(
      400,
      "ManagedEnvironmentInvalidName",
      `Invalid managed environment name '${name}'. A name must consist of lower case alphanumeric ` +
        "characters or '-', start with a letter, end with an alphanumeric character, cannot have " +
        "'--', and be 2 to 32 characters long.",
    );
  }
}

export function checkAppName(name: unknown): asserts name is string {
  if (
    typeof name !== "string" ||
    name.length < 2 ||
    name.length > maxAppNameLength ||
    !/^[a-z][a-z0-9-]*[a-z0-9]$/.test(name) ||
    name.includes("--")
  ) {
    throw new HttpError(
      400,
      "ContainerAppInvalidName",
      `Invalid ContainerApp name '${String(name)}'. A name must consist of lower case alphanumeric ` +
        "characters or '-', start with an alphabetic character, end with an alphanumeric character, " +
        `cannot have '--', and be 2 to ${maxAppNameLength} characters long.`,
    );
  }
}

/** Revision `<app>--<suffix>`: the suffix starts with a letter, has no `--`, fits 54 in all. */
export function checkRevisionName(app: string, suffix: string): void {
  const name = `${app}--${suffix}`;
  if (!isRevisionNameOf(app, name)) throw invalidRevisionName(name);
}

function isRevisionNameOf(app: string, name: string): boolean {
  const prefix = `${app}--`;
  if (!name.startsWith(prefix) || name.length > maxRevisionNameLength) return false;
  const suffix = name.slice(prefix.length);
  return /^[a-z]([a-z0-9-]*[a-z0-9])?$/.test(suffix) && !suffix.includes("--");
}

// Writes

/** Every resource here lives in a location, and a PUT must say which. */
export function checkLocation(body: unknown): asserts body is Json & { location: string } {
  if (!isRecord(body) || typeof body.location !== "string" || body.location === "") {
    throw locationRequired();
  }
}

export function checkAppBody(body: unknown): asserts body is Json {
  if (!isRecord(body)) throw schemaError("The request body must be a container app object.");
}

/**
 * An app takes one write at a time: another is refused until the running operation ends. The
 * service answers this one without ARM's `error` wrapper (microsoft/azure-container-apps#175).
 */
export function checkNotLocked(app: { name: string; operation?: { status: string } }): void {
  if (app.operation?.status === "InProgress") throw lockConflict(app.name);
}

/** The 409 of a write that meets another modification of app `name` in progress. */
export function lockConflict(name: string): HttpError {
  return new HttpError(
    409,
    "ContainerAppLockConflict",
    `Cannot modify container App '${name}' because another modification is in progress. ` +
      "Please retry the operation.",
    {},
    "bare",
  );
}

/** An app write that names an environment that does not exist. */
export function environmentNotFound(environmentId: string): HttpError {
  return new HttpError(
    400,
    "ManagedEnvironmentNotFound",
    `Managed environment '${environmentId}' was not found.`,
  );
}

/** Traffic needs ingress; returns the app's ingress. */
export function checkIngressEnabled(app: { name: string; configuration: Json }): Json {
  const ingress = app.configuration.ingress;
  if (!isRecord(ingress)) {
    throw new HttpError(
      400,
      "ContainerAppIngressNotEnabled",
      `Container app '${app.name}' has no ingress, so it has no traffic to set.`,
    );
  }
  return ingress;
}

/** The environment an app write names, as `environmentId` or its older `managedEnvironmentId`. */
export function checkEnvironmentId(properties: Json): string {
  const environmentId = properties.environmentId ?? properties.managedEnvironmentId;
  if (typeof environmentId !== "string" || environmentId === "") {
    throw schemaError("The field 'properties.environmentId' is required.");
  }
  return environmentId;
}

/** An app stays in the environment it was created in. */
export function checkEnvironmentUnchanged(
  app: { name: string; environmentId: string },
  environmentId: string,
): void {
  if (environmentId.toLowerCase() !== app.environmentId.toLowerCase()) {
    throw schemaError(
      `The environment of container app '${app.name}' cannot change from ` +
        `'${app.environmentId}'.`,
    );
  }
}

export function checkIdentity(identity: unknown): Json | undefined {
  if (identity === undefined) return undefined;
  if (!isRecord(identity)) throw schemaError("The field 'identity' must be an object.");
  return structuredClone(identity);
}

export function checkWorkloadProfileName(name: unknown): string | undefined {
  if (name !== undefined && typeof name !== "string") {
    throw schemaError("The field 'properties.workloadProfileName' must be a string.");
  }
  return name;
}

export function checkTags(tags: unknown): Record<string, string> {
  if (tags === undefined || tags === null) return {};
  if (!isRecord(tags) || !Object.values(tags).every((value) => typeof value === "string")) {
    throw new HttpError(400, "InvalidTag", "Tags must be an object of string values.");
  }
  return { ...(tags as Record<string, string>) };
}

function checkNonNegativeInteger(value: unknown, field: string): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw schemaError(`The field '${field}' must be a non-negative integer.`);
  }
}

function normalizeMode(mode: unknown): string {
  const found = revisionModes.find(
    (candidate) => typeof mode === "string" && candidate.toLowerCase() === mode.toLowerCase(),
  );
  if (!found) {
    throw schemaError(
      `The field 'configuration.activeRevisionsMode' has an invalid value '${String(mode)}'; ` +
        `use one of ${revisionModes.join(", ")}.`,
    );
  }
  return found;
}

/** The configuration with the service's defaults filled in. */
export function checkConfiguration(value: unknown): Json {
  if (value !== undefined && !isRecord(value)) {
    throw schemaError("The field 'properties.configuration' must be an object.");
  }
  const configuration: Json = structuredClone(value ?? {});
  configuration.activeRevisionsMode = normalizeMode(configuration.activeRevisionsMode ?? "Single");
  if (
    configuration.maxInactiveRevisions === undefined ||
    configuration.maxInactiveRevisions === null
  ) {
    configuration.maxInactiveRevisions = defaultMaxInactiveRevisions;
  }
  checkNonNegativeInteger(configuration.maxInactiveRevisions, "configuration.maxInactiveRevisions");
  if (configuration.secrets !== undefined) {
    const secrets = configuration.secrets;
    if (
      !Array.isArray(secrets) ||
      !secrets.every((s) => isRecord(s) && typeof s.name === "string")
    ) {
      throw schemaError("The field 'configuration.secrets' must be a list of named secrets.");
    }
  }
  const ingress = configuration.ingress;
  if (ingress === undefined || ingress === null) {
    delete configuration.ingress;
    return configuration;
  }
  if (!isRecord(ingress)) throw schemaError("The field 'configuration.ingress' must be an object.");
  ingress.external ??= false;
  ingress.transport ??= "Auto";
  ingress.allowInsecure ??= false;
  if (typeof ingress.external !== "boolean") {
    throw schemaError("The field 'configuration.ingress.external' must be a boolean.");
  }
  // 0 is accepted, as the service accepts it.
  const port = ingress.targetPort;
  if (
    port !== undefined &&
    (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535)
  ) {
    throw schemaError("The field 'configuration.ingress.targetPort' must be a port number.");
  }
  delete ingress.fqdn;
  return configuration;
}

/** The template with the service's defaults filled in (resources, scale). */
export function checkTemplate(value: unknown): Json {
  if (!isRecord(value)) throw schemaError("The field 'properties.template' is required.");
  const template: Json = structuredClone(value);
  if (template.revisionSuffix === "" || template.revisionSuffix === null)
    delete template.revisionSuffix;
  if (template.revisionSuffix !== undefined && typeof template.revisionSuffix !== "string") {
    throw schemaError("The field 'template.revisionSuffix' must be a string.");
  }
  const containers = template.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    throw schemaError("The field 'template.containers' must hold at least one container.");
  }
  const names = new Set<string>();
  for (const [index, container] of containers.entries()) {
    if (!isRecord(container))
      throw schemaError(`Field 'template.containers[${index}]' is invalid.`);
    if (typeof container.image !== "string" || container.image.trim() === "") {
      throw schemaError(`Field 'template.containers[${index}].image' is required.`);
    }
    if (
      typeof container.name !== "string" ||
      !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(container.name)
    ) {
      throw schemaError(
        `Field 'template.containers[${index}].name' must consist of lower case alphanumeric ` +
          "characters or '-', and start and end with an alphanumeric character.",
      );
    }
    if (names.has(container.name)) {
      throw schemaError(`Container name '${container.name}' is used twice in the template.`);
    }
    names.add(container.name);
    if (container.env !== undefined) {
      const env = container.env;
      if (
        !Array.isArray(env) ||
        !env.every((item) => isRecord(item) && typeof item.name === "string")
      ) {
        throw schemaError(
          `Field 'template.containers[${index}].env' must be a list of named variables.`,
        );
      }
    }
    container.resources ??= { cpu: 0.5, memory: "1Gi", ephemeralStorage: "2Gi" };
  }
  const scale = (template.scale ??= {});
  if (!isRecord(scale)) throw schemaError("The field 'template.scale' must be an object.");
  scale.maxReplicas ??= 10;
  for (const field of ["minReplicas", "maxReplicas"]) {
    if (scale[field] !== undefined)
      checkNonNegativeInteger(scale[field], `template.scale.${field}`);
  }
  if (typeof scale.minReplicas === "number" && scale.minReplicas > Number(scale.maxReplicas)) {
    throw schemaError("The field 'template.scale.minReplicas' must not exceed maxReplicas.");
  }
  return template;
}

/**
 * Validates a traffic list for the app's revision mode and returns it with only the fields the
 * service keeps. Multiple (and Labels) mode: weights are integers that total 100, labels are
 * unique, every entry names an existing revision or the latest. Single mode: only the one entry
 * that sends everything to the latest revision.
 */
export function checkTraffic(
  value: unknown,
  context: { app: string; mode: string; known: Set<string>; latest: string },
): Json[] {
  if (!Array.isArray(value)) throw schemaError("The field 'ingress.traffic' must be a list.");
  const entries: Json[] = [];
  const labels = new Set<string>();
  let total = 0;
  for (const [index, item] of value.entries()) {
    if (!isRecord(item)) throw schemaError(`Traffic entry ${index} must be an object.`);
    // A weight sent as a string ("25") is read as the number (test_containerapp_ingress_traffic_e2e).
    const weight =
      typeof item.weight === "string" && /^\d+$/.test(item.weight)
        ? Number(item.weight)
        : (item.weight ?? 0);
    if (typeof weight !== "number" || !Number.isInteger(weight) || weight < 0 || weight > 100) {
      throw new HttpError(
        400,
        "ContainerAppInvalidTrafficWeight",
        `Traffic entry ${index} has weight '${String(item.weight)}'; a weight is an integer from 0 to 100.`,
      );
    }
    total += weight;
    const latestRevision = item.latestRevision === true;
    const revisionName = typeof item.revisionName === "string" ? item.revisionName : undefined;
    if (latestRevision === (revisionName !== undefined)) {
      throw new HttpError(
        400,
        "ContainerAppInvalidTrafficRevision",
        `Traffic entry ${index} must either name a revision (revisionName) or set ` +
          "latestRevision: true, not both.",
      );
    }
    const entry: Json = latestRevision
      ? { latestRevision: true, weight }
      : { revisionName, weight };
    if (revisionName !== undefined) {
      const name = revisionName.toLowerCase();
      if (!context.known.has(name)) {
        if (!isRevisionNameOf(context.app, revisionName)) throw invalidRevisionName(revisionName);
        throw new HttpError(
          400,
          "ContainerAppInvalidTrafficRevision",
          `Traffic entry ${index} names revision '${revisionName}', which does not exist in ` +
            `container app '${context.app}'.`,
        );
      }
      entry.revisionName = name;
    }
    if (item.label !== undefined && item.label !== null) {
      const label = item.label;
      if (
        typeof label !== "string" ||
        !/^[a-z]([a-z0-9-]*[a-z0-9])?$/.test(label) ||
        label.includes("--") ||
        `${context.app}---${label}`.length > 63
      ) {
        throw new HttpError(
          400,
          "ContainerAppInvalidTrafficLabel",
          `Traffic label '${String(label)}' is invalid: a label consists of lower case alphanumeric ` +
            "characters or '-', starts with a letter, ends with an alphanumeric character, has no " +
            `'--', and '<app>---<label>' must fit in 63 characters.`,
        );
      }
      if (labels.has(label)) {
        throw new HttpError(
          400,
          "ContainerAppInvalidTrafficLabel",
          `Traffic label '${label}' is used by more than one entry; labels must be unique.`,
        );
      }
      labels.add(label);
      entry.label = label;
    }
    entries.push(entry);
  }
  if (context.mode === "Single") {
    const [only] = entries;
    const toLatest =
      only !== undefined &&
      (only.latestRevision === true || only.revisionName === context.latest.toLowerCase());
    if (entries.length !== 1 || only.weight !== 100 || only.label !== undefined || !toLatest) {
      throw new HttpError(
        400,
        "ContainerAppInvalidTrafficRevisionMode",
        `Container app '${context.app}' is in Single revision mode, where the latest revision ` +
          "takes all traffic: traffic weights and labels need activeRevisionsMode 'Multiple'.",
      );
    }
    // However the client named it, Single mode sends everything to whichever revision is latest.
    return defaultTraffic();
  }
  if (total !== 100) {
    throw new HttpError(
      400,
      "ContainerAppInvalidTrafficWeight",
      `The traffic weights of container app '${context.app}' add up to ${total}; they must total 100.`,
    );
  }
  return entries;
}

/**
 * Why a write that reuses an existing revision's suffix fails. The service accepts the write and
 * fails its operation afterwards, so this is the operation's failure detail, not a thrown error.
 */
export function revisionSuffixTaken(suffix: string): string {
  return (
    "The following field(s) are either invalid or missing. Field 'template.revisionsuffix' " +
    `is invalid with details: 'Invalid value: "${suffix}": revision with suffix ${suffix} ` +
    "already exists'."
  );
}

// Control API

/** A seed as the control API receives it; returns its revision mode (Multiple unless given). */
export function checkSeed(spec: SeedSpec): string {
  if (!isRecord(spec)) throw schemaError("The seed must be an object.");
  if (typeof spec.resourceGroup !== "string" || typeof spec.environment !== "string") {
    throw schemaError("A seed needs resourceGroup, environment and app names.");
  }
  checkAppName(spec.app);
  if (!Array.isArray(spec.revisions) || spec.revisions.length === 0) {
    throw schemaError("A seed needs at least one revision.");
  }
  const suffixes = new Set<string>();
  for (const revision of spec.revisions) {
    if (!isRecord(revision) || typeof revision.suffix !== "string") {
      throw schemaError("Every seeded revision needs a suffix and an image.");
    }
    if (typeof revision.image !== "string" || revision.image === "") {
      throw schemaError(`Seeded revision '${revision.suffix}' needs an image.`);
    }
    checkRevisionName(spec.app, revision.suffix);
    if (suffixes.has(revision.suffix)) {
      throw schemaError(`Seeded revision suffix '${revision.suffix}' appears twice.`);
    }
    suffixes.add(revision.suffix);
  }
  const mode = normalizeMode(spec.activeRevisionsMode ?? "Multiple");
  if (spec.maxInactiveRevisions !== undefined) {
    checkNonNegativeInteger(spec.maxInactiveRevisions, "maxInactiveRevisions");
  }
  return mode;
}
