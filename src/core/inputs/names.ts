/**
 * Azure and OCI naming rules, as the services enforce them, so that a bad name fails before any
 * write instead of halfway through a deployment.
 */

/** Container Apps rejects a revision whose app name and suffix together exceed this. */
export const MAX_APP_AND_SUFFIX_LENGTH = 54;
/** A DNS label, such as the `<app>---<label>` host name of a label URL, holds at most 63 characters. */
export const MAX_DNS_LABEL_LENGTH = 63;
export const MAX_LABEL_LENGTH = 50;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

interface LowerDnsRules {
  min: number;
  max: number;
  /** Must the first character be a letter (rather than a letter or digit)? */
  startsWithLetter: boolean;
  /** Is `--` forbidden (Container Apps reserves it to join app and revision names)? */
  noDoubleHyphen: boolean;
}

/** What is wrong with a lower-case DNS-style name, or undefined when nothing is. */
export function lowerDnsNameProblem(value: string, rules: LowerDnsRules): string | undefined {
  if (value.length < rules.min || value.length > rules.max) {
    return rules.min === rules.max
      ? `must be ${rules.max} characters long (it has ${value.length})`
      : `must be ${rules.min}-${rules.max} characters long (it has ${value.length})`;
  }
  if (/[A-Z]/.test(value)) return "must be lower-case";
  if (/[^a-z0-9-]/.test(value)) return "may contain only lower-case letters, digits and '-'";
  if (rules.startsWithLetter && !/^[a-z]/.test(value)) return "must start with a letter";
  if (!/^[a-z0-9]/.test(value)) return "must start with a letter or digit";
  if (!/[a-z0-9]$/.test(value)) return "must end with a letter or digit";
  if (rules.noDoubleHyphen && value.includes("--")) return "must not contain '--'";
  return undefined;
}

export function containerAppNameProblem(name: string): string | undefined {
  return lowerDnsNameProblem(name, {
    min: 2,
    max: 32,
    startsWithLetter: true,
    noDoubleHyphen: true,
  });
}

/** Container names follow RFC 1123 labels. */
export function containerNameProblem(name: string): string | undefined {
  return lowerDnsNameProblem(name, {
    min: 1,
    max: 63,
    startsWithLetter: false,
    noDoubleHyphen: false,
  });
}

/**
 * The service checks the whole revision name, which starts with the app name's letter, so a suffix
 * may start with a digit (a commit hash, say).
 */
export function revisionSuffixProblem(suffix: string, appName?: string): string | undefined {
  const problem = lowerDnsNameProblem(suffix, {
    min: 1,
    max: MAX_APP_AND_SUFFIX_LENGTH - 2,
    startsWithLetter: false,
    noDoubleHyphen: true,
  });
  if (problem) return problem;
  if (appName !== undefined && appName.length + suffix.length > MAX_APP_AND_SUFFIX_LENGTH) {
    return `is too long for app "${appName}": app name and suffix together may have at most ${MAX_APP_AND_SUFFIX_LENGTH} characters (they have ${appName.length + suffix.length}), so the suffix may have at most ${MAX_APP_AND_SUFFIX_LENGTH - appName.length}`;
  }
  return undefined;
}

export function labelProblem(label: string, appName?: string): string | undefined {
  const problem = lowerDnsNameProblem(label, {
    min: 1,
    max: MAX_LABEL_LENGTH,
    startsWithLetter: true,
    noDoubleHyphen: true,
  });
  if (problem) return problem;
  if (appName !== undefined) {
    const host = `${appName}---${label}`;
    if (host.length > MAX_DNS_LABEL_LENGTH) {
      return `is too long for app "${appName}": the label URL's host name "${host}" would exceed the ${MAX_DNS_LABEL_LENGTH} characters of a DNS label, so the label may have at most ${MAX_DNS_LABEL_LENGTH - appName.length - 3}`;
    }
  }
  return undefined;
}

export function resourceGroupProblem(name: string): string | undefined {
  if (name.length > 90) return `must have at most 90 characters (it has ${name.length})`;
  if (!/^[\p{L}\p{N}_().-]+$/u.test(name)) {
    return "may contain only letters, digits, '-', '_', '.', '(' and ')'";
  }
  if (name.endsWith(".")) return "must not end with '.'";
  return undefined;
}

const DOMAIN_PART = "[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?";
const DOMAIN = new RegExp(`^${DOMAIN_PART}(?:\\.${DOMAIN_PART})*(?::\\d{1,5})?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * What is wrong with an image reference (`registry/repository[:tag][@sha256:<64 hex>]`, the
 * distribution reference grammar), or undefined when it is plausible.
 */
export function imageReferenceProblem(image: string): string | undefined {
  if (/\s/.test(image)) return "must not contain spaces";
  const [name, digest, ...extra] = image.split("@");
  if (extra.length > 0) return "has more than one '@'";
  if (digest !== undefined && !DIGEST.test(digest)) {
    return `has digest "${digest}", which is not sha256: followed by 64 lower-case hex digits`;
  }
  const lastSlash = name.lastIndexOf("/");
  const colon = name.indexOf(":", lastSlash + 1);
  const repository = colon === -1 ? name : name.slice(0, colon);
  const tag = colon === -1 ? undefined : name.slice(colon + 1);
  if (tag !== undefined && !TAG.test(tag)) {
    return `has tag "${tag}"; a tag has 1-128 letters, digits, '_', '.' and '-', and does not start with '.' or '-'`;
  }
  if (repository === "") return "has no repository";
  if (repository.length > 255) return "has a name longer than 255 characters";
  const parts = repository.split("/");
  const first = parts[0];
  const hasRegistry =
    parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasRegistry && !DOMAIN.test(first))
    return `has registry "${first}", which is not a host name`;
  const path = hasRegistry ? parts.slice(1) : parts;
  for (const component of path) {
    if (PATH_COMPONENT.test(component)) continue;
    if (PATH_COMPONENT.test(component.toLowerCase())) {
      return `has repository "${path.join("/")}", which must be lower-case`;
    }
    return `has repository part "${component}"; a part has lower-case letters and digits, joined by '.', '_', '__' or '-'`;
  }
  return undefined;
}
