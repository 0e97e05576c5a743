import {
  createDefaultHttpClient,
  createPipelineFromOptions,
  createPipelineRequest,
} from "@azure/core-rest-pipeline";
import type { AuthInputs, CloudName } from "../core/types.ts";

export interface CloudEndpoints {
  name: CloudName;
  /** Resource Manager base URL. */
  armEndpoint: string;
  /** Microsoft Entra ID authority host. */
  authorityHost: string;
  /** Token scope for Resource Manager. */
  armScope: string;
  /** Whether MSAL may look the authority up (only for the clouds it knows). */
  knownAuthority: boolean;
  /**
   * The Log Analytics query API's resource, which is also its base URL and token audience
   * (`logAnalyticsResourceId` of the cloud's metadata); undefined when a custom cloud names none.
   */
  logAnalytics?: string;
}

const CLOUDS: Record<
  Exclude<CloudName, "Custom">,
  { arm: string; authority: string; logAnalytics: string }
> = {
  AzureCloud: {
    arm: "https://management.azure.com",
    authority: "https://login.microsoftonline.com",
    logAnalytics: "https://api.loganalytics.io",
  },
  AzureUSGovernment: {
    arm: "https://management.usgovcloudapi.net",
    authority: "https://login.microsoftonline.us",
    logAnalytics: "https://api.loganalytics.us",
  },
  AzureChinaCloud: {
    arm: "https://management.chinacloudapi.cn",
    authority: "https://login.chinacloudapi.cn",
    logAnalytics: "https://api.loganalytics.azure.cn",
  },
};

/**
 * The audience Microsoft Entra ID expects on an external OIDC token in each cloud, as a federated
 * credential created there names it by default. A custom cloud gets the public one.
 */
const FEDERATION_AUDIENCES: Record<CloudName, string> = {
  AzureCloud: "api://AzureADTokenExchange",
  AzureUSGovernment: "api://AzureADTokenExchangeUSGov",
  AzureChinaCloud: "api://AzureADTokenExchangeChina",
  Custom: "api://AzureADTokenExchange",
};

/** The OIDC token audience to ask for: the one given, else the cloud's. */
export function federationAudience(auth: Pick<AuthInputs, "audience" | "cloud">): string {
  return auth.audience ?? FEDERATION_AUDIENCES[auth.cloud];
}

/** Endpoints of the chosen cloud, with `arm-endpoint` / `authority-host` taking precedence. */
export function resolveCloud(auth: AuthInputs): CloudEndpoints {
  const known = auth.cloud === "Custom" ? undefined : CLOUDS[auth.cloud];
  const armEndpoint = trimSlash(auth.armEndpoint ?? known?.arm ?? "");
  const authorityHost = trimSlash(auth.authorityHost ?? known?.authority ?? "");
  return {
    name: auth.cloud,
    armEndpoint,
    authorityHost,
    // A known cloud keeps its audience when only its endpoint is overridden (a private front).
    armScope: `${known?.arm ?? armEndpoint}/.default`,
    knownAuthority: known !== undefined && authorityHost === known.authority,
    ...(known && { logAnalytics: known.logAnalytics }),
  };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/**
 * A custom cloud (Azure Stack Hub, a private ARM front) says which token audience it accepts, and
 * where its Log Analytics query API is, in its metadata document, as `az cloud register` reads it.
 * Known clouds need no look-up.
 */
export async function withDiscoveredAudience(cloud: CloudEndpoints): Promise<CloudEndpoints> {
  if (cloud.name !== "Custom") return cloud;
  const url = `${cloud.armEndpoint}/metadata/endpoints?api-version=2022-09-01`;
  const pipeline = createPipelineFromOptions({});
  const response = await pipeline.sendRequest(
    createDefaultHttpClient(),
    createPipelineRequest({ url, method: "GET", timeout: 30_000 }),
  );
  const body = response.bodyAsText ?? "";
  let audience: string | undefined;
  let logAnalytics: string | undefined;
  try {
    const metadata = JSON.parse(body) as {
      authentication?: { audiences?: string[] };
      logAnalyticsResourceId?: string;
    };
    audience = metadata.authentication?.audiences?.[0];
    logAnalytics = metadata.logAnalyticsResourceId || undefined;
  } catch {
    audience = undefined;
  }
  if (response.status !== 200 || !audience) {
    throw new Error(
      `\`arm-endpoint\`: ${url} answered ${response.status} without a token audience; is ${cloud.armEndpoint} an Azure Resource Manager endpoint?`,
    );
  }
  return {
    ...cloud,
    armScope: `${trimSlash(audience)}/.default`,
    ...(logAnalytics && { logAnalytics: trimSlash(logAnalytics) }),
  };
}
