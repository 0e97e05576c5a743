/**
 * Conformance of ARM answers to what the real service answered in recorded traffic (Azure CLI
 * test recordings of Microsoft.App) and in issue threads that quote real responses: long-running
 * operation headers and bodies, revision POST bodies, accepted inputs, error codes, messages and
 * envelopes, and what a write does to tags. Each test names its source; "unconfirmed" in a name
 * marks the emulator's own choice where no source shows the service's.
 */
import type { ContainerAppsAPIClient } from "@azure/arm-appcontainers";
import { startEmulator, type Emulator } from "../../emulator/index.ts";
import { armClient, armRequest, eventually, rejectionOf, updateApp } from "./support.ts";

const rg = "rg-wire";
const image = (behaviour: string) => `emulator.test/app:${behaviour}`;

let emulator: Emulator;
let client: ContainerAppsAPIClient;

beforeAll(async () => {
  // Operations long enough to be seen InProgress.
  emulator = await startEmulator({ operationDelayMs: 700, provisioningDelayMs: 100 });
  client = armClient(emulator.info);
});

afterAll(() => emulator.stop());

const appPath = (app: string, suffix = "") =>
  `/subscriptions/${emulator.info.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.App/containerApps/${app}${suffix}?api-version=2026-07-01`;

function seed(app: string, tags?: Record<string, string>) {
  return emulator.seed({
    resourceGroup: rg,
    environment: "env-wire",
    app,
    revisions: [
      { suffix: "v1", image: image("healthy") },
      { suffix: "v2", image: image("healthy") },
    ],
    traffic: [
      { revisionName: `${app}--v1`, weight: 100, label: "blue" },
      { revisionName: `${app}--v2`, weight: 0, label: "green" },
    ],
    tags,
  });
}

/** Polls an operation's status URL until it is terminal; returns every answer. */
async function pollStatus(url: string) {
  const { pathname, search } = new URL(url);
  const answers: Awaited<ReturnType<typeof armRequest>>[] = [];
  await eventually(async () => {
    const answer = await armRequest(emulator.info, "GET", pathname + search);
    answers.push(answer);
    return answer.body.status === "InProgress" ? undefined : answer;
  });
  return answers;
}

