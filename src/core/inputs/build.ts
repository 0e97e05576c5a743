/**
 * The inputs that ask for an image to be built and pushed before the deployment, and their
 * validation into a `BuildInputs`. Pure: no file system, no network.
 */
import { join } from "node:path";
import { isAcrLoginServer } from "../naming.ts";
import {
  BUILDER_CHOICES,
  type BuildInputs,
  type BuilderChoice,
  type RegistryAuth,
} from "../types.ts";

export interface BuildInputError {
  input: string;
  message: string;
}

export type BuildInputsResult =
  { ok: true; build?: BuildInputs } | { ok: false; errors: BuildInputError[] };

/** Inputs that mean something only when an image is built (from `build-context`). */
export const BUILD_ONLY_INPUTS = [
  "dockerfile",
  "build-args",
  "registry",
  "image-name",
  "image-tag",
  "registry-username",
  "registry-password",
  "builder",
  "registry-identity",
] as const;

/** A registry host with an optional port: no scheme, no path. */
const REGISTRY_HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::\d{1,5})?$/i;
/** A repository path as the distribution spec defines it (lower case). */
const REPOSITORY =
  /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const BUILD_ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function present(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** Parses `KEY=VALUE` lines; blank lines and `#` comments are skipped. */
export function parseBuildArgs(text: string): { args: Record<string, string>; errors: string[] } {
  const args: Record<string, string> = {};
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const equals = line.indexOf("=");
    const key = equals < 0 ? line : line.slice(0, equals).trim();
    if (equals < 0 || !BUILD_ARG_NAME.test(key)) {
      errors.push(
        `line ${index + 1} is not KEY=VALUE with a name of letters, digits and _: "${key}"`,
      );
      return;
    }
    args[key] = line.slice(equals + 1).trim();
  });
  return { args, errors };
}

function validateRegistry(registry: string): string | undefined {
  if (/^[a-z]+:\/\//i.test(registry) || registry.includes("/")) {
    return `must be a registry host such as myacr.azurecr.io, without a scheme or a path (got "${registry}")`;
  }
  return REGISTRY_HOST.test(registry) ? undefined : `"${registry}" is not a registry host name`;
}

function validateImageName(name: string): string | undefined {
  if (name.includes(":") || name.includes("@")) {
    return `is the repository only: put the tag in \`image-tag\` (got "${name}")`;
  }
  if (
    REGISTRY_HOST.test(name.split("/")[0]) &&
    name.split("/")[0].includes(".") &&
    name.includes("/")
  ) {
    return `is the repository inside the registry: put the registry host in \`registry\` (got "${name}")`;
  }
  return REPOSITORY.test(name)
    ? undefined
    : `"${name}" is not a repository name: lower-case letters, digits, separators (. _ __ -) and / between parts`;
}

/**
 * Reads the build inputs. `build` is undefined when no `build-context` is given; every error names
 * the input it is about.
 */
export function readBuildInputs(
  get: (name: string) => string | undefined,
  context: { commitSha?: string; repositoryUrl?: string },
): BuildInputsResult {
  const errors: BuildInputError[] = [];
  const buildContext = present(get("build-context"));
  if (!buildContext) {
    // Build settings without a build-context would be silently ignored: say so instead.
    for (const name of BUILD_ONLY_INPUTS) {
      if (present(get(name)) !== undefined && !(name === "builder" && get(name) === "auto")) {
        errors.push({ input: name, message: "is only used together with `build-context`" });
      }
    }
    return errors.length > 0 ? { ok: false, errors } : { ok: true };
  }

  if (present(get("image"))) {
    errors.push({
      input: "build-context",
      message:
        "`build-context` builds the image to deploy, so `image` must be empty: give one or the other",
    });
  }

  const registry = present(get("registry"));
  if (!registry) {
    errors.push({
      input: "registry",
      message: "is required with `build-context`: the registry to push the image to",
    });
  } else {
    const problem = validateRegistry(registry);
    if (problem) errors.push({ input: "registry", message: problem });
  }

  const imageName = present(get("image-name"));
  if (!imageName) {
    errors.push({
      input: "image-name",
      message: "is required with `build-context`: the repository to push to",
    });
  } else {
    const problem = validateImageName(imageName);
    if (problem) errors.push({ input: "image-name", message: problem });
  }

  const tag = present(get("image-tag")) ?? present(context.commitSha);
  if (!tag) {
    errors.push({ input: "image-tag", message: "is required when the commit is not known" });
  } else if (!TAG.test(tag)) {
    errors.push({
      input: "image-tag",
      message: `"${tag}" is not a tag: up to 128 letters, digits, _ . -, not starting with . or -`,
    });
  }

  const { args: buildArgs, errors: argErrors } = parseBuildArgs(get("build-args") ?? "");
  for (const message of argErrors) errors.push({ input: "build-args", message });

  const builderText = (present(get("builder")) ?? "auto").toLowerCase();
  const builder = BUILDER_CHOICES.find((choice) => choice === builderText);
  if (!builder) {
    errors.push({
      input: "builder",
      message: `must be one of ${BUILDER_CHOICES.join(", ")} (got "${builderText}")`,
    });
  } else if (builder === "acr" && registry && !isAcrLoginServer(registry)) {
    errors.push({
      input: "builder",
      message: `acr builds in an Azure Container Registry and pushes there, but registry ${registry} is not one (*.azurecr.io)`,
    });
  }

  const username = present(get("registry-username"));
  const password = get("registry-password");
  if (username && !password) {
    errors.push({ input: "registry-password", message: "is required with `registry-username`" });
  } else if (!username && password) {
    errors.push({ input: "registry-username", message: "is required with `registry-password`" });
  }

  if (errors.length > 0 || !registry || !imageName || !tag || !builder)
    return { ok: false, errors };

  let auth: RegistryAuth = { kind: "none" };
  if (username && password) auth = { kind: "password", username, password };
  else if (isAcrLoginServer(registry)) auth = { kind: "entra" };

  const dockerfile = present(get("dockerfile")) ?? join(buildContext, "Dockerfile");
  const build: BuildInputs = {
    context: buildContext,
    dockerfile,
    buildArgs,
    registry: registry.toLowerCase(),
    imageName,
    tag,
    builder: builder as BuilderChoice,
    auth,
    source: present(context.repositoryUrl),
    revision: present(context.commitSha),
  };
  return { ok: true, build };
}
