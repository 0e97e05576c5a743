/**
 * ARM and Microsoft.App on the emulator, driven through the real @azure/arm-appcontainers client
 * (raw requests only where the SDK cannot go): authentication, api-version, not-found codes,
 * long-running operations, PATCH semantics, revision scope, traffic and revision-name rules,
 * lock conflicts, revision modes, pruning, paging and the revision lifecycle.
 */
import type { ContainerApp, ContainerAppsAPIClient } from "@azure/arm-appcontainers";
import { ContainerAppsAPIClient as Client } from "@azure/arm-appcontainers";
import { startEmulator, type Emulator } from "../../emulator/index.ts";
import {
  armClient,
  armRequest,
  caOf,
  createResourceGroup,
  eventually,
  rejectionOf,
  secretCredential,
  quickPolls,
  updateApp,
} from "./support.ts";

const rg = "rg-arm";
const env = "env-arm";
const image = (behaviour: string) => `emulator.test/app:${behaviour}`;

let emulator: Emulator;
let client: ContainerAppsAPIClient;
let environmentId: string;
let domain: string;

beforeAll(async () => {
  emulator = await startEmulator({
    operationDelayMs: 0,
    provisioningDelayMs: 300,
    retryAfterSeconds: 1,
  });
  client = armClient(emulator.info);
  await createResourceGroup(emulator.info, rg);
  const environment = await client.managedEnvironments.createOrUpdate(
    rg,
    env,
    {
      location: emulator.info.location,
    },
    quickPolls,
  );
  environmentId = environment.id ?? "";
  domain = environment.defaultDomain ?? "";
});

afterAll(() => emulator.stop());

function appPath(app: string, suffix = ""): string {
  return (
    `/subscriptions/${emulator.info.subscriptionId}/resourceGroups/${rg}/providers/` +
    `Microsoft.App/containerApps/${app}${suffix}?api-version=2026-07-01`
  );
}

/** An app in Multiple mode with revision `<app>--v1` at 100%. */
async function createApp(
  app: string,
  options: { mode?: "Single" | "Multiple"; external?: boolean; maxInactiveRevisions?: number } = {},
) {
  return client.containerApps.createOrUpdate(
    rg,
    app,
    {
      location: emulator.info.location,
      environmentId,
      tags: { team: "web" },
      configuration: {
        activeRevisionsMode: options.mode ?? "Multiple",
        maxInactiveRevisions: options.maxInactiveRevisions,
        ingress: { external: options.external ?? true, targetPort: 8080 },
      },
      template: {
        revisionSuffix: "v1",
        containers: [{ name: app, image: image("healthy") }],
      },
    },
    quickPolls,
  );
}

function patch(app: string, body: Partial<ContainerApp>) {
  return updateApp(client, rg, app, body);
}

async function revisionNames(app: string): Promise<string[]> {
  const names: string[] = [];
  for await (const revision of client.containerAppsRevisions.listRevisions(rg, app)) {
    names.push(revision.name ?? "");
  }
  return names;
}

async function readyRevision(app: string, revision: string) {
  return eventually(async () => {
    const found = await client.containerAppsRevisions.getRevision(rg, app, revision);
    return found.runningState === "Running" ? found : undefined;
  });
}

