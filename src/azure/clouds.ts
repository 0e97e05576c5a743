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
}

const CLOUDS: Record<Exclude<CloudName, "Custom">, { arm: string; authority: string }> = {
  AzureCloud: {
    arm: "https://management.azure.com",
    authority: "https://login.microsoftonline.com",
  },
  AzureUSGovernment: {
    arm: "https://management.usgovcloudapi.net",
    authority: "https://login.microsoftonline.us",
  },
  AzureChinaCloud: {
    arm: "https://management.chinacloudapi.cn",
    authority: "https://login.chinacloudapi.cn",
  },
};

/** Endpoints of the chosen cloud, with `arm-endpoint` / `authority-host` taking precedence. */
export function resolveCloud(auth: AuthInputs): CloudEndpoints {
  const known = auth.cloud === "Custom" ? undefined : CLOUDS[auth.cloud];
  const armEndpoint = trimSlash(auth.armEndpoint ?? known?.arm ?? "");
  const authorityHost = trimSlash(auth.authorityHost ?? known?.authority ?? "");
  return {
    name: auth.cloud,
    armEndpoint,
    authorityHost,
    armScope: `${armEndpoint}/.default`,
    knownAuthority: known !== undefined && authorityHost === known.authority,
  };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
