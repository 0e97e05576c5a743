/**
 * Conformance of the revision lifecycle to what the real service answered in recorded traffic:
 * each test names the recording (Azure CLI test recordings of Microsoft.App, in azure-cli and
 * azure-cli-extensions) or the issue thread it reproduces. Behaviours no recording shows are
 * tested too, and say "unconfirmed" in their names: they are the emulator's own choices.
 */
import type { ContainerAppsAPIClient, Revision } from "@azure/arm-appcontainers";
import { fetch, ProxyAgent } from "undici";
import { startEmulator, type Emulator } from "../../emulator/index.ts";
import { armClient, armRequest, caOf, eventually, rejectionOf, updateApp } from "./support.ts";

const rg = "rg-recorded";
const image = (behaviour: string) => `emulator.test/app:${behaviour}`;

let emulator: Emulator;
let client: ContainerAppsAPIClient;
let proxy: ProxyAgent;

beforeAll(async () => {
  emulator = await startEmulator({
    operationDelayMs: 50,
    provisioningDelayMs: 600,
    retireDelayMs: 800,
    operationExpiryMs: 900,
  });
  client = armClient(emulator.info);
  proxy = new ProxyAgent({ uri: emulator.info.proxy, requestTls: { ca: caOf(emulator.info) } });
});

afterAll(async () => {
  await proxy.close();
  await emulator.stop();
});

/** An app serving `<app>--v1` at 100% under label blue, in Multiple mode unless asked. */
function seed(app: string, mode: "Single" | "Multiple" = "Multiple") {
  return emulator.seed({
    resourceGroup: rg,
    environment: "env-recorded",
    app,
    activeRevisionsMode: mode,
    containerName: "acamounttest",
    revisions: [{ suffix: "v1", image: image("healthy") }],
    traffic:
      mode === "Single" ? undefined : [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
  });
}

/** A write that creates `<app>--<suffix>`; in Multiple mode pinned at 0% under label green. */
function newRevision(app: string, suffix: string, behaviour: string, mode = "Multiple") {
  return updateApp(client, rg, app, {
    template: {
      revisionSuffix: suffix,
      containers: [{ name: "acamounttest", image: image(behaviour) }],
    },
    configuration:
      mode === "Single"
        ? undefined
        : {
            ingress: {
              traffic: [
                { revisionName: `${app}--v1`, weight: 100, label: "blue" },
                { revisionName: `${app}--${suffix}`, weight: 0, label: "green" },
              ],
            },
          },
  });
}

const revisionOf = (app: string, name: string) =>
  client.containerAppsRevisions.getRevision(rg, app, `${app}--${name}`);

function stateOf(revision: Revision) {
  return [
    revision.provisioningState,
    revision.runningState,
    revision.healthState,
    revision.replicas,
  ];
}

/** The revision's state and its replicas, read so that both belong to the same moment. */
async function snapshot(app: string, name: string) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const before = await revisionOf(app, name);
    const replicas = await client.containerAppsRevisionReplicas.listReplicas(
      rg,
      app,
      `${app}--${name}`,
    );
    const after = await revisionOf(app, name);
    if (JSON.stringify(stateOf(before)) === JSON.stringify(stateOf(after))) {
      return {
        state: stateOf(after),
        replicas: (replicas.value ?? []).map((replica) => replica.containers?.[0].ready),
      };
    }
  }
  throw new Error(`Revision ${app}--${name} never read the same twice in a row.`);
}

async function servedBy(host: string): Promise<string | null> {
  const response = await fetch(`https://${host}/`, { dispatcher: proxy });
  await response.text();
  return response.headers.get("x-revision");
}