describe("authentication and api-version", () => {
  it("answers 401 InvalidAuthenticationToken with a challenge when the bearer token is missing or forged", async () => {
    const path = appPath("anything");
    const missing = await armRequest(emulator.info, "GET", path, { token: null });
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({
      error: { code: "InvalidAuthenticationToken", message: expect.any(String) },
    });
    expect(missing.headers.get("www-authenticate")).toContain(
      `authorization_uri="${emulator.info.authorityHost}/${emulator.info.tenantId}"`,
    );

    const forged = await armRequest(emulator.info, "GET", path, { token: "a.b.c" });
    expect(forged.status).toBe(401);
    expect(forged.body.error).toMatchObject({ code: "InvalidAuthenticationToken" });
  });

  it("serves the cloud metadata document without a token, naming the audiences it accepts", async () => {
    const metadata = await armRequest(
      emulator.info,
      "GET",
      "/metadata/endpoints?api-version=2022-09-01",
      {
        token: null,
      },
    );
    expect(metadata.status).toBe(200);
    expect(metadata.body).toMatchObject({
      resourceManager: `${emulator.info.arm}/`,
      authentication: {
        loginEndpoint: `${emulator.info.authorityHost}/`,
        audiences: expect.arrayContaining(["https://management.azure.com/"]),
      },
    });
    const audience = (metadata.body.authentication as { audiences: string[] }).audiences[0];
    const token = await secretCredential(emulator.info).getToken(`${audience}.default`);
    const answer = await armRequest(emulator.info, "GET", appPath("anything"), {
      token: token.token,
    });
    expect(answer.body.error).toMatchObject({ code: "ResourceNotFound" });
  });

  it("refuses a token issued for another resource", async () => {
    const vault = await secretCredential(emulator.info).getToken(
      "https://vault.azure.net/.default",
    );
    const answer = await armRequest(emulator.info, "GET", appPath("anything"), {
      token: vault.token,
    });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toMatchObject({ code: "InvalidAuthenticationTokenAudience" });
  });

  it("requires api-version 2026-07-01 for Microsoft.App", async () => {
    const path = appPath("anything").replace("?api-version=2026-07-01", "");
    const missing = await armRequest(emulator.info, "GET", path);
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: "MissingApiVersionParameter" });

    const older = new Client(secretCredential(emulator.info), emulator.info.subscriptionId, {
      endpoint: emulator.info.arm,
      apiVersion: "2024-03-01",
      tlsOptions: { ca: caOf(emulator.info) },
    });
    const error = await rejectionOf(older.containerApps.get(rg, "anything"));
    expect(error).toMatchObject({ statusCode: 400, code: "InvalidApiVersionParameter" });
  });
});

describe("not found", () => {
  it("uses ResourceGroupNotFound, ResourceNotFound and SubscriptionNotFound as ARM does", async () => {
    expect(await rejectionOf(client.containerApps.get("rg-missing", "web"))).toMatchObject({
      statusCode: 404,
      code: "ResourceGroupNotFound",
    });
    expect(await rejectionOf(client.containerApps.get(rg, "missing"))).toMatchObject({
      statusCode: 404,
      code: "ResourceNotFound",
    });
    const other = new Client(
      secretCredential(emulator.info),
      "00000000-0000-0000-0000-000000000000",
      {
        endpoint: emulator.info.arm,
        tlsOptions: { ca: caOf(emulator.info) },
      },
    );
    expect(await rejectionOf(other.containerApps.get(rg, "web"))).toMatchObject({
      statusCode: 404,
      code: "SubscriptionNotFound",
    });
  });
});

describe("managed environments and container apps", () => {
  it("gives the environment a default domain and a static IP", async () => {
    const environment = await client.managedEnvironments.get(rg, env);
    expect(environment.provisioningState).toBe("Succeeded");
    expect(domain).toMatch(/^[a-z]+-[a-z]+-[0-9a-f]{8}\.westeurope\.azurecontainerapps\.test$/);
    expect(environment.staticIp).toBe("127.0.0.1");
  });

  it("creates an app whose ingress FQDN, revisions and settings read back as the service reports them", async () => {
    const created = await createApp("shop");
    expect(created).toMatchObject({
      provisioningState: "Succeeded",
      latestRevisionName: "shop--v1",
      tags: { team: "web" },
      configuration: {
        activeRevisionsMode: "Multiple",
        maxInactiveRevisions: 100,
        ingress: {
          fqdn: `shop.${domain}`,
          traffic: [{ latestRevision: true, weight: 100 }],
        },
      },
    });
    const internal = await createApp("backoffice", { external: false });
    expect(internal.configuration?.ingress?.fqdn).toBe(`backoffice.internal.${domain}`);

    await readyRevision("shop", "shop--v1");
    const listed = [];
    for await (const app of client.containerApps.listByResourceGroup(rg)) listed.push(app.name);
    expect(listed).toEqual(expect.arrayContaining(["shop", "backoffice"]));
    expect((await client.containerApps.get(rg, "shop")).latestReadyRevisionName).toBe("shop--v1");
  });

  it("rejects invalid app names with ContainerAppInvalidName", async () => {
    for (const name of ["Payments", "pay--x", "pay-", "a".repeat(33)]) {
      const error = await rejectionOf(createApp(name));
      expect(error).toMatchObject({ statusCode: 400, code: "ContainerAppInvalidName" });
    }
  });
});

