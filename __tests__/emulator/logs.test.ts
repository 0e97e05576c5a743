/**
 * The revisions' console output and the apps' system events, as the emulator serves them: the
 * auth token of `getAuthtoken`, a replica container's `logStreamEndpoint` and an app's
 * `eventStreamEndpoint`, read with the query `az containerapp logs show` sends (azure-cli
 * `containerapp/custom.py` `stream_containerapp_logs`), and the journal they are served from.
 */
import type { ContainerAppsAPIClient } from "@azure/arm-appcontainers";
import { Agent, ProxyAgent, fetch } from "undici";
import { startEmulator, type Emulator } from "../../emulator/index.ts";
import { armClient, armRequest, caOf, eventually, updateApp } from "./support.ts";

const rg = "rg-logs";
const image = (behaviour: string) => `emulator.test/app:${behaviour}`;

let emulator: Emulator;
let client: ContainerAppsAPIClient;
let agent: Agent;

beforeAll(async () => {
  emulator = await startEmulator({ operationDelayMs: 0, provisioningDelayMs: 100 });
  client = armClient(emulator.info);
  agent = new Agent({ connect: { ca: caOf(emulator.info) } });
});

afterAll(async () => {
  await agent.close();
  await emulator.stop();
});

async function seed(app: string, behaviour = "healthy") {
  return emulator.seed({
    resourceGroup: rg,
    environment: "env-logs",
    app,
    revisions: [{ suffix: "v1", image: image(behaviour) }],
  });
}

async function tokenOf(app: string): Promise<string> {
  return (await client.containerApps.getAuthToken(rg, app)).token ?? "";
}

async function replicaOf(app: string, revision: string) {
  return eventually(async () => {
    const { value = [] } = await client.containerAppsRevisionReplicas.listReplicas(
      rg,
      app,
      revision,
    );
    return value[0]?.containers?.[0]?.logStreamEndpoint ? value[0] : undefined;
  });
}

async function read(url: string, token: string | undefined, query: Record<string, string> = {}) {
  const target = new URL(url);
  for (const [name, value] of Object.entries(query)) target.searchParams.set(name, value);
  const response = await fetch(target, {
    dispatcher: agent,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: response.status, lines: (await response.text()).split("\n").filter(Boolean) };
}

describe("getAuthtoken", () => {
  test("answers the REST spec's shape: the app's id, name and location, a token and its expiry", async () => {
    await seed("logs-token");
    const { status, body } = await armRequest(
      emulator.info,
      "POST",
      `/subscriptions/${emulator.info.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.App/containerApps/logs-token/getAuthtoken?api-version=2026-07-01`,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      name: "logs-token",
      type: "Microsoft.App/containerApps/accesstoken",
      location: emulator.info.location,
      properties: { token: expect.any(String), expires: expect.any(String) },
    });
    expect(String(body.id)).toMatch(/\/containerApps\/logs-token$/);
    const sdk = await client.containerApps.getAuthToken(rg, "logs-token");
    expect(sdk.token).toMatch(/^[\w-]{40,}$/);
    expect(sdk.expires!.getTime()).toBeGreaterThan(Date.now());
  });
});

