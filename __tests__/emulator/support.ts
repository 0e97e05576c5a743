/**
 * Shared fixtures of the emulator tests: real SDK clients pointed at a running emulator, raw ARM
 * requests for what the SDK cannot send, and a bounded wait for asynchronous state.
 */
import { readFileSync } from "node:fs";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { ContainerAppsAPIClient, type ContainerApp } from "@azure/arm-appcontainers";
import { ClientSecretCredential, type TokenCredential } from "@azure/identity";
import { Agent, fetch, type Response } from "undici";
import type { EmulatorInfo } from "../../emulator/index.ts";

export const managementScope = "https://management.azure.com/.default";

/** The emulator's CA, for clients that take a `ca` option (`tlsOptions`, undici's `requestTls`). */
export function caOf(info: EmulatorInfo): string {
  return readFileSync(info.caFile, "utf8");
}

/**
 * Trusts the emulator's CA in this whole process, for clients without a CA option of their own
 * (@actions/core's OIDC client). NODE_EXTRA_CA_CERTS only works for processes started with it.
 */
export function trustProcessWide(info: EmulatorInfo): void {
  setDefaultCACertificates([...getCACertificates("default"), caOf(info)]);
}

export function identityOptions(info: EmulatorInfo) {
  return {
    authorityHost: info.authorityHost,
    disableInstanceDiscovery: true,
    tlsOptions: { ca: caOf(info) },
  };
}

export function secretCredential(info: EmulatorInfo): ClientSecretCredential {
  return new ClientSecretCredential(
    info.tenantId,
    info.clientId,
    info.clientSecret,
    identityOptions(info),
  );
}

/** Retries fast so that the SDK's retry behaviour is exercised without its production delays. */
export function armClient(
  info: EmulatorInfo,
  credential: TokenCredential = secretCredential(info),
  retryOptions: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number } = {},
): ContainerAppsAPIClient {
  return new ContainerAppsAPIClient(credential, info.subscriptionId, {
    endpoint: info.arm,
    tlsOptions: { ca: caOf(info) },
    retryOptions: { retryDelayInMs: 50, maxRetryDelayInMs: 200, ...retryOptions },
  });
}

/**
 * Poll options for long-running operations: the service (and so the emulator) sends no
 * Retry-After on them, and the SDK's own default waits 2 s between polls.
 */
export const quickPolls = { updateIntervalInMs: 25 };

/** A PATCH with only the fields given: the SDK's type asks for `location`, the service does not. */
export function updateApp(
  client: ContainerAppsAPIClient,
  resourceGroup: string,
  app: string,
  body: Partial<ContainerApp>,
) {
  return client.containerApps.update(resourceGroup, app, body as ContainerApp, quickPolls);
}

/** A raw ARM request with a valid token (unless `token` is given), for what the SDK never sends. */
export async function armRequest(
  info: EmulatorInfo,
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null } = {},
): Promise<{ status: number; headers: Response["headers"]; body: Record<string, unknown> }> {
  const token =
    options.token === undefined
      ? (await secretCredential(info).getToken(managementScope)).token
      : options.token;
  const dispatcher = new Agent({ connect: { ca: caOf(info) } });
  try {
    const response = await fetch(`${info.arm}${path}`, {
      method,
      dispatcher,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  } finally {
    await dispatcher.close();
  }
}

/** Polls until `check` returns a value, failing after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms.`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The error a promise rejects with (fails when it resolves). */
export async function rejectionOf(
  promise: Promise<unknown>,
): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error("Expected the call to fail, but it succeeded.");
}

/** Creates a resource group through ARM, as `az group create` would. */
export async function createResourceGroup(info: EmulatorInfo, name: string): Promise<void> {
  const { status } = await armRequest(
    info,
    "PUT",
    `/subscriptions/${info.subscriptionId}/resourcegroups/${name}?api-version=2021-04-01`,
    { body: { location: info.location } },
  );
  if (status !== 201 && status !== 200) throw new Error(`Resource group ${name}: HTTP ${status}.`);
}