describe("PATCH and revision scope", () => {
  beforeAll(() => createApp("cart"));

  it("replaces tags as a whole and creates no revision for tags-only, traffic-only or secrets-only changes", async () => {
    await patch("cart", { tags: { owner: "payments" } });
    await patch("cart", {
      configuration: {
        ingress: { traffic: [{ revisionName: "cart--v1", weight: 100, label: "blue" }] },
      },
    });
    await patch("cart", {
      configuration: { secrets: [{ name: "db", value: "s3cret" }] },
    });
    const app = await client.containerApps.get(rg, "cart");
    expect(app.tags).toEqual({ owner: "payments" });
    expect(app.configuration?.ingress?.traffic).toEqual([
      { revisionName: "cart--v1", weight: 100, label: "blue" },
    ]);
    expect(app.configuration?.ingress?.targetPort).toBe(8080);
    expect(app.configuration?.secrets).toEqual([{ name: "db" }]);
    expect(await revisionNames("cart")).toEqual(["cart--v1"]);
  });

  it("creates a revision for each template change: image, revisionSuffix, scale", async () => {
    await patch("cart", {
      template: { containers: [{ name: "cart", image: image("v2") }] },
    });
    const afterImage = await revisionNames("cart");
    expect(afterImage).toHaveLength(2);
    expect(afterImage[1]).toMatch(/^cart--[a-z0-9]{7}$/);

    await patch("cart", {
      template: { revisionSuffix: "v3", containers: [{ name: "cart", image: image("v2") }] },
    });
    await patch("cart", {
      template: { containers: [{ name: "cart", image: image("v2") }], scale: { maxReplicas: 3 } },
    });
    const names = await revisionNames("cart");
    expect(names).toHaveLength(4);
    expect(names[2]).toBe("cart--v3");
    const app = await client.containerApps.get(rg, "cart");
    expect(app.latestRevisionName).toBe(names[3]);
    expect(app.template?.scale?.maxReplicas).toBe(3);
    expect(app.configuration?.ingress?.traffic).toEqual([
      { revisionName: "cart--v1", weight: 100, label: "blue" },
    ]);
  });

  it("fails the operation when the revision suffix is already used, and leaves the app as it was", async () => {
    const error = await rejectionOf(
      patch("cart", {
        template: { revisionSuffix: "v3", containers: [{ name: "cart", image: image("v9") }] },
      }),
    );
    expect(error.message).toContain("ContainerAppOperationError");
    expect(error.message).toContain("revision with suffix v3 already exists");
    const app = await client.containerApps.get(rg, "cart");
    expect(app.provisioningState).toBe("Failed");
    expect(app.template?.containers?.[0].image).toBe(image("v2"));
  });

  it("rejects revision suffixes that break the naming rules with ContainerAppInvalidRevisionName", async () => {
    for (const suffix of ["V4", "v4-", "v--4", "4v", `v${"x".repeat(48)}`]) {
      const error = await rejectionOf(
        patch("cart", {
          template: { revisionSuffix: suffix, containers: [{ name: "cart", image: image("v4") }] },
        }),
      );
      expect(error).toMatchObject({ statusCode: 400, code: "ContainerAppInvalidRevisionName" });
    }
    expect(await revisionNames("cart")).toHaveLength(4);
  });
});

