/**
 * The adapter's new edges against the emulator: secret values are masked as they are read, the
 * replicas API says which replicas are ready, and the write that creates a revision carries its
 * whole template, the secrets array and the traffic in one PATCH.
 */
import { ContainerAppsAdapter } from "../../src/azure/appsPort.ts";
import { ContainerAppsGateway } from "../../src/azure/containerApps.ts";
import { systemClock } from "../../src/core/clock.ts";
import { startEmulator } from "../../emulator/index.ts";
import type { Emulator } from "../../emulator/types.ts";
import { armClient, eventually } from "../emulator/support.ts";

const RG = "rg-port";
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({
    provisioningDelayMs: 50,
    operationDelayMs: 50,
    replicaStartDelayMs: 500,
  });
});
afterAll(async () => {
  await emulator?.stop();
});

async function adapterFor(app: string, masked: string[]) {
  await emulator.seed({
    resourceGroup: RG,
    environment: "env-port",
    app,
    secrets: [{ name: "db-password", value: "old-password" }],
    revisions: [{ suffix: "v1", image: "emulator.test/app:healthy" }],
    traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
  });
  const gateway = new ContainerAppsGateway(armClient(emulator.info), RG, app, {
    clock: systemClock,
    operationPoll: { firstMs: 25, factor: 1.5, maxMs: 100 },
  });
  const adapter = new ContainerAppsAdapter(gateway, { maskSecret: (v) => masked.push(v) });
  return { adapter, app: await adapter.getApp() };
}

test("listSecrets masks every value before returning it", async () => {
  const masked: string[] = [];
  const { adapter, app } = await adapterFor("port-secrets", masked);
  expect(app.configuration.secrets).toEqual([{ name: "db-password" }]);
  expect(await adapter.listSecrets()).toEqual([{ name: "db-password", value: "old-password" }]);
  expect(masked).toEqual(["old-password"]);
});

test("one PATCH creates the revision with its template, the secrets and the traffic; replicas come up one by one", async () => {
  const { adapter, app } = await adapterFor("port-create", []);
  const name = "port-create";
  const written = await adapter.createRevision({
    revisionSuffix: "v2",
    template: {
      ...app.template,
      containers: [
        {
          ...app.template.containers[0],
          image: "emulator.test/app:healthy-v2",
          env: [{ name: "API_KEY", secretRef: "api-key" }],
        },
      ],
      scale: { minReplicas: 2, maxReplicas: 3 },
    },
    secrets: [
      { name: "db-password", value: "old-password" },
      { name: "api-key", value: "k" },
    ],
    traffic: [
      { revisionName: `${name}--v1`, weight: 100, label: "blue" },
      { revisionName: `${name}--v2`, weight: 0, label: "green" },
    ],
    multipleRevisions: false,
  });
  expect(written.template.containers[0]).toMatchObject({
    image: "emulator.test/app:healthy-v2",
    env: [{ name: "API_KEY", secretRef: "api-key" }],
  });
  expect(written.configuration.secrets).toEqual([{ name: "db-password" }, { name: "api-key" }]);
  const patches = emulator
    .armJournal()
    .filter((e) => e.method === "PATCH" && e.path.endsWith(`/containerApps/${name}`));
  expect(patches).toHaveLength(1);
  const readyCounts = new Set<number>();
  await eventually(async () => {
    const replicas = await adapter.listReplicas(`${name}--v2`);
    readyCounts.add(replicas.filter((r) => r.ready).length);
    return replicas.length === 2 && replicas.every((r) => r.ready) ? true : undefined;
  });
  expect(readyCounts.has(1)).toBe(true);
});