describe("a running revision's console", () => {
  test("streams what its process printed, behind the token of its own app only", async () => {
    await seed("logs-console");
    await seed("logs-other");
    const replica = await replicaOf("logs-console", "logs-console--v1");
    const endpoint = replica.containers![0].logStreamEndpoint!;
    expect(endpoint).toBe(
      `${emulator.info.logStream}/subscriptions/${emulator.info.subscriptionId}/resourceGroups/${rg}/containerApps/logs-console/revisions/logs-console--v1/replicas/${replica.name}/containers/logs-console/logstream`,
    );

    const { status, lines } = await read(endpoint, await tokenOf("logs-console"), {
      follow: "false",
      output: "text",
      tailLines: "300",
    });
    expect(status).toBe(200);
    expect(lines[0]).toMatch(/^\S+ {2}Connecting to the container 'logs-console'\.\.\.$/);
    expect(lines[1]).toContain(
      `Successfully Connected to container: 'logs-console' [Revision: 'logs-console--v1', Replica: '${replica.name}']`,
    );
    expect(lines[2]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F Starting logs-console \(revision logs-console--v1, image emulator\.test\/app:healthy, behaviour healthy\)$/,
    );
    expect(lines[3]).toMatch(/stdout F logs-console--v1 listening on http:\/\/127\.0\.0\.1:\d+$/);

    expect((await read(endpoint, undefined)).status).toBe(401);
    expect((await read(endpoint, await tokenOf("logs-other"))).status).toBe(401);
  });

  test("tailLines keeps the last lines, output=json gives TimeStamp and Log", async () => {
    await seed("logs-tail");
    const replica = await replicaOf("logs-tail", "logs-tail--v1");
    const endpoint = replica.containers![0].logStreamEndpoint!;
    const token = await tokenOf("logs-tail");
    const one = await read(endpoint, token, { tailLines: "1" });
    expect(one.lines).toHaveLength(3);
    expect(one.lines[2]).toMatch(/listening on/);
    const json = await read(endpoint, token, { output: "json", tailLines: "2" });
    expect(json.lines.map((line) => JSON.parse(line) as Record<string, string>)).toEqual([
      { TimeStamp: expect.any(String), Log: expect.stringMatching(/^Starting logs-tail/) },
      { TimeStamp: expect.any(String), Log: expect.stringMatching(/listening on/) },
    ]);
  });

  test("a request the app fails leaves its error line, with the request id it answered", async () => {
    const view = await seed("logs-500", "http500");
    const proxy = new ProxyAgent({
      uri: emulator.info.proxy,
      requestTls: { ca: caOf(emulator.info) },
    });
    const response = await fetch(`https://${view.fqdn}/orders?id=7`, { dispatcher: proxy });
    await proxy.close();
    expect(response.status).toBe(500);
    const requestId = response.headers.get("x-request-id");
    expect(requestId).toMatch(/^[\w.:-]+$/);
    const replica = await replicaOf("logs-500", "logs-500--v1");
    const { lines } = await read(
      replica.containers![0].logStreamEndpoint!,
      await tokenOf("logs-500"),
    );
    expect(lines.at(-1)).toMatch(
      new RegExp(
        `stderr F ERROR request ${requestId}: GET /orders answered 500: Revision logs-500--v1 failed this request \\(http500\\)\\.$`,
      ),
    );
  });
});

describe("a revision whose container crashes at start", () => {
  test("keeps the lines it printed before exiting on its crashing replica, and the event stream says why", async () => {
    await seed("logs-crash");
    await updateApp(client, rg, "logs-crash", {
      template: {
        revisionSuffix: "bad",
        containers: [{ name: "logs-crash", image: image("crash") }],
      },
    });
    const replica = await replicaOf("logs-crash", "logs-crash--bad");
    const container = replica.containers![0];
    expect(container).toMatchObject({ runningState: "Waiting", restartCount: 1, ready: false });
    const token = await tokenOf("logs-crash");
    const { lines } = await read(container.logStreamEndpoint!, token, { tailLines: "300" });
    expect(lines.slice(2).map((line) => line.replace(/^\S+ /, ""))).toEqual([
      "stdout F Starting logs-crash (revision logs-crash--bad, image emulator.test/app:crash, behaviour crash)",
      "stderr F Error: cannot start: image emulator.test/app:crash is built to exit at start",
      "stderr F Revision logs-crash--bad of logs-crash crashed; exiting with code 1",
    ]);

    const app = await client.containerApps.get(rg, "logs-crash");
    expect(app.eventStreamEndpoint).toBe(
      `${emulator.info.logStream}/subscriptions/${emulator.info.subscriptionId}/resourceGroups/${rg}/containerApps/logs-crash/eventstream`,
    );
    const events = (await read(app.eventStreamEndpoint!, token, { tailLines: "300" })).lines.map(
      (line) => JSON.parse(line) as Record<string, unknown>,
    );
    expect(events.slice(0, 2).map((event) => event.Reason)).toEqual([
      "StartingGettingEvents",
      "ConnectedToEventsServer",
    ]);
    expect(events.slice(0, 2).every((event) => event.RevisionName === null)).toBe(true);
    const bad = events.filter((event) => event.RevisionName === "logs-crash--bad");
    expect(bad.map((event) => [event.Type, event.Msg])).toEqual([
      ["Normal", "Creating a new revision: logs-crash--bad"],
      ["Warning", "Container 'logs-crash' was terminated with exit code '1'"],
      ["Warning", "Error provisioning revision logs-crash--bad. ErrorCode: [ContainerCrashing]"],
    ]);
    expect(bad[1]).toMatchObject({
      ContainerAppName: "logs-crash",
      ReplicaName: replica.name,
      Reason: "Error",
      EventSource: "ContainerAppController",
      Count: 1,
      TimeStamp: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/),
    });
  });
});