describe("traffic rules", () => {
  beforeAll(() =>
    emulator.seed({
      resourceGroup: rg,
      environment: env,
      app: "search",
      revisions: [
        { suffix: "a", image: image("healthy") },
        { suffix: "b", image: image("healthy") },
      ],
      traffic: [{ revisionName: "search--a", weight: 100 }],
    }),
  );

  const patchTraffic = (traffic: object[]) =>
    patch("search", { configuration: { ingress: { traffic } } });

  it.each([
    [
      "weights that do not total 100",
      [{ revisionName: "search--a", weight: 90 }],
      "ContainerAppInvalidTrafficWeight",
    ],
    [
      "a weight that is not an integer",
      [
        { revisionName: "search--a", weight: 99.5 },
        { revisionName: "search--b", weight: 0.5 },
      ],
      "ContainerAppInvalidTrafficWeight",
    ],
    [
      "a label used twice",
      [
        { revisionName: "search--a", weight: 50, label: "x" },
        { revisionName: "search--b", weight: 50, label: "x" },
      ],
      "ContainerAppInvalidTrafficLabel",
    ],
    [
      "a revision that does not exist",
      [{ revisionName: "search--zzz", weight: 100 }],
      "ContainerAppInvalidTrafficRevision",
    ],
    [
      "a malformed revision name",
      [{ revisionName: "Search--A!", weight: 100 }],
      "ContainerAppInvalidRevisionName",
    ],
    [
      "an entry naming a revision and latestRevision",
      [{ revisionName: "search--a", latestRevision: true, weight: 100 }],
      "ContainerAppInvalidTrafficRevision",
    ],
  ])("rejects %s", async (_case, traffic, code) => {
    const error = await rejectionOf(patchTraffic(traffic));
    expect(error).toMatchObject({ statusCode: 400, code });
    expect(emulator.getApp(rg, "search").traffic).toEqual([
      { revisionName: "search--a", weight: 100 },
    ]);
  });

  it("resolves latestRevision entries to the latest revision", async () => {
    await patchTraffic([
      { revisionName: "search--a", weight: 70, label: "stable" },
      { latestRevision: true, weight: 30 },
    ]);
    const weights = Object.fromEntries(
      emulator.getApp(rg, "search").revisions.map((r) => [r.name, r.trafficWeight]),
    );
    expect(weights).toEqual({ "search--a": 70, "search--b": 30 });
  });

  it("lets a client weight an inactive revision and deactivate a revision that has traffic, as the service does", async () => {
    await client.containerAppsRevisions.deactivateRevision(rg, "search", "search--b");
    await patchTraffic([
      { revisionName: "search--a", weight: 50 },
      { revisionName: "search--b", weight: 50 },
    ]);
    await client.containerAppsRevisions.deactivateRevision(rg, "search", "search--a");
    const view = emulator.getApp(rg, "search");
    expect(view.revisions.map((r) => [r.active, r.trafficWeight])).toEqual([
      [false, 50],
      [false, 50],
    ]);
  });

  it("rejects weights and labels while the app is in Single mode, where the latest takes all", async () => {
    await emulator.seed({
      resourceGroup: rg,
      environment: env,
      app: "single",
      activeRevisionsMode: "Single",
      revisions: [{ suffix: "a", image: image("healthy") }],
    });
    for (const traffic of [
      [{ latestRevision: true, weight: 100, label: "prod" }],
      [
        { revisionName: "single--a", weight: 50 },
        { latestRevision: true, weight: 50 },
      ],
    ]) {
      const error = await rejectionOf(patch("single", { configuration: { ingress: { traffic } } }));
      expect(error).toMatchObject({
        statusCode: 400,
        code: "ContainerAppInvalidTrafficRevisionMode",
      });
    }
    await patch("single", {
      configuration: { ingress: { traffic: [{ revisionName: "single--a", weight: 100 }] } },
    });
    expect(emulator.getApp(rg, "single").traffic).toEqual([{ latestRevision: true, weight: 100 }]);
  });
});