describe("long-running operations", () => {
  it("PUT of an existing app answers 201 with Azure-AsyncOperation and x-ms-async-operation-timeout, no Location, no Retry-After (260 of 260 recorded app PUTs, e.g. test_container_app_mount_nfsazurefile_e2e)", async () => {
    const view = await seed("put");
    const app = await client.containerApps.get(rg, "put");
    const put = await armRequest(emulator.info, "PUT", appPath("put"), {
      body: {
        location: app.location,
        tags: { replaced: "yes" },
        properties: {
          environmentId: app.environmentId,
          configuration: {
            activeRevisionsMode: "Multiple",
            ingress: { external: true, targetPort: 8080, traffic: view.traffic },
          },
          template: app.template,
        },
      },
    });
    expect(put.status).toBe(201);
    expect(put.body.properties).toMatchObject({ provisioningState: "InProgress" });
    expect(put.headers.get("azure-asyncoperation")).toContain("/containerappOperationStatuses/");
    expect(put.headers.get("x-ms-async-operation-timeout")).toBe("PT15M");
    expect(put.headers.get("location")).toBeNull();
    expect(put.headers.get("retry-after")).toBeNull();
    const polls = await pollStatus(put.headers.get("azure-asyncoperation") ?? "");
    expect(polls.every((poll) => poll.headers.get("retry-after") === null)).toBe(true);
    expect(polls.at(-1)?.body.status).toBe("Succeeded");
  });

  it("PUT of a managed environment answers 201 the same way (164 of the 172 recorded environment PUTs; the other 8 answered 200 at once)", async () => {
    const put = await armRequest(
      emulator.info,
      "PUT",
      `/subscriptions/${emulator.info.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.App/managedEnvironments/env-wire?api-version=2026-07-01`,
      { body: { location: emulator.info.location } },
    );
    expect(put.status).toBe(201);
    expect(put.headers.get("x-ms-async-operation-timeout")).toBe("PT15M");
    expect(put.headers.get("retry-after")).toBeNull();
  });

  it("PATCH answers 202 with no body, Location and Azure-AsyncOperation, and no Retry-After on it or on any poll; status bodies hold id, name, status and startTime only (none of 134 recorded PATCH 202s, 987 status polls, 192 result 202s has Retry-After, e.g. test_container_app_mount_nfsazurefile_e2e)", async () => {
    await seed("patch");
    const patch = await armRequest(emulator.info, "PATCH", appPath("patch"), {
      body: { tags: { a: "b" } },
    });
    expect(patch.status).toBe(202);
    expect(patch.body).toEqual({});
    expect(patch.headers.get("retry-after")).toBeNull();
    const result = new URL(patch.headers.get("location") ?? "");
    expect(result.pathname).toContain("/containerappOperationResults/");

    const running = await armRequest(emulator.info, "GET", result.pathname + result.search);
    expect(running.status).toBe(202);
    expect(running.headers.get("location")).toBe(result.href);
    expect(running.headers.get("retry-after")).toBeNull();

    const polls = await pollStatus(patch.headers.get("azure-asyncoperation") ?? "");
    expect(polls.length).toBeGreaterThan(1);
    for (const poll of polls) {
      expect(poll.headers.get("retry-after")).toBeNull();
      expect(Object.keys(poll.body).sort()).toEqual(["id", "name", "startTime", "status"]);
    }
    expect(polls[0].body.status).toBe("InProgress");
    expect(polls.at(-1)?.body.status).toBe("Succeeded");

    const done = await armRequest(emulator.info, "GET", result.pathname + result.search);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ name: "patch", tags: { a: "b" } });
  });

  it("a failed operation's status carries error {code, message} and no endTime (the ARM RPC async contract; no failed status is in the recordings)", async () => {
    await seed("failed");
    emulator.injectRevisionFault({ app: "failed", mode: "fail-provisioning" });
    const patch = await armRequest(emulator.info, "PATCH", appPath("failed"), {
      body: {
        properties: {
          template: { revisionSuffix: "v3", containers: [{ name: "failed", image: image("v3") }] },
        },
      },
    });
    const polls = await pollStatus(patch.headers.get("azure-asyncoperation") ?? "");
    const last = polls.at(-1);
    expect(last?.body).toEqual({
      id: expect.any(String),
      name: expect.any(String),
      status: "Failed",
      startTime: expect.any(String),
      error: { code: "ContainerAppOperationError", message: expect.any(String) },
    });
  });

  it("answers revision POSTs with the JSON strings the service sends (test_containerapp_scale_revision_copy)", async () => {
    await seed("posts");
    await updateApp(client, rg, "posts", {
      configuration: {
        ingress: {
          traffic: [
            { revisionName: "posts--v2", weight: 100, label: "green" },
            { revisionName: "posts--v1", weight: 0, label: "blue" },
          ],
        },
      },
    });
    const post = (verb: string) =>
      armRequest(emulator.info, "POST", appPath("posts", `/revisions/posts--v1/${verb}`));
    const restart = await post("restart");
    expect([restart.status, restart.body]).toEqual([200, "Restart succeeded"]);
    expect(restart.headers.get("content-type")).toContain("application/json");
    expect((await post("deactivate")).body).toBe("Deactivate succeeded");
    expect((await post("activate")).body).toBe("Activate succeeded");
  });
});

describe("accepted inputs", () => {
  it("reads a weight sent as a string and drops latestRevision: false from the echo (test_containerapp_ingress_traffic_e2e)", async () => {
    await seed("weights");
    const written = await updateApp(client, rg, "weights", {
      configuration: {
        ingress: {
          traffic: [
            { weight: "50" as unknown as number, latestRevision: true },
            { revisionName: "weights--v1", weight: 50, latestRevision: false },
          ],
        },
      },
    });
    expect(written.configuration?.ingress?.traffic).toEqual([
      { weight: 50, latestRevision: true },
      { revisionName: "weights--v1", weight: 50 },
    ]);
  });

  it("accepts targetPort 0 (unconfirmed: reported, not in the recordings read)", async () => {
    await seed("port");
    const written = await updateApp(client, rg, "port", {
      configuration: { ingress: { targetPort: 0 } },
    });
    expect(written.configuration?.ingress?.targetPort).toBe(0);
  });
});

