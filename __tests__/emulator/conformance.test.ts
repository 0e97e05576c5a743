/**
 * A blue-green rollout end to end, as a user of Azure Container Apps would run it with the real
 * SDK, once per way of signing in: create the environment and the app, add a revision at 0%,
 * split 80/20, watch real requests through the proxy land about 80/20, reach label and revision
 * URLs, and see a deactivated revision's URL fail.
 */
import * as core from "@actions/core";
import type { ContainerAppsAPIClient } from "@azure/arm-appcontainers";
import { ClientAssertionCredential, type TokenCredential } from "@azure/identity";
import { fetch, ProxyAgent } from "undici";
import { startEmulator, type Emulator } from "../../emulator/index.ts";
import {
  armClient,
  armRequest,
  caOf,
  eventually,
  identityOptions,
  managementScope,
  secretCredential,
  trustProcessWide,
  quickPolls,
  updateApp,
} from "./support.ts";

let emulator: Emulator;
let proxy: ProxyAgent;
const savedEnv = { ...process.env };

beforeAll(async () => {
  emulator = await startEmulator({
    operationDelayMs: 100,
    provisioningDelayMs: 150,
    retryAfterSeconds: 1,
  });
  proxy = new ProxyAgent({ uri: emulator.info.proxy, requestTls: { ca: caOf(emulator.info) } });
  // The GitHub runner's OIDC client (@actions/core) has no CA option of its own.
  trustProcessWide(emulator.info);
  process.env.ACTIONS_ID_TOKEN_REQUEST_URL = emulator.info.githubOidcUrl;
  process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = emulator.info.githubOidcToken;
});

afterAll(async () => {
  process.env = savedEnv;
  await proxy.close();
  await emulator.stop();
});

/** Requests an app hostname through the emulator's proxy, as HTTPS_PROXY clients do. */
async function visit(host: string): Promise<{ status: number; revision: string | null }> {
  const response = await fetch(`https://${host}/`, { dispatcher: proxy });
  const revision = response.headers.get("x-revision");
  if (response.status === 200) {
    expect(await response.json()).toMatchObject({ revision, path: "/", method: "GET" });
  } else {
    await response.text();
  }
  return { status: response.status, revision };
}

const credentials: [string, () => TokenCredential][] = [
  ["a client secret", () => secretCredential(emulator.info)],
  [
    "a GitHub OIDC client assertion",
    () =>
      new ClientAssertionCredential(
        emulator.info.tenantId,
        emulator.info.clientId,
        () => core.getIDToken("api://AzureADTokenExchange"),
        identityOptions(emulator.info),
      ),
  ],
];

describe.each(credentials)("a blue-green rollout signed in with %s", (way, credentialFor) => {
  it("splits traffic 80/20 and routes app, label and revision URLs like the service", async () => {
    const credential = credentialFor();
    const client: ContainerAppsAPIClient = armClient(emulator.info, credential);
    const rg = `rg-${Math.random().toString(36).slice(2, 8)}`;
    const app = "storefront";
    const accessToken = await credential.getToken(managementScope);
    if (!accessToken) throw new Error(`${way} gave no access token.`);
    const group = await armRequest(
      emulator.info,
      "PUT",
      `/subscriptions/${emulator.info.subscriptionId}/resourcegroups/${rg}?api-version=2021-04-01`,
      { body: { location: emulator.info.location }, token: accessToken.token },
    );
    expect(group.status).toBe(201);

    const environment = await client.managedEnvironments.createOrUpdate(
      rg,
      "env",
      {
        location: emulator.info.location,
      },
      quickPolls,
    );
    const domain = environment.defaultDomain ?? "";
    const created = await client.containerApps.createOrUpdate(
      rg,
      app,
      {
        location: emulator.info.location,
        environmentId: environment.id,
        configuration: {
          activeRevisionsMode: "Multiple",
          ingress: { external: true, targetPort: 8080 },
        },
        template: {
          revisionSuffix: "blue",
          containers: [{ name: app, image: "emulator.test/app:healthy" }],
        },
      },
      quickPolls,
    );
    expect(created.configuration?.ingress?.fqdn).toBe(`${app}.${domain}`);

    const ready = (revision: string) =>
      eventually(async () => {
        const found = await client.containerAppsRevisions.getRevision(rg, app, revision);
        return found.runningState === "Running" && found.healthState === "Healthy"
          ? found
          : undefined;
      });
    await ready(`${app}--blue`);

    await updateApp(client, rg, app, {
      template: {
        revisionSuffix: "green",
        containers: [{ name: app, image: "emulator.test/app:v2" }],
      },
      configuration: {
        ingress: {
          traffic: [
            { revisionName: `${app}--blue`, weight: 100, label: "blue" },
            { revisionName: `${app}--green`, weight: 0, label: "green" },
          ],
        },
      },
    });
    await ready(`${app}--green`);
    expect(await visit(`${app}---green.${domain}`)).toEqual({
      status: 200,
      revision: `${app}--green`,
    });

    const split = await updateApp(client, rg, app, {
      configuration: {
        ingress: {
          traffic: [
            { revisionName: `${app}--blue`, weight: 80, label: "blue" },
            { revisionName: `${app}--green`, weight: 20, label: "green" },
          ],
        },
      },
    });
    expect(split.configuration?.ingress?.traffic).toHaveLength(2);

    const served = new Map<string | null, number>();
    for (let batch = 0; batch < 30; batch += 1) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => visit(`${app}.${domain}`)),
      );
      for (const { status, revision } of answers) {
        expect(status).toBe(200);
        served.set(revision, (served.get(revision) ?? 0) + 1);
      }
    }
    const blueShare = (served.get(`${app}--blue`) ?? 0) / 300;
    expect(blueShare).toBeGreaterThanOrEqual(0.7);
    expect(blueShare).toBeLessThanOrEqual(0.9);
    expect((served.get(`${app}--blue`) ?? 0) + (served.get(`${app}--green`) ?? 0)).toBe(300);

    expect(await visit(`${app}---blue.${domain}`)).toEqual({
      status: 200,
      revision: `${app}--blue`,
    });
    expect(await visit(`${app}--green.${domain}`)).toEqual({
      status: 200,
      revision: `${app}--green`,
    });

    await updateApp(client, rg, app, {
      configuration: {
        ingress: {
          traffic: [
            { revisionName: `${app}--blue`, weight: 0, label: "blue" },
            { revisionName: `${app}--green`, weight: 100, label: "green" },
          ],
        },
      },
    });
    await client.containerAppsRevisions.deactivateRevision(rg, app, `${app}--blue`);
    expect((await visit(`${app}--blue.${domain}`)).status).toBe(404);
    expect((await visit(`${app}---blue.${domain}`)).status).toBe(404);
    expect(await visit(`${app}.${domain}`)).toEqual({ status: 200, revision: `${app}--green` });

    const journal = emulator.ingressJournal().filter((entry) => entry.host.endsWith(domain));
    expect(journal.filter((entry) => entry.route === "app")).toHaveLength(301);
    expect(journal.filter((entry) => entry.route === "label")).toHaveLength(3);
    expect(
      journal.filter((entry) => entry.route === "revision" && entry.revision === null),
    ).toEqual([expect.objectContaining({ host: `${app}--blue.${domain}`, status: 404 })]);
  });
});