describe("deactivating a revision", () => {
  test("stops its container: a following stream gets the shutdown line and ends, and the replica is gone", async () => {
    await seed("logs-stop");
    await updateApp(client, rg, "logs-stop", {
      template: {
        revisionSuffix: "v2",
        containers: [{ name: "logs-stop", image: image("healthy") }],
      },
      configuration: { ingress: { traffic: [{ revisionName: "logs-stop--v1", weight: 100 }] } },
    });
    const replica = await replicaOf("logs-stop", "logs-stop--v2");
    const endpoint = replica.containers![0].logStreamEndpoint!;
    const token = await tokenOf("logs-stop");
    const following = read(endpoint, token, { follow: "true", tailLines: "0" });
    await eventually(() =>
      emulator.logStreamJournal().some((entry) => entry.path === new URL(endpoint).pathname)
        ? true
        : undefined,
    );
    await client.containerAppsRevisions.deactivateRevision(rg, "logs-stop", "logs-stop--v2");
    const { lines } = await following;
    expect(lines.slice(2).map((line) => line.replace(/^\S+ /, ""))).toEqual([
      "stdout F Received SIGTERM; shutting down",
    ]);
    expect((await read(endpoint, token)).status).toBe(404);
    const stopped = emulator
      .systemEvents()
      .filter((event) => event.app === "logs-stop" && event.revision === "logs-stop--v2");
    expect(stopped.at(-1)).toMatchObject({
      reason: "StoppingContainer",
      replica: replica.name,
      message: "Stopping container 'logs-stop': revision 'logs-stop--v2' was deactivated",
    });
  });
});

describe("log stream faults", () => {
  test("hang sends headers and then nothing; status answers 503; both are journaled", async () => {
    await seed("logs-faults");
    const replica = await replicaOf("logs-faults", "logs-faults--v1");
    const endpoint = replica.containers![0].logStreamEndpoint!;
    const token = await tokenOf("logs-faults");
    emulator.injectLogStreamFault({ app: "logs-faults", stream: "console", kind: "hang" });
    emulator.injectLogStreamFault({ app: "logs-faults", kind: "status", status: 503 });
    const hung = await fetch(endpoint, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(300),
    });
    expect(hung.status).toBe(200);
    await expect(hung.text()).rejects.toThrow();
    expect((await read(endpoint, token)).status).toBe(503);
    expect((await read(endpoint, token)).status).toBe(200);
    const journal = emulator
      .logStreamJournal()
      .filter((e) => e.path === new URL(endpoint).pathname);
    expect(journal.slice(-3).map((e) => [e.kind, e.status, e.fault])).toEqual([
      ["console", 0, "hang"],
      ["console", 503, "status"],
      ["console", 200, undefined],
    ]);
  });
});