describe("a container that exits at start", () => {
  it("does not fail the write; the revision reads Failed / Failed / Unhealthy with one crashing replica (test_container_app_mount_nfsazurefile_e2e)", async () => {
    await seed("mount");
    const written = await newRevision("mount", "v2", "crash");
    expect(written.provisioningState).toBe("Succeeded");

    const crashed = await eventually(async () => {
      const revision = await revisionOf("mount", "v2");
      return revision.runningState === "Failed" ? revision : undefined;
    });
    expect(crashed).toMatchObject({
      provisioningState: "Failed",
      runningState: "Failed",
      healthState: "Unhealthy",
      provisioningError: "Container crashing: acamounttest",
      active: true,
      replicas: 1,
    });
    // The SDK's Revision model drops runningStateDetails; the wire carries it.
    const raw = await armRequest(
      emulator.info,
      "GET",
      `/subscriptions/${emulator.info.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.App/containerApps/mount/revisions/mount--v2?api-version=2026-07-01`,
    );
    expect(raw.body.properties).toMatchObject({
      runningStateDetails: "1/1 Container crashing: acamounttest",
    });
    const replicas = await client.containerAppsRevisionReplicas.listReplicas(
      rg,
      "mount",
      "mount--v2",
    );
    expect(replicas.value).toHaveLength(1);
    expect(replicas.value?.[0].containers?.[0].ready).toBe(false);

    const app = await client.containerApps.get(rg, "mount");
    expect(app).toMatchObject({
      provisioningState: "Succeeded",
      latestRevisionName: "mount--v2",
      latestReadyRevisionName: "mount--v1",
    });
  });

  it("that exits later leaves provisioningState alone and reads Failed / Unhealthy, crashing (unconfirmed: no recording shows a later crash)", async () => {
    await seed("later");
    await emulator.setRevisionBehaviour(rg, "later", "later--v1", "crash");
    const crashed = await eventually(async () => {
      const revision = await revisionOf("later", "v1");
      return revision.runningState === "Failed" ? revision : undefined;
    });
    expect(crashed).toMatchObject({
      provisioningState: "Provisioned",
      healthState: "Unhealthy",
      active: true,
      replicas: 1,
    });
    expect(emulator.getApp(rg, "later").revisions[0].runningStateDetails).toBe(
      "1/1 Container crashing: acamounttest",
    );
  });
});

describe("an image that cannot be pulled (fail-provisioning)", () => {
  it("fails the write with ContainerAppOperationError naming the container, as the service words it (microsoft/azure-container-apps#1061, Azure-Samples/get-started-with-ai-chat#64)", async () => {
    await seed("pull");
    emulator.injectRevisionFault({ app: "pull", mode: "fail-provisioning" });
    const error = await rejectionOf(newRevision("pull", "v9", "v9"));
    expect(error.message).toContain(
      "Failed to provision revision for container app 'pull'. Error details: The following " +
        "field(s) are either invalid or missing. Field 'template.containers.acamounttest.image' " +
        `is invalid with details: 'Invalid value: "${image("v9")}": GET https:: MANIFEST_UNKNOWN: ` +
        `manifest tagged by "v9" is not found; map[Tag:v9]';..`,
    );
    expect(error.message).toContain("ContainerAppOperationError");
    expect((await client.containerApps.get(rg, "pull")).provisioningState).toBe("Failed");
  });
});

describe("the lifecycle of a new revision", () => {
  it("is Provisioning / Processing / None without a replica, then Provisioned / Activating / None with a replica not ready, then Provisioned / Running / Healthy (test_container_app_mount_azurefile_e2e, test_containerapp_ingress_traffic_e2e)", async () => {
    // The azure profile at 1/10: Provisioning outlasts the write's operation (at least 0.6 s),
    // Activating lasts at least 0.2 s, so every stage is seen however loaded the machine is.
    const azure = await startEmulator({ timing: "azure", timeScale: 0.1 });
    try {
      const azureClient = armClient(azure.info);
      await azure.seed({
        resourceGroup: rg,
        environment: "env-recorded",
        app: "life",
        revisions: [{ suffix: "v1", image: image("healthy") }],
        traffic: [{ revisionName: "life--v1", weight: 100 }],
      });
      const write = updateApp(azureClient, rg, "life", {
        template: { revisionSuffix: "v2", containers: [{ name: "life", image: image("v2") }] },
      });
      await write.submitted();
      const seen: { state: unknown[]; replicas: unknown[] }[] = [];
      let writeDone = false;
      let readyAtWriteEnd: boolean | undefined;
      void write.then(async () => {
        writeDone = true;
        const revision = await azureClient.containerAppsRevisions.getRevision(
          rg,
          "life",
          "life--v2",
        );
        readyAtWriteEnd = revision.runningState === "Running";
      });
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const before = await azureClient.containerAppsRevisions.getRevision(rg, "life", "life--v2");
        const replicas = await azureClient.containerAppsRevisionReplicas.listReplicas(
          rg,
          "life",
          "life--v2",
        );
        const after = await azureClient.containerAppsRevisions.getRevision(rg, "life", "life--v2");
        if (JSON.stringify(stateOf(before)) === JSON.stringify(stateOf(after))) {
          const entry = {
            state: stateOf(after),
            replicas: (replicas.value ?? []).map((replica) => replica.containers?.[0].ready),
          };
          if (JSON.stringify(seen.at(-1)) !== JSON.stringify(entry)) seen.push(entry);
          if (after.runningState === "Running" && writeDone) break;
        }
      }
      expect(seen).toEqual([
        { state: ["Provisioning", "Processing", "None", 0], replicas: [] },
        { state: ["Provisioned", "Activating", "None", 1], replicas: [false] },
        { state: ["Provisioned", "Running", "Healthy", 1], replicas: [true] },
      ]);
      // The write's operation ends before the revision is ready (test_containerapp_ingress_traffic_e2e).
      await eventually(() => readyAtWriteEnd);
      expect(readyAtWriteEnd).toBe(false);
    } finally {
      await azure.stop();
    }
  });
});

