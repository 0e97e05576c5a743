import type { TokenCredential } from "@azure/core-auth";
import {
  AzurePipelinesCredential,
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  DefaultAzureCredential,
  ManagedIdentityCredential,
} from "@azure/identity";
import type { CloudEndpoints } from "./clouds.ts";

/** Where the credential comes from; each host turns its own configuration into one of these. */
export type CredentialSource =
  | {
      kind: "federated";
      tenantId: string;
      clientId: string;
      /** Audience of the OIDC token, for the log. */
      audience?: string;
      getAssertion: () => Promise<string>;
    }
  | { kind: "secret"; tenantId: string; clientId: string; clientSecret: string }
  | { kind: "certificate"; tenantId: string; clientId: string; certificatePem: string }
  | {
      kind: "azure-pipelines";
      tenantId: string;
      clientId: string;
      serviceConnectionId: string;
      systemAccessToken: string;
    }
  | { kind: "managed-identity"; clientId?: string }
  | { kind: "default" };

/** Builds the @azure/identity credential for a source, aimed at the cloud's authority. */
export function createCredential(source: CredentialSource, cloud: CloudEndpoints): TokenCredential {
  const options = {
    authorityHost: cloud.authorityHost,
    // MSAL only knows the public authorities; anything else must not be looked up online.
    disableInstanceDiscovery: !cloud.knownAuthority,
  };
  switch (source.kind) {
    case "federated":
      return new ClientAssertionCredential(
        source.tenantId,
        source.clientId,
        source.getAssertion,
        options,
      );
    case "secret":
      return new ClientSecretCredential(
        source.tenantId,
        source.clientId,
        source.clientSecret,
        options,
      );
    case "certificate":
      return new ClientCertificateCredential(
        source.tenantId,
        source.clientId,
        { certificate: source.certificatePem },
        options,
      );
    case "azure-pipelines":
      return new AzurePipelinesCredential(
        source.tenantId,
        source.clientId,
        source.serviceConnectionId,
        source.systemAccessToken,
        options,
      );
    case "managed-identity":
      return source.clientId
        ? new ManagedIdentityCredential({ clientId: source.clientId })
        : new ManagedIdentityCredential();
    case "default":
      return new DefaultAzureCredential({ authorityHost: cloud.authorityHost });
  }
}

/** Describes a source for the log without any secret. */
export function describeCredential(source: CredentialSource): string {
  switch (source.kind) {
    case "federated":
      return `workload identity federation (OIDC) as client ${source.clientId}${source.audience ? `, token audience ${source.audience}` : ""}`;
    case "secret":
      return `service principal ${source.clientId} with a client secret`;
    case "certificate":
      return `service principal ${source.clientId} with a certificate`;
    case "azure-pipelines":
      return `service connection ${source.serviceConnectionId} (workload identity federation) as client ${source.clientId}`;
    case "managed-identity":
      return source.clientId
        ? `managed identity ${source.clientId}`
        : "system-assigned managed identity";
    case "default":
      return "the default Azure credential chain (environment, workload identity, managed identity, Azure CLI)";
  }
}
