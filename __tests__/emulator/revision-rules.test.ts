/**
 * What the emulator does with a revision's settings beyond its image, through the real SDK: the
 * service's rules for secrets, secret references, variable names, CPU and memory (summed over the
 * containers, against the workload profile) and scale; `listSecrets`; the variables a revision's
 * process gets; and replicas beyond the first coming up one after another. Sources in the
 * emulator's README ("Revision settings").
 */
import type { ContainerAppsAPIClient } from "@azure/arm-appcontainers";
import { fetch, ProxyAgent } from "undici";
import { startEmulator, type Emulator } from "../../emulator/index.ts";
import { armClient, caOf, eventually, rejectionOf, updateApp } from "./support.ts";

const RG = "rg-rules";
let emulator: Emulator;
let client: ContainerAppsAPIClient;
let proxy: ProxyAgent;

beforeAll(async () => {
  emulator = await startEmulator({
    operationDelayMs: 50,
    provisioningDelayMs: 100,
    replicaStartDelayMs: 400,
  });
  client = armClient(emulator.info);
  proxy = new ProxyAgent({ uri: emulator.info.proxy, requestTls: { ca: caOf(emulator.info) } });
});
afterAll(async () => {
  await proxy.close();
  await emulator?.stop();
});

async function seed(app: string, extra: Partial<Parameters<Emulator["seed"]>[0]> = {}) {
  return emulator.seed({
    resourceGroup: RG,
    environment: "env-rules",
    app,
    secrets: [{ name: "db-password", value: "old-password" }],
    revisions: [
      {
        suffix: "v1",
        image: "emulator.test/app:healthy",
        env: [
          { name: "MODE", value: "blue" },
          { name: "DB_PASSWORD", secretRef: "db-password" },
        ],
      },
    ],
    traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
    ...extra,
  });
}

/** The template of `app` with its container changed by `change`, as the next revision's. */
async function templateWith(
  app: string,
  suffix: string,
  change: (container: Record<string, unknown>) => void,
) {
  const current = await client.containerApps.get(RG, app);
  const template = structuredClone(current.template ?? {});
  change((template.containers ?? [])[0] as Record<string, unknown>);
  return { ...template, revisionSuffix: suffix };
}

async function envOf(host: string): Promise<Record<string, string>> {
  const response = await fetch(`https://${host}/env`, { dispatcher: proxy });
  const body = (await response.json()) as { env: Record<string, string> };
  return body.env;
}

describe("secrets", () => {
  test("a GET carries no values; listSecrets does", async () => {
    const app = "rules-list";
    await seed(app, {
      secrets: [
        { name: "db-password", value: "old-password" },
        {
          name: "vault-ref",
          keyVaultUrl: "https://kv.vault.azure.net/secrets/x",
          identity: "system",
        },
      ],
    });
    const read = await client.containerApps.get(RG, app);
    expect(read.configuration?.secrets).toEqual([
      { name: "db-password" },
      {
        name: "vault-ref",
        keyVaultUrl: "https://kv.vault.azure.net/secrets/x",
        identity: "system",
      },
    ]);
    const listed = await client.containerApps.listSecrets(RG, app);
    expect(listed.value).toEqual([
      { name: "db-password", value: "old-password" },
      {
        name: "vault-ref",
        keyVaultUrl: "https://kv.vault.azure.net/secrets/x",
        identity: "system",
      },
    ]);
  });

  test("a write that sends the secrets array without a value is refused: it would empty the secret", async () => {
    const app = "rules-novalue";
    await seed(app);
    const error = await rejectionOf(
      updateApp(client, RG, app, {
        configuration: { secrets: [{ name: "db-password" }, { name: "api-key", value: "k" }] },
      }),
    );
    expect(error.code).toBe("ContainerAppSecretInvalid");
    expect(error.message).toContain("'db-password'");
    expect((await client.containerApps.listSecrets(RG, app)).value).toEqual([
      { name: "db-password", value: "old-password" },
    ]);
  });

  test("a secret name the service refuses answers ContainerAppInvalidSecretName", async () => {
    const app = "rules-badname";
    await seed(app);
    const error = await rejectionOf(
      updateApp(client, RG, app, {
        configuration: {
          secrets: [
            { name: "db-password", value: "old-password" },
            { name: "Api_Key", value: "k" },
          ],
        },
      }),
    );
    expect(error.code).toBe("ContainerAppInvalidSecretName");
  });

  test("a variable that refers to a secret the app lacks answers ContainerAppSecretRefNotFound, and nothing changes", async () => {
    const app = "rules-secretref";
    const before = await seed(app);
    const template = await templateWith(app, "v2", (container) => {
      (container.env as unknown[]).push({ name: "API_KEY", secretRef: "api-key" });
    });
    const error = await rejectionOf(updateApp(client, RG, app, { template }));
    expect(error.code).toBe("ContainerAppSecretRefNotFound");
    expect(error.message).toBe(`SecretRef 'api-key' defined for container '${app}' not found.`);
    expect(emulator.getApp(RG, app).revisions.map((r) => r.name)).toEqual(
      before.revisions.map((r) => r.name),
    );
  });
});