describe("Single revision mode", () => {
  it("keeps the previous revision active (Running, then Deprovisioning) until the new one is ready plus the retire delay, then inactive with lastActiveTime (test_containerapp_scale_revision_copy)", async () => {
    const view = await seed("single", "Single");
    const host = view.fqdn;
    await newRevision("single", "v2", "healthy", "Single");
    const starting = await snapshot("single", "v1");
    expect(starting.state).toEqual(["Provisioned", "Running", "Healthy", 1]);
    expect((await revisionOf("single", "v1")).active).toBe(true);
    // Unconfirmed: latestRevision traffic follows the latest revision that is ready.
    expect(await servedBy(host)).toBe("single--v1");

    const deprovisioning = await eventually(async () => {
      const revision = await revisionOf("single", "v1");
      return revision.runningState === "Deprovisioning" ? revision : undefined;
    });
    expect(deprovisioning).toMatchObject({ active: true, replicas: 1, trafficWeight: 0 });
    expect(await revisionOf("single", "v2")).toMatchObject({
      runningState: "Running",
      trafficWeight: 100,
    });
    expect(await servedBy(host)).toBe("single--v2");

    const retired = await eventually(async () => {
      const revision = await revisionOf("single", "v1");
      return revision.active ? undefined : revision;
    });
    expect(retired).toMatchObject({
      runningState: "Stopped",
      replicas: 0,
      healthState: "Healthy",
    });
    expect(retired.lastActiveTime).toBeInstanceOf(Date);
  });

  it("keeps the previous revision active when the new one fails (test_container_app_mount_nfsazurefile_e2e)", async () => {
    await seed("single-crash", "Single");
    await newRevision("single-crash", "v2", "crash", "Single");
    await eventually(async () => {
      const revision = await revisionOf("single-crash", "v2");
      return revision.runningState === "Failed" ? revision : undefined;
    });
    // Well past the activation time and the retire delay (0.6 s + 0.8 s).
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await revisionOf("single-crash", "v1")).toMatchObject({
      active: true,
      runningState: "Running",
      healthState: "Healthy",
      replicas: 1,
    });
    expect(await servedBy(emulator.getApp(rg, "single-crash").fqdn)).toBe("single-crash--v1");
  });
});

describe("inactive revisions", () => {
  it("keep their last health; only they carry lastActiveTime (every recorded active revision has none, e.g. test_containerapp_scale_revision_copy; the inactive side is reported, not in the recordings read)", async () => {
    await seed("idle");
    const path = `/subscriptions/${emulator.info.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.App/containerApps/idle/revisions/idle--v1?api-version=2026-07-01`;
    const active = await armRequest(emulator.info, "GET", path);
    expect(active.body.properties).not.toHaveProperty("lastActiveTime");

    await updateApp(client, rg, "idle", {
      configuration: { ingress: { traffic: [{ latestRevision: true, weight: 100 }] } },
    });
    await client.containerAppsRevisions.deactivateRevision(rg, "idle", "idle--v1");
    const inactive = await armRequest(emulator.info, "GET", path);
    expect(inactive.body.properties).toMatchObject({
      active: false,
      runningState: "Stopped",
      healthState: "Healthy",
      replicas: 0,
      lastActiveTime: expect.any(String),
    });

    await client.containerAppsRevisions.activateRevision(rg, "idle", "idle--v1");
    const again = await armRequest(emulator.info, "GET", path);
    expect(again.body.properties).not.toHaveProperty("lastActiveTime");
  });
});

describe("a revision that never gets ready (operation-expired)", () => {
  it("makes its write fail late with ContainerAppOperationError 'Operation expired.' (terraform-provider-azurerm#27221, Azure/terraform-azure-container-apps#53)", async () => {
    await seed("expire");
    emulator.injectRevisionFault({ app: "expire", mode: "operation-expired" });
    const started = Date.now();
    const write = newRevision("expire", "v2", "healthy");
    await write.submitted();
    // The app stays locked meanwhile, as for any write in progress.
    const conflict = await rejectionOf(
      updateApp(client, rg, "expire", { tags: { other: "write" } }),
    );
    expect(conflict).toMatchObject({ statusCode: 409, code: "ContainerAppLockConflict" });
    const error = await rejectionOf(write);
    expect(Date.now() - started).toBeGreaterThanOrEqual(850);
    expect(error.message).toContain(
      "Failed to provision revision for container app 'expire'. Error details: Operation expired.",
    );
    expect(await revisionOf("expire", "v2")).toMatchObject({
      runningState: "Activating",
      healthState: "None",
    });
    expect((await client.containerApps.get(rg, "expire")).provisioningState).toBe("Failed");
  });
});