describe("errors", () => {
  const invalidName = (name: string) =>
    `Revision name has an invalid value '${name}'. A revision name must consist of lower case ` +
    "alphanumeric characters or '-', start with an alphabetic character, and end with an " +
    "alphanumeric character. The length of the revision name must not be more than a combined " +
    "54 characters with the container app name.";

  it("refuses a revision name without the '<app>--' prefix, in a traffic entry too, with ContainerAppInvalidRevisionName in the service's words (Azure/azure-quickstart-templates#14660)", async () => {
    await seed("names");
    const traffic = await rejectionOf(
      updateApp(client, rg, "names", {
        configuration: { ingress: { traffic: [{ revisionName: "v1", weight: 100 }] } },
      }),
    );
    expect(traffic).toMatchObject({
      statusCode: 400,
      code: "ContainerAppInvalidRevisionName",
      message: invalidName("v1"),
    });
    const suffix = await rejectionOf(
      updateApp(client, rg, "names", {
        template: { revisionSuffix: "V3", containers: [{ name: "names", image: image("v3") }] },
      }),
    );
    expect(suffix).toMatchObject({
      code: "ContainerAppInvalidRevisionName",
      message: invalidName("names--V3"),
    });
  });

  it("answers a lock conflict unwrapped, {code, message}, as Microsoft.App sends it (microsoft/azure-container-apps#175)", async () => {
    await seed("locked");
    const first = await armRequest(emulator.info, "PATCH", appPath("locked"), {
      body: { tags: { first: "write" } },
    });
    expect(first.status).toBe(202);
    const second = await armRequest(emulator.info, "PATCH", appPath("locked"), {
      body: { tags: { second: "write" } },
    });
    expect(second.status).toBe(409);
    expect(second.body).toEqual({
      code: "ContainerAppLockConflict",
      message:
        "Cannot modify container App 'locked' because another modification is in progress. " +
        "Please retry the operation.",
    });
    // The SDK reads the code from either envelope.
    expect(
      await rejectionOf(updateApp(client, rg, "locked", { tags: { third: "write" } })),
    ).toMatchObject({ statusCode: 409, code: "ContainerAppLockConflict" });
  });

  it("answers a missing environment or app with ARM's wrapped 404 ResourceNotFound (121 recorded 404s, e.g. test_container_app_mount_azurefile_e2e)", async () => {
    const missing = await armRequest(
      emulator.info,
      "GET",
      `/subscriptions/${emulator.info.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.App/managedEnvironments/env-gone?api-version=2026-07-01`,
    );
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      error: {
        code: "ResourceNotFound",
        message:
          `The Resource 'Microsoft.App/managedEnvironments/env-gone' under resource group '${rg}' ` +
          "was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
      },
    });
    const app = await armRequest(emulator.info, "GET", appPath("gone"));
    expect(app.body.error).toMatchObject({ code: "ResourceNotFound" });
  });
});

describe("tags", () => {
  it("a PATCH with tags replaces the whole set (the ARM RPC, resource-api-reference: PATCH of tags)", async () => {
    await seed("tags-replace", { lease: "run-1", owner: "shop" });
    await updateApp(client, rg, "tags-replace", { tags: { lease: "run-2" } });
    expect((await client.containerApps.get(rg, "tags-replace")).tags).toEqual({ lease: "run-2" });
  });

  it("a GET during the write's operation shows the new tags, InProgress (the ARM RPC, async-api-reference: properties reflect the update in progress; unconfirmed for Microsoft.App)", async () => {
    await seed("tags-during", { lease: "run-1" });
    const write = updateApp(client, rg, "tags-during", { tags: { lease: "run-2" } });
    await write.submitted();
    const during = await client.containerApps.get(rg, "tags-during");
    expect(during).toMatchObject({ provisioningState: "InProgress", tags: { lease: "run-2" } });
    await write;
  });

  it("a failed write that carried tags and a template leaves both as written, the app Failed (unconfirmed: no source shows it)", async () => {
    await seed("tags-failed", { lease: "run-1" });
    emulator.injectRevisionFault({ app: "tags-failed", mode: "fail-provisioning" });
    await rejectionOf(
      updateApp(client, rg, "tags-failed", {
        tags: { lease: "run-2" },
        template: {
          revisionSuffix: "v3",
          containers: [{ name: "tags-failed", image: image("v3") }],
        },
      }),
    );
    const app = await client.containerApps.get(rg, "tags-failed");
    expect(app).toMatchObject({
      provisioningState: "Failed",
      tags: { lease: "run-2" },
      latestRevisionName: "tags-failed--v3",
      latestReadyRevisionName: "tags-failed--v2",
    });
    expect(app.template?.containers?.[0].image).toBe(image("v3"));
  });

  it("a write refused for a taken revision suffix leaves tags and template as they were (unconfirmed: the service's detail names only the suffix)", async () => {
    await seed("tags-suffix", { lease: "run-1" });
    await rejectionOf(
      updateApp(client, rg, "tags-suffix", {
        tags: { lease: "run-2" },
        template: {
          revisionSuffix: "v1",
          containers: [{ name: "tags-suffix", image: image("v9") }],
        },
      }),
    );
    const app = await client.containerApps.get(rg, "tags-suffix");
    expect(app).toMatchObject({ provisioningState: "Failed", tags: { lease: "run-1" } });
    expect(app.template?.containers?.[0].image).toBe(image("healthy"));
  });
});