describe("a revision's process", () => {
  test("gets its container's variables, secret references resolved from the app's secrets", async () => {
    const app = "rules-env";
    const view = await seed(app);
    const domain = view.fqdn.slice(app.length + 1);
    const template = await templateWith(app, "v2", (container) => {
      (container.env as unknown[]).push(
        { name: "FEATURE_X", value: "on" },
        { name: "API_KEY", secretRef: "api-key" },
      );
    });
    await updateApp(client, RG, app, {
      template,
      configuration: {
        secrets: [
          { name: "db-password", value: "old-password" },
          { name: "api-key", value: "new-key" },
        ],
        ingress: {
          traffic: [
            { revisionName: `${app}--v1`, weight: 100, label: "blue" },
            { revisionName: `${app}--v2`, weight: 0, label: "green" },
          ],
        },
      },
    });
    await eventually(() =>
      emulator.getApp(RG, app).revisions.find((r) => r.name === `${app}--v2`)?.healthState ===
      "Healthy"
        ? true
        : undefined,
    );
    expect(await envOf(`${app}---green.${domain}`)).toEqual({
      MODE: "blue",
      DB_PASSWORD: "old-password",
      FEATURE_X: "on",
      API_KEY: "new-key",
    });
    expect(await envOf(`${app}---blue.${domain}`)).toEqual({
      MODE: "blue",
      DB_PASSWORD: "old-password",
    });
  });
});

