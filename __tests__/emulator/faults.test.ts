/**
 * Injected faults as the real @azure/arm-appcontainers client meets them: throttling honoured
 * through Retry-After, 5xx retried and then surfaced, dropped connections, requests that never
 * answer, and revisions that fail to provision or never become ready.
 */
import type { ContainerAppsAPIClient } from "@azure/arm-appcontainers";
import { startEmulator, type Emulator } from "../../emulator/index.ts";
import { armClient, armRequest, eventually, rejectionOf, updateApp } from "./support.ts";

const rg = "rg-faults";
const image = (behaviour: string) => `emulator.test/app:${behaviour}`;

let emulator: Emulator;
let client: ContainerAppsAPIClient;

beforeAll(async () => {
  emulator = await startEmulator({
    operationDelayMs: 0,
    provisioningDelayMs: 100,
    retryAfterSeconds: 1,
  });
  client = armClient(emulator.info);
  for (const app of ["api", "worker"]) {
    await emulator.seed({
      resourceGroup: rg,
      environment: "env-faults",
      app,
      revisions: [{ suffix: "v1", image: image("healthy") }],
    });
  }
  // The first token request is not an ARM call; take it before the journal matters.
  await client.containerApps.get(rg, "api");
});

afterAll(() => emulator.stop());

beforeEach(() => {
  emulator.clearFaults();
  emulator.clearJournal();
});

const appGets = () =>
  emulator
    .armJournal()
    .filter((entry) => entry.method === "GET" && entry.path.endsWith("/containerApps/api"))
    .map((entry) => [entry.status, entry.fault]);

describe("ARM faults", () => {
  // Retry-After appears on throttling (429) and on no long-running operation response.
  it("throttles with 429 and Retry-After, which the SDK honours before retrying", async () => {
    emulator.injectArmFault({ kind: "status", status: 429, count: 1, retryAfterSeconds: 1 });
    const started = Date.now();
    const app = await client.containerApps.get(rg, "api");
    expect(app.name).toBe("api");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(appGets()).toEqual([
      [429, "429"],
      [200, undefined],
    ]);
  });

  it("answers 500s that the SDK retries through, and 503s that outlast its retries", async () => {
    emulator.injectArmFault({ kind: "status", status: 500, count: 2 });
    expect((await client.containerApps.get(rg, "api")).name).toBe("api");
    expect(appGets()).toEqual([
      [500, "500"],
      [500, "500"],
      [200, undefined],
    ]);

    emulator.clearJournal();
    emulator.injectArmFault({ kind: "status", status: 503, count: 4 });
    const error = await rejectionOf(client.containerApps.get(rg, "api"));
    expect(error).toMatchObject({ statusCode: 503, code: "ServiceUnavailable" });
    expect(appGets()).toHaveLength(4);
  });

  it("resets connections, which surface as connection errors once the SDK stops retrying", async () => {
    emulator.injectArmFault({ kind: "reset", count: 4 });
    const error = await rejectionOf(client.containerApps.get(rg, "api"));
    expect(error.code).toBe("ECONNRESET");
    expect(appGets()).toEqual(Array(4).fill([0, "reset"]));
    expect((await client.containerApps.get(rg, "api")).name).toBe("api");
  });

  it("hangs a call until the client gives up, without blocking the next ones", async () => {
    emulator.injectArmFault({ kind: "hang", count: 1 });
    const error = await rejectionOf(
      client.containerApps.get(rg, "api", { abortSignal: AbortSignal.timeout(300) }),
    );
    expect(error.name).toBe("AbortError");
    expect(appGets()).toEqual([[0, "hang"]]);
    expect((await client.containerApps.get(rg, "api")).name).toBe("api");
  });

  it("hits only the calls its match selects, and clearFaults drops what is left", async () => {
    emulator.injectArmFault({
      kind: "status",
      status: 503,
      count: 1,
      match: { method: "PATCH", pathContains: "/containerApps/worker" },
    });
    await client.containerApps.get(rg, "worker");
    await updateApp(client, rg, "api", { tags: { a: "1" } });
    const patched = emulator.armJournal().filter((entry) => entry.method === "PATCH");
    expect(patched.map((entry) => entry.status)).toEqual([202]);

    emulator.clearFaults();
    await updateApp(client, rg, "worker", { tags: { a: "1" } });
    expect(emulator.armJournal().filter((entry) => entry.fault)).toEqual([]);
  });

  it("journals every ARM call with its api-version and the body of writes", async () => {
    await updateApp(client, rg, "api", { tags: { b: "2" } });
    const [write] = emulator.armJournal().filter((entry) => entry.method === "PATCH");
    expect(write).toMatchObject({
      path: `/subscriptions/${emulator.info.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.App/containerApps/api`,
      apiVersion: "2026-07-01",
      body: { tags: { b: "2" } },
      status: 202,
    });
    expect(write.time).toBeLessThanOrEqual(Date.now());
  });

  it("refuses malformed faults", () => {
    expect(() =>
      emulator.injectArmFault({ kind: "status", status: 418, count: 1 } as never),
    ).toThrow(/status must be 429, 500 or 503/);
    expect(() => emulator.injectArmFault({ kind: "reset", count: 0 })).toThrow(/count/);
  });
});

