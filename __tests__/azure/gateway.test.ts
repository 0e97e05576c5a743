/**
 * The Container Apps gateway against the emulator: what is retried and what is final. A write the
 * service accepted and then reported as failed is a verdict (AZURE-SDK-FACTS.md: re-sending it is
 * a new write); only the request that starts an operation, and the polls of its status, are
 * retried on transient faults.
 */
import { ContainerAppsAdapter } from "../../src/azure/appsPort.ts";
import { ContainerAppsGateway } from "../../src/azure/containerApps.ts";
import { AzureError } from "../../src/azure/errors.ts";
import { systemClock } from "../../src/core/clock.ts";
import { isRetryable } from "../../src/core/failure.ts";
import type { RevisionTemplate } from "../../src/core/revision/model.ts";
import { startEmulator } from "../../emulator/index.ts";
import type { Emulator } from "../../emulator/types.ts";
import { armClient, rejectionOf } from "../emulator/support.ts";

const RG = "rg-gateway";
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ provisioningDelayMs: 100, operationDelayMs: 100 });
});
afterAll(async () => {
  await emulator?.stop();
});

async function adapterFor(app: string) {
  await emulator.seed({
    resourceGroup: RG,
    environment: "env-gateway",
    app,
    revisions: [{ suffix: "v1", image: "emulator.test/app:healthy" }],
    traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
  });
  const gateway = new ContainerAppsGateway(armClient(emulator.info), RG, app, {
    clock: systemClock,
    operationPoll: { firstMs: 50, factor: 1.5, maxMs: 200 },
  });
  const adapter = new ContainerAppsAdapter(gateway);
  await adapter.getApp();
  return adapter;
}

/** The app's template with every container running `image`. */
function withImage(template: RevisionTemplate, image: string): RevisionTemplate {
  return { ...template, containers: template.containers.map((c) => ({ ...c, image })) };
}

function patches(app: string) {
  return emulator
    .armJournal()
    .filter((e) => e.method === "PATCH" && e.path.includes(`/containerApps/${app}`));
}

test("a write whose operation the service reports as failed is sent once and fails with the service's code", async () => {
  const app = "gw-failed-write";
  const adapter = await adapterFor(app);
  emulator.injectRevisionFault({ app, mode: "fail-provisioning" });
  const before = patches(app).length;
  const error = await rejectionOf(
    adapter.createRevision(
      {
        revisionSuffix: "v2",
        template: { containers: [{ name: "app", image: "emulator.test/app:healthy-v2" }] },
        traffic: [
          { revisionName: `${app}--v1`, weight: 100, label: "blue" },
          { revisionName: `${app}--v2`, weight: 0, label: "green" },
        ],
        multipleRevisions: false,
      },
      { retryForMs: 30_000 },
    ),
  );
  expect(error).toBeInstanceOf(AzureError);
  expect((error as unknown as AzureError).operationFailed).toBe(true);
  expect(error.code).toBe("ContainerAppOperationError");
  expect(isRetryable(error)).toBe(false);
  expect(patches(app).length - before).toBe(1);
});

test("a status poll that fails is asked again; the write itself is sent once", async () => {
  const app = "gw-poll-fault";
  const adapter = await adapterFor(app);
  emulator.injectArmFault({
    kind: "status",
    status: 503,
    count: 2,
    match: { method: "GET", pathContains: "containerappOperationStatuses" },
  });
  const before = patches(app).length;
  const written = await adapter.updateTraffic(
    [{ revisionName: `${app}--v1`, weight: 100, label: "green" }],
    undefined,
  );
  expect(written.ingress?.traffic).toEqual([
    expect.objectContaining({ revisionName: `${app}--v1`, weight: 100, label: "green" }),
  ]);
  expect(patches(app).length - before).toBe(1);
  const faulted = emulator
    .armJournal()
    .filter((e) => e.fault && e.path.includes("containerappOperationStatuses"));
  expect(faulted).toHaveLength(2);
});

test("a revision read carries the service's runningStateDetails, which the SDK's model drops", async () => {
  const app = "gw-details";
  const adapter = await adapterFor(app);
  const { template, containers } = await adapter.getApp();
  const container = containers[0].name;
  await adapter.createRevision({
    revisionSuffix: "v2",
    template: withImage(template, "emulator.test/app:crash"),
    traffic: [
      { revisionName: `${app}--v1`, weight: 100, label: "blue" },
      { revisionName: `${app}--v2`, weight: 0, label: "green" },
    ],
    multipleRevisions: false,
  });
  // AZURE-RECORDED-FACTS.md: a crash at start reads "1/1 Container crashing: <container>".
  const deadline = Date.now() + 20_000;
  let revision = await adapter.getRevision(`${app}--v2`);
  while (revision.provisioningState !== "Failed" && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    revision = await adapter.getRevision(`${app}--v2`);
  }
  expect(revision.provisioningState).toBe("Failed");
  expect(revision.runningStateDetails).toBe(`1/1 Container crashing: ${container}`);
  expect(revision.provisioningError).toBe(`Container crashing: ${container}`);
});