describe("CPU and memory", () => {
  test("on Consumption, a total that is not one of the combinations answers ContainerAppInvalidResourceTotal", async () => {
    const app = "rules-total";
    await seed(app);
    const template = await templateWith(app, "v2", (container) => {
      container.resources = { cpu: 1, memory: "1Gi" };
    });
    const error = await rejectionOf(updateApp(client, RG, app, { template }));
    expect(error.code).toBe("ContainerAppInvalidResourceTotal");
    expect(error.message).toContain("(CPU: 1, memory: 1) is invalid");
    expect(error.message).toContain("[cpu: 0.25, memory: 0.5Gi]; [cpu: 0.5, memory: 1.0Gi]");
    expect(error.message).toContain("[cpu: 4.0, memory: 8.0Gi]");
  });

  test("the total counts every container: two of 1 vCPU / 2Gi make 2 / 4Gi, and 4.5 / 9Gi is over the most", async () => {
    const app = "rules-sum";
    await seed(app);
    const current = await client.containerApps.get(RG, app);
    const [first] = current.template?.containers ?? [];
    const ok = {
      ...current.template,
      revisionSuffix: "v2",
      containers: [
        { ...first, resources: { cpu: 1, memory: "2Gi" } },
        {
          name: "sidecar",
          image: "emulator.test/app:healthy",
          resources: { cpu: 1, memory: "2Gi" },
        },
      ],
    };
    await updateApp(client, RG, app, { template: ok });
    const tooBig = {
      ...ok,
      revisionSuffix: "v3",
      containers: [
        { ...first, resources: { cpu: 2.5, memory: "5Gi" } },
        {
          name: "sidecar",
          image: "emulator.test/app:healthy",
          resources: { cpu: 2, memory: "4Gi" },
        },
      ],
    };
    const error = await rejectionOf(updateApp(client, RG, app, { template: tooBig }));
    expect(error.code).toBe("ContainerAppInvalidResourceTotal");
    expect(error.message).toContain("(CPU: 4.5, memory: 9) is invalid");
  });

  test("on a dedicated profile, a replica may take up to a node of its size", async () => {
    const app = "rules-dedicated";
    await emulator.seed({
      resourceGroup: RG,
      environment: "env-dedicated",
      app,
      workloadProfiles: [
        { name: "Consumption", workloadProfileType: "Consumption" },
        { name: "big", workloadProfileType: "D4" },
      ],
      workloadProfileName: "big",
      revisions: [{ suffix: "v1", image: "emulator.test/app:healthy" }],
    });
    const fits = await templateWith(app, "v2", (container) => {
      container.resources = { cpu: 3, memory: "12Gi" };
    });
    await updateApp(client, RG, app, { template: fits });
    const tooBig = await templateWith(app, "v3", (container) => {
      container.resources = { cpu: 4, memory: "20Gi" };
    });
    const error = await rejectionOf(updateApp(client, RG, app, { template: tooBig }));
    expect(error.code).toBe("ContainerAppInvalidResourceTotal");
    expect(error.message).toContain("'big' (D4: 4 cores, 16Gi)");
  });

  test("memory not in Gi with at most two decimals is refused in the service's words", async () => {
    const app = "rules-memory";
    await seed(app);
    const template = await templateWith(app, "v2", (container) => {
      container.resources = { cpu: 0.5, memory: "750Mb" };
    });
    const error = await rejectionOf(updateApp(client, RG, app, { template }));
    expect(error.message).toContain(
      `Container with name '${app}' has an invalid memory resource request: '750Mb'.`,
    );
  });
});

describe("replicas", () => {
  test("with minReplicas 3, the revision reads Running once one replica is ready; the others follow one by one", async () => {
    const app = "rules-replicas";
    await seed(app);
    const template = await templateWith(app, "v2", () => undefined);
    await updateApp(client, RG, app, {
      template: { ...template, scale: { minReplicas: 3, maxReplicas: 5 } },
    });
    const name = `${app}--v2`;
    const revision = () => emulator.getApp(RG, app).revisions.find((r) => r.name === name);
    await eventually(() => (revision()?.runningState === "Running" ? true : undefined));
    const atRunning = await client.containerAppsRevisionReplicas.listReplicas(RG, app, name);
    const readyAtRunning = atRunning.value.filter((r) => r.containers?.every((c) => c.ready));
    expect(atRunning.value).toHaveLength(3);
    expect(readyAtRunning.length).toBeLessThan(3);
    await eventually(
      () => (revision()?.replicaStates.every((r) => r.state === "ready") ? true : undefined),
      10_000,
    );
    const times = (revision()?.replicaStates ?? []).map((r) => Date.parse(r.readyTime ?? ""));
    expect(times[1]).toBeGreaterThan(times[0]);
    expect(times[2]).toBeGreaterThan(times[1]);
    const listed = await client.containerAppsRevisionReplicas.listReplicas(RG, app, name);
    expect(listed.value.every((r) => r.containers?.every((c) => c.ready))).toBe(true);
    expect((await client.containerAppsRevisions.getRevision(RG, app, name)).replicas).toBe(3);
  });

  test("maxReplicas above 1000 is refused", async () => {
    const app = "rules-scale";
    await seed(app);
    const template = await templateWith(app, "v2", () => undefined);
    const error = await rejectionOf(
      updateApp(client, RG, app, { template: { ...template, scale: { maxReplicas: 1001 } } }),
    );
    expect(error.code).toBe("ContainerAppInvalidScaleSettings");
  });
});