describe("revision faults", () => {
  const newRevision = (app: string, suffix: string, behaviour = "healthy") =>
    updateApp(client, rg, app, {
      template: { revisionSuffix: suffix, containers: [{ name: app, image: image(behaviour) }] },
    });

  it("fail-provisioning fails the revision and the operation that created it", async () => {
    emulator.injectRevisionFault({ app: "api", mode: "fail-provisioning" });
    const error = await rejectionOf(newRevision("api", "broken"));
    expect(error.message).toContain("Failed to provision revision for container app 'api'");
    const revision = await client.containerAppsRevisions.getRevision(rg, "api", "api--broken");
    expect(revision).toMatchObject({
      provisioningState: "Failed",
      runningState: "Failed",
      healthState: "Unhealthy",
      replicas: 0,
    });
    expect(revision.provisioningError).toContain("template.containers.api.image");
  });

  it("never-ready keeps the revision Activating, its replica never ready, while the operation succeeds", async () => {
    emulator.injectRevisionFault({ app: "worker", mode: "never-ready" });
    await newRevision("worker", "stuck");
    const activating = await eventually(async () => {
      const revision = await client.containerAppsRevisions.getRevision(
        rg,
        "worker",
        "worker--stuck",
      );
      return revision.runningState === "Activating" ? revision : undefined;
    });
    expect(activating).toMatchObject({ provisioningState: "Provisioned", healthState: "None" });
    // Far past the activation time (100 ms): the revision would be Running by now.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const revision = await client.containerAppsRevisions.getRevision(rg, "worker", "worker--stuck");
    expect(revision).toMatchObject({
      runningState: "Activating",
      healthState: "None",
      replicas: 1,
    });
    const replicas = await client.containerAppsRevisionReplicas.listReplicas(
      rg,
      "worker",
      "worker--stuck",
    );
    expect(replicas.value?.[0].containers?.[0].ready).toBe(false);
    expect((await client.containerApps.get(rg, "worker")).provisioningState).toBe("Succeeded");
  });

  it("applies to the next matching revision only", async () => {
    emulator.injectRevisionFault({
      app: "worker",
      image: image("other"),
      mode: "fail-provisioning",
    });
    await newRevision("worker", "fine");
    await eventually(async () => {
      const revision = await client.containerAppsRevisions.getRevision(
        rg,
        "worker",
        "worker--fine",
      );
      return revision.runningState === "Running" ? revision : undefined;
    });
    const error = await rejectionOf(newRevision("worker", "other", "other"));
    expect(error.message).toContain("ContainerAppOperationError");
    await newRevision("worker", "again", "other");
    expect(emulator.getApp(rg, "worker").provisioningState).toBe("Succeeded");
  });

  it("is refused when malformed", async () => {
    const answer = await fetch(`${emulator.info.control}/faults/revision`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ app: "api", mode: "explode" }),
    });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ error: { code: "InvalidFault" } });
    const arm = await armRequest(
      emulator.info,
      "GET",
      `/subscriptions/${emulator.info.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.App/containerApps/api?api-version=2026-07-01`,
    );
    expect(arm.status).toBe(200);
  });
});
