/**
 * The fault kinds a fault matrix needs beyond throttling, server errors and resets, as the real
 * @azure/arm-appcontainers client meets them: a lock conflict (409 `ContainerAppLockConflict`,
 * unwrapped, microsoft/azure-container-apps#175; the SDK does not retry it), an app write whose
 * long-running operation ends `Failed` (status `{status: "Failed", error: {code, message}}`, the
 * SDK throws "The long-running operation has failed"), a hang that an idle timeout ends, and a
 * hook that sees every ARM request before it is answered.
 */
import type { ContainerAppsAPIClient } from "@azure/arm-appcontainers";
import { startEmulator, type Emulator } from "../../emulator/index.ts";
import type { ArmRequestInfo } from "../../emulator/types.ts";
import { armClient, armRequest, rejectionOf, updateApp } from "./support.ts";

const rg = "rg-fault-kinds";
const image = (behaviour: string) => `emulator.test/app:${behaviour}`;

let emulator: Emulator;
let client: ContainerAppsAPIClient;

beforeAll(async () => {
  emulator = await startEmulator({ operationDelayMs: 50, provisioningDelayMs: 50 });
  client = armClient(emulator.info);
  await emulator.seed({
    resourceGroup: rg,
    environment: "env-fault-kinds",
    app: "api",
    revisions: [{ suffix: "v1", image: image("healthy") }],
    tags: { team: "shop" },
  });
  await client.containerApps.get(rg, "api");
});

afterAll(() => emulator.stop());

beforeEach(() => {
  emulator.clearFaults();
  emulator.clearJournal();
});

const appPath = () =>
  `/subscriptions/${emulator.info.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.App/containerApps/api`;

describe("lock-conflict", () => {
  it("answers 409 ContainerAppLockConflict without ARM's error wrapper, which the SDK does not retry", async () => {
    emulator.injectArmFault({ kind: "lock-conflict", count: 1, match: { method: "PATCH" } });
    const error = await rejectionOf(updateApp(client, rg, "api", { tags: { a: "1" } }));
    expect(error).toMatchObject({ statusCode: 409, code: "ContainerAppLockConflict" });
    expect(error.message).toContain(
      "Cannot modify container App 'api' because another modification is in progress",
    );
    const patches = emulator.armJournal().filter((e) => e.method === "PATCH");
    expect(patches.map((e) => [e.status, e.fault])).toEqual([[409, "lock-conflict"]]);
    expect(emulator.getApp(rg, "api").tags).toEqual({ team: "shop" });

    emulator.injectArmFault({ kind: "lock-conflict", count: 1 });
    const raw = await armRequest(emulator.info, "POST", `${appPath()}/revisions/api--v1/restart`);
    expect(raw.status).toBe(409);
    expect(raw.body).toMatchObject({ code: "ContainerAppLockConflict" });
  });
});

describe("operation-failed", () => {
  it("accepts the PATCH, changes nothing and ends its operation Failed with the error", async () => {
    emulator.injectArmFault({ kind: "operation-failed", count: 1 });
    // A read does not take a fault that only an app write can meet.
    expect((await client.containerApps.get(rg, "api")).tags).toEqual({ team: "shop" });
    const error = await rejectionOf(updateApp(client, rg, "api", { tags: { a: "1" } }));
    expect(error.message).toMatch(/^The long-running operation has failed/);
    expect(error.message).toContain("ContainerAppOperationError");
    expect(error.message).toContain("Failed to update container app 'api'");
    const view = emulator.getApp(rg, "api");
    expect(view.tags).toEqual({ team: "shop" });
    expect(view.provisioningState).toBe("Failed");
    const journal = emulator.armJournal();
    expect(journal.filter((e) => e.method === "PATCH").map((e) => [e.status, e.fault])).toEqual([
      [202, "operation-failed"],
    ]);
    const status = journal.find((e) => e.path.includes("containerappOperationStatuses"));
    expect(status?.status).toBe(200);

    // The next write is a write like any other.
    await updateApp(client, rg, "api", { tags: { team: "shop", a: "1" } });
    expect(emulator.getApp(rg, "api")).toMatchObject({
      tags: { team: "shop", a: "1" },
      provisioningState: "Succeeded",
    });
  });

  it("carries the error it is given, and refuses one without a code and message", async () => {
    emulator.injectArmFault({
      kind: "operation-failed",
      count: 1,
      error: { code: "InternalServerError", message: "Something went wrong." },
    });
    const error = await rejectionOf(updateApp(client, rg, "api", { tags: { b: "2" } }));
    expect(error.message).toContain("InternalServerError");
    expect(error.message).toContain("Something went wrong.");
    expect(() =>
      emulator.injectArmFault({ kind: "operation-failed", count: 1, error: { code: 1 } } as never),
    ).toThrow(/error must be an object/);
  });
});

describe("hang with forMs", () => {
  it("holds the request, then drops the connection as an idle timeout would", async () => {
    emulator.injectArmFault({ kind: "hang", count: 1, forMs: 300 });
    const raw = armClient(emulator.info, undefined, { maxRetries: 0 });
    const started = Date.now();
    const error = await rejectionOf(raw.containerApps.get(rg, "api"));
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(error.code).toBe("ECONNRESET");
    expect(emulator.armJournal().map((e) => [e.status, e.fault])).toEqual([[0, "hang"]]);
    expect(() => emulator.injectArmFault({ kind: "hang", count: 1, forMs: 0 })).toThrow(/forMs/);
  });
});

describe("onArmRequest", () => {
  it("sees each request before it is answered, may fault it, and stops when removed", async () => {
    const seen: ArmRequestInfo[] = [];
    const remove = emulator.onArmRequest((request) => {
      seen.push(request);
      if (request.method === "PATCH" && seen.filter((r) => r.method === "PATCH").length === 1) {
        emulator.injectArmFault({ kind: "status", status: 503, count: 1 });
      }
    });
    await updateApp(client, rg, "api", { tags: { team: "shop", c: "3" } });
    remove();
    const patch = seen.find((r) => r.method === "PATCH");
    expect(patch).toEqual({
      method: "PATCH",
      path: appPath(),
      body: { tags: { team: "shop", c: "3" } },
    });
    // The listener's fault answered the PATCH it saw; the SDK sent it again.
    expect(
      emulator
        .armJournal()
        .filter((e) => e.method === "PATCH")
        .map((e) => e.status),
    ).toEqual([503, 202]);
    const count = seen.length;
    await client.containerApps.get(rg, "api");
    expect(seen).toHaveLength(count);
  });

  it("holds the answer until a listener's promise settles", async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const remove = emulator.onArmRequest((request) =>
      request.method === "GET" && request.path === appPath() ? gate : undefined,
    );
    let answered = false;
    const read = client.containerApps.get(rg, "api").then(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(answered).toBe(false);
    release();
    await read;
    remove();
    expect(answered).toBe(true);
  });
});
