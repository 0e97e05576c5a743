/**
 * Azure Container Registry without an admin user: log in with an Entra ID token exchanged for an
 * ACR refresh token, and check that a container app can pull from the registry.
 */
import type { ContainerApp, RegistryCredentials } from "@azure/arm-appcontainers";
import { parseAuthChallenge } from "./authChallenge.ts";

/** The user name that goes with an ACR refresh token (`docker login -u <this> -p <token>`). */
export const ACR_REFRESH_TOKEN_USERNAME = "00000000-0000-0000-0000-000000000000";

export interface AcrExchangeOptions {
  /** Registry login server, e.g. `myacr.azurecr.io`. */
  registry: string;
  tenantId?: string;
  /** An Entra ID access token for Azure Resource Manager. */
  armAccessToken: string;
  fetch?: typeof fetch;
}

/** The error text a registry or token server put in its answer, without echoing anything sent. */
async function registryErrorText(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as {
      errors?: { code?: string; message?: string }[];
      error?: string;
      error_description?: string;
    };
    const first = body.errors?.[0];
    if (first) return [first.code, first.message].filter(Boolean).join(": ");
    if (body.error) return [body.error, body.error_description].filter(Boolean).join(": ");
  } catch {
    // Not JSON: the status line has to do.
  }
  return response.statusText;
}

/**
 * The registry's token server: the origin of the bearer realm it names on `/v2/` (which is the
 * registry itself on ACR), or the registry when it names none.
 */
async function tokenServerOrigin(registry: string, fetchImpl: typeof fetch): Promise<string> {
  const fallback = `https://${registry}`;
  const response = await fetchImpl(`${fallback}/v2/`);
  await response.body?.cancel();
  const challenge = parseAuthChallenge(response.headers.get("www-authenticate"));
  if (challenge?.scheme !== "bearer" || !challenge.params.realm) return fallback;
  return new URL(challenge.params.realm).origin;
}

/**
 * Exchanges an Entra ID access token for an ACR refresh token (`POST /oauth2/exchange`). The token
 * is the password for the user `ACR_REFRESH_TOKEN_USERNAME`; it carries the identity's registry
 * roles (AcrPush to push).
 */
export async function exchangeForAcrRefreshToken(options: AcrExchangeOptions): Promise<string> {
  const fetchImpl = options.fetch ?? fetch;
  const origin = await tokenServerOrigin(options.registry, fetchImpl);
  const form = new URLSearchParams({ grant_type: "access_token", service: options.registry });
  if (options.tenantId) form.set("tenant", options.tenantId);
  form.set("access_token", options.armAccessToken);
  const response = await fetchImpl(`${origin}/oauth2/exchange`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form.toString(),
  });
  if (!response.ok) {
    const detail = await registryErrorText(response);
    throw new Error(
      `Azure Container Registry ${options.registry} refused the Entra ID token (HTTP ${response.status}${detail ? `, ${detail}` : ""}). ` +
        "Check that the identity has the AcrPush role on the registry and that the token is for Azure Resource Manager.",
    );
  }
  const body = (await response.json()) as { refresh_token?: string };
  if (!body.refresh_token) {
    throw new Error(
      `Azure Container Registry ${options.registry} answered the token exchange without a refresh token.`,
    );
  }
  return body.refresh_token;
}

/** A managed identity the app pulls with: its system-assigned one, or a user-assigned resource id. */
export type PullIdentity = "system" | string;

export interface PullAccess {
  /** Whether the app has a usable entry (identity or user name + secret) for the registry. */
  configured: boolean;
  /** The app's `configuration.registries` entry for the registry, when it has one. */
  entry?: RegistryCredentials;
  /** How the app pulls from the registry, or what is missing and what to do. */
  message: string;
  /** PATCH body that adds managed-identity pull for the registry (when asked for, and possible). */
  patch?: { configuration: { registries: RegistryCredentials[] } };
}

type AppPullView = Pick<ContainerApp, "name" | "identity" | "configuration">;

function sameServer(a: string | undefined, b: string): boolean {
  return (a ?? "").trim().toLowerCase() === b.trim().toLowerCase();
}

function identityTypes(app: AppPullView): string[] {
  return (app.identity?.type ?? "None").split(",").map((type) => type.trim().toLowerCase());
}

/** Why the app cannot use this identity, or undefined when it can. */
function identityProblem(app: AppPullView, identity: PullIdentity): string | undefined {
  if (identity.toLowerCase() === "system") {
    return identityTypes(app).includes("systemassigned")
      ? undefined
      : "the app has no system-assigned identity; turn it on (identity type SystemAssigned) first";
  }
  const assigned = Object.keys(app.identity?.userAssignedIdentities ?? {});
  return assigned.some((id) => id.toLowerCase() === identity.toLowerCase())
    ? undefined
    : `the user-assigned identity ${identity} is not assigned to the app; assign it first`;
}

/**
 * Whether a container app can pull from `registry`: reports the app's `configuration.registries`
 * entry for it, or its absence, clearly. With `options.identity`, also returns the PATCH that sets
 * up managed-identity pull (the identity needs the AcrPull role on the registry). Registries is
 * replaced as a whole by a PATCH, so the patch keeps the app's other entries.
 */
export function describePullAccess(
  app: AppPullView,
  registry: string,
  options: { identity?: PullIdentity } = {},
): PullAccess {
  const name = app.name ?? "the container app";
  const registries = app.configuration?.registries ?? [];
  const entry = registries.find((candidate) => sameServer(candidate.server, registry));
  if (entry?.identity) {
    const problem = identityProblem(app, entry.identity);
    const who =
      entry.identity.toLowerCase() === "system"
        ? "its system-assigned identity"
        : `the identity ${entry.identity}`;
    return problem
      ? {
          configured: false,
          entry,
          message: `Container app ${name} pulls from ${registry} with ${who}, but ${problem}.`,
        }
      : {
          configured: true,
          entry,
          message: `Container app ${name} pulls from ${registry} with ${who}.`,
        };
  }
  if (entry?.username && entry.passwordSecretRef) {
    const secretExists = (app.configuration?.secrets ?? []).some(
      (secret) => secret.name === entry.passwordSecretRef,
    );
    return secretExists
      ? {
          configured: true,
          entry,
          message: `Container app ${name} pulls from ${registry} as ${entry.username} (password in secret ${entry.passwordSecretRef}).`,
        }
      : {
          configured: false,
          entry,
          message: `Container app ${name} pulls from ${registry} as ${entry.username}, but its secret ${entry.passwordSecretRef} does not exist.`,
        };
  }
  const missing = entry
    ? `Container app ${name} has an entry for ${registry} in configuration.registries with neither an identity nor a user name and password secret`
    : `Container app ${name} has no entry for ${registry} in configuration.registries`;
  const advice =
    `, so it cannot pull images pushed there. Give the app a managed identity with the AcrPull role on the registry ` +
    `and add { server: "${registry}", identity: "system" } (or the user-assigned identity's resource id) to configuration.registries.`;
  const result: PullAccess = { configured: false, entry, message: missing + advice };
  if (options.identity) {
    const problem = identityProblem(app, options.identity);
    if (problem) {
      result.message += ` Managed-identity pull cannot be set up yet: ${problem}.`;
    } else {
      const others = registries.filter((candidate) => !sameServer(candidate.server, registry));
      result.patch = {
        configuration: {
          registries: [...others, { server: registry, identity: options.identity }],
        },
      };
    }
  }
  return result;
}