describe("revision modes and pruning", () => {
  it("in Single mode gives the new revision all traffic and retires the others once it is ready", async () => {
    await createApp("blog", { mode: "Single" });
    await readyRevision("blog", "blog--v1");
    await patch("blog", {
      template: { revisionSuffix: "v2", containers: [{ name: "blog", image: image("v2") }] },
    });
    expect(emulator.getApp(rg, "blog").revisions.map((r) => [r.name, r.trafficWeight])).toEqual([
      ["blog--v1", 0],
      ["blog--v2", 100],
    ]);
    const retired = await eventually(() => {
      const [first] = emulator.getApp(rg, "blog").revisions;
      return first.active ? undefined : first;
    });
    expect(retired).toMatchObject({ runningState: "Stopped", replicas: 0 });
    expect(emulator.getApp(rg, "blog").revisions[1]).toMatchObject({
      active: true,
      runningState: "Running",
    });
  });

  it("prunes the oldest inactive revisions beyond maxInactiveRevisions", async () => {
    await createApp("news", { mode: "Single", maxInactiveRevisions: 1 });
    for (const suffix of ["v2", "v3"]) {
      await patch("news", {
        template: { revisionSuffix: suffix, containers: [{ name: "news", image: image(suffix) }] },
      });
      await readyRevision("news", `news--${suffix}`);
    }
    await eventually(async () => {
      const names = await revisionNames("news");
      return names.length === 2 ? names : undefined;
    });
    expect(await revisionNames("news")).toEqual(["news--v2", "news--v3"]);
  });

  it("pages the revision list through nextLink", async () => {
    await emulator.seed({
      resourceGroup: rg,
      environment: env,
      app: "paged",
      revisions: ["a", "b", "c", "d", "e", "f", "g"].map((suffix) => ({
        suffix,
        image: image("healthy"),
        active: suffix === "g",
      })),
    });
    emulator.clearJournal();
    const pages: number[] = [];
    for await (const page of client.containerAppsRevisions.listRevisions(rg, "paged").byPage()) {
      pages.push(page.length);
    }
    expect(pages).toEqual([5, 2]);
    const calls = emulator.armJournal().filter((entry) => entry.path.endsWith("/paged/revisions"));
    expect(calls).toHaveLength(2);
  });
});

describe("revision lifecycle", () => {
  beforeAll(() =>
    emulator.seed({
      resourceGroup: rg,
      environment: env,
      app: "life",
      revisions: [{ suffix: "v1", image: image("healthy") }],
    }),
  );

  it("provisions a new revision, then runs it with one replica; deactivate stops it, activate starts it", async () => {
    const patch = await armRequest(emulator.info, "PATCH", appPath("life"), {
      body: {
        properties: {
          template: { revisionSuffix: "v2", containers: [{ name: "life", image: image("v2") }] },
        },
      },
    });
    expect(patch.status).toBe(202);
    const provisioning = await client.containerAppsRevisions.getRevision(rg, "life", "life--v2");
    expect(provisioning).toMatchObject({
      active: true,
      provisioningState: "Provisioning",
      healthState: "None",
    });
    expect(["Processing", "Activating"]).toContain(provisioning.runningState);

    const ready = await readyRevision("life", "life--v2");
    expect(ready).toMatchObject({
      provisioningState: "Provisioned",
      healthState: "Healthy",
      replicas: 1,
    });
    const replicas = await client.containerAppsRevisionReplicas.listReplicas(
      rg,
      "life",
      "life--v2",
    );
    expect(replicas.value).toHaveLength(1);
    expect(replicas.value?.[0].containers?.[0]).toMatchObject({ name: "life", ready: true });

    await client.containerAppsRevisions.deactivateRevision(rg, "life", "life--v2");
    const stopped = await client.containerAppsRevisions.getRevision(rg, "life", "life--v2");
    expect(stopped).toMatchObject({ active: false, runningState: "Stopped", replicas: 0 });
    expect(
      (await client.containerAppsRevisionReplicas.listReplicas(rg, "life", "life--v2")).value,
    ).toEqual([]);

    await client.containerAppsRevisions.activateRevision(rg, "life", "life--v2");
    expect(await readyRevision("life", "life--v2")).toMatchObject({ active: true, replicas: 1 });
    await client.containerAppsRevisions.restartRevision(rg, "life", "life--v2");
    expect(await readyRevision("life", "life--v2")).toMatchObject({ healthState: "Healthy" });
  });
});

