import { createHash } from "node:crypto";

/** `<app>--<suffix>`, the name Azure gives a revision. */
export function revisionName(app: string, suffix: string): string {
  return `${app}--${suffix}`;
}

/**
 * The default revision suffix: from the commit when there is one (`sha-1a2b3c4`), otherwise from
 * the image reference, so that rerunning the same release maps to the same revision. When the
 * inputs shape the template, its `fingerprint` joins in (`sha-1a2b3c4-9f8e7d`): the same commit
 * with other settings is another revision.
 */
export function deriveRevisionSuffix(
  commitSha: string | undefined,
  image: string,
  fingerprint?: string,
): string {
  if (commitSha && /^[0-9a-f]{7,40}$/i.test(commitSha)) {
    const base = `sha-${commitSha.slice(0, 7).toLowerCase()}`;
    return fingerprint ? `${base}-${fingerprint}` : base;
  }
  const source = fingerprint ? `${image}\n${fingerprint}` : image;
  return `img-${createHash("sha256").update(source).digest("hex").slice(0, 7)}`;
}

/**
 * The URL that reaches one label: `<app>---<label>.<domain>`, where the app's own FQDN is
 * `<app>.<domain>` (internal ingress puts `.internal` before the environment's domain).
 */
export function labelUrl(appFqdn: string, app: string, label: string): string {
  const rest = appFqdn.startsWith(`${app}.`) ? appFqdn.slice(app.length + 1) : appFqdn;
  return `https://${app}---${label}.${rest}`;
}

/** The URL that reaches one revision whatever its weight: `<app>--<suffix>.<domain>`. */
export function revisionUrl(appFqdn: string, app: string, revision: string): string {
  const rest = appFqdn.startsWith(`${app}.`) ? appFqdn.slice(app.length + 1) : appFqdn;
  return `https://${revision}.${rest}`;
}

/** The app FQDN when the service did not report one: `<app>[.internal].<defaultDomain>`. */
export function appFqdn(app: string, defaultDomain: string, external: boolean): string {
  return external ? `${app}.${defaultDomain}` : `${app}.internal.${defaultDomain}`;
}

/** Login server host names of Azure Container Registry in the public and sovereign clouds. */
const ACR_LOGIN_SERVER = /^[a-z0-9]+\.azurecr\.(io|us|cn)$/i;

/** Whether the registry host is an Azure Container Registry login server. */
export function isAcrLoginServer(registry: string): boolean {
  return ACR_LOGIN_SERVER.test(registry);
}