describe("long-running operations and lock conflicts", () => {
  let slow: Emulator;
  let slowClient: ContainerAppsAPIClient;

  beforeAll(async () => {
    // Operations that outlast the test, so "in progress" is a state rather than a race.
    slow = await startEmulator({ operationDelayMs: 60_000 });
    slowClient = armClient(slow.info);
    for (const app of ["busy", "locked"]) {
      await slow.seed({
        resourceGroup: "rg-slow",
        environment: "env-slow",
        app,
        revisions: [{ suffix: "v1", image: image("healthy") }],
      });
    }
  });

  afterAll(() => slow.stop());

  it("answers writes with 201/202 and an operation whose status and result read InProgress meanwhile", async () => {
    const path = (app: string) =>
      `/subscriptions/${slow.info.subscriptionId}/resourceGroups/rg-slow/providers/Microsoft.App/containerApps/${app}?api-version=2026-07-01`;
    const environmentId = `/subscriptions/${slow.info.subscriptionId}/resourceGroups/rg-slow/providers/Microsoft.App/managedEnvironments/env-slow`;
    const put = await armRequest(slow.info, "PUT", path("fresh"), {
      body: {
        location: slow.info.location,
        properties: {
          environmentId,
          template: { containers: [{ name: "fresh", image: image("healthy") }] },
        },
      },
    });
    expect(put.status).toBe(201);
    expect(put.body.properties).toMatchObject({ provisioningState: "InProgress" });
    const statusUrl = new URL(put.headers.get("azure-asyncoperation") ?? "");
    const status = await armRequest(slow.info, "GET", statusUrl.pathname + statusUrl.search);
    expect(status.body).toMatchObject({ status: "InProgress" });

    const patch = await armRequest(slow.info, "PATCH", path("busy"), {
      body: { tags: { a: "b" } },
    });
    expect(patch.status).toBe(202);
    expect(patch.headers.get("azure-asyncoperation")).toContain("/containerappOperationStatuses/");
    const resultUrl = new URL(patch.headers.get("location") ?? "");
    expect(resultUrl.pathname).toContain("/containerappOperationResults/");
    const result = await armRequest(slow.info, "GET", resultUrl.pathname + resultUrl.search);
    expect(result.status).toBe(202);
  });

  it("answers 409 ContainerAppLockConflict to writes while an operation on the app runs", async () => {
    const update = (tags: Record<string, string>) =>
      updateApp(slowClient, "rg-slow", "locked", { tags });
    const running = update({ b: "c" });
    await running.submitted();
    const conflict = { statusCode: 409, code: "ContainerAppLockConflict" };
    expect(await rejectionOf(update({ c: "d" }))).toMatchObject(conflict);
    expect(
      await rejectionOf(
        slowClient.containerAppsRevisions.restartRevision("rg-slow", "locked", "locked--v1"),
      ),
    ).toMatchObject(conflict);
    expect(
      await rejectionOf(
        slow.setTraffic("rg-slow", "locked", [{ latestRevision: true, weight: 100 }]),
      ),
    ).toMatchObject({ status: 409, code: "ContainerAppLockConflict" });
    expect((await slowClient.containerApps.get("rg-slow", "locked")).provisioningState).toBe(
      "InProgress",
    );
  });
});

describe("sovereign and custom scopes", () => {
  it("accepts tokens for any management audience, as clients of other clouds request them", async () => {
    const credential = secretCredential(emulator.info);
    const gov = new Client(credential, emulator.info.subscriptionId, {
      endpoint: emulator.info.arm,
      credentials: { scopes: ["https://management.usgovcloudapi.net/.default"] },
      tlsOptions: { ca: caOf(emulator.info) },
    });
    expect((await gov.managedEnvironments.get(rg, env)).name).toBe(env);
  });
});
