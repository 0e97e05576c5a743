/**
 * The diagnostics source over Azure Container Apps' replicas API and log streams: the stream lines
 * as public sources show them parsed, then the real SDK client and the real streams against the
 * emulator.
 */
import { ContainerAppDiagnostics } from "../../src/azure/diagnostics.ts";
import { ContainerAppsGateway } from "../../src/azure/containerApps.ts";
import { consoleStreamUrl, parseConsoleLine, parseSystemEvent } from "../../src/azure/logStream.ts";
import { systemClock } from "../../src/core/clock.ts";
import { startEmulator } from "../../emulator/index.ts";
import type { Emulator } from "../../emulator/types.ts";
import { armClient, eventually, rejectionOf, trustProcessWide } from "../emulator/support.ts";
import { monitorClients } from "./support.ts";

describe("console stream lines", () => {
  test.each([
    // azureossd/azureossd.github.io, "Preventing File Locks when mounting storage on Azure Container Apps" (2024-05-16)
    [
      '2024-05-16T21:53:35.511114167Z   File "/app/app.py", line 11, in <module>',
      { time: "2024-05-16T21:53:35.511Z", text: '  File "/app/app.py", line 11, in <module>' },
    ],
    // The container runtime's prefix, as the Azure AI Foundry agents' log stream documents it (2025-12)
    [
      '2025-12-15T08:33:59.0671054Z stdout F INFO:     127.0.0.1:42588 - "GET / HTTP/1.1" 200',
      {
        time: "2025-12-15T08:33:59.067Z",
        stream: "stdout",
        text: 'INFO:     127.0.0.1:42588 - "GET / HTTP/1.1" 200',
      },
    ],
    ["a line without a timestamp", { text: "a line without a timestamp" }],
  ])("%s", (raw, parsed) => {
    expect(parseConsoleLine(raw)).toEqual(parsed);
  });

  test.each([
    "2025-12-15T08:43:48.72656  Connecting to the container 'agent-container'...",
    "2025-12-15T08:43:48.75451  Successfully Connected to container: 'agent-container' [Revision: 'je90--7tca06b', Replica: 'je90--7tca06b-6898b9c89f-mpkjc']",
    "Connecting...",
  ])("the stream's own line is not the app's: %s", (raw) => {
    expect(parseConsoleLine(raw)).toBeUndefined();
  });
});

describe("event stream lines", () => {
  test("an event, as azureossd's post and the Container Apps docs show them", () => {
    expect(
      parseSystemEvent(
        '{"TimeStamp":"2024-05-16 21:55:19 \\u002B0000 UTC","Type":"Warning","ContainerAppName":"kedsouza-filelock","RevisionName":"kedsouza-filelock--ua521gi","ReplicaName":"kedsouza-filelock--ua521gi-f945d6854-g67br","Msg":"Container \\u0027python\\u0027 was terminated with exit code \\u00271\\u0027","Reason":"Error","EventSource":"ContainerAppController","Count":3}',
      ),
    ).toEqual({
      time: "2024-05-16T21:55:19.000Z",
      type: "Warning",
      reason: "Error",
      message: "Container 'python' was terminated with exit code '1'",
      revision: "kedsouza-filelock--ua521gi",
      replica: "kedsouza-filelock--ua521gi-f945d6854-g67br",
      count: 3,
    });
  });

  test("the stream's own first lines, and blank ones, are not events; other text is kept as it came", () => {
    for (const reason of ["StartingGettingEvents", "ConnectedToEventsServer"]) {
      expect(
        parseSystemEvent(
          `{"TimeStamp":"2023-10-06T22:14:01Z","Type":"Normal","ContainerAppName":null,"RevisionName":null,"ReplicaName":null,"Msg":"…","Reason":"${reason}","EventSource":"ContainerAppController","Count":1}`,
        ),
      ).toBeUndefined();
    }
    expect(parseSystemEvent("  ")).toBeUndefined();
    expect(parseSystemEvent("not json")).toEqual({ message: "not json" });
  });
});

test("a console URL on the event stream's host, as the CLI builds it", () => {
  expect(
    consoleStreamUrl(
      "https://westeurope.azurecontainerapps.dev/subscriptions/s/resourceGroups/rg/containerApps/web/eventstream",
      {
        subscriptionId: "s",
        resourceGroup: "rg",
        app: "web",
        revision: "web--v2",
        replica: "web--v2-abc",
        container: "web",
      },
    ),
  ).toBe(
    "https://westeurope.azurecontainerapps.dev/subscriptions/s/resourceGroups/rg/containerApps/web/revisions/web--v2/replicas/web--v2-abc/containers/web/logstream",
  );
});

describe("against the emulator", () => {
  const RG = "rg-azure-diagnostics";
  let emulator: Emulator;

  beforeAll(async () => {
    emulator = await startEmulator({ provisioningDelayMs: 100, operationDelayMs: 100 });
    trustProcessWide(emulator.info);
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  async function sourceFor(app: string, image: string) {
    await emulator.seed({
      resourceGroup: RG,
      environment: "env-azure-diagnostics",
      app,
      revisions: [{ suffix: "v1", image }],
    });
    const gateway = new ContainerAppsGateway(armClient(emulator.info), RG, app, {
      clock: systemClock,
    });
    return new ContainerAppDiagnostics(
      gateway,
      emulator.info.subscriptionId,
      monitorClients(emulator.info),
    );
  }

  const read = (lines: number) => ({ lines, signal: AbortSignal.timeout(10_000) });

  test("lists the replicas, reads what a crashed container printed, and the platform's events", async () => {
    const source = await sourceFor("azd-crash", "emulator.test/app:crash");
    const replicas = await eventually(async () => {
      const found = await source.listReplicas("azd-crash--v1");
      return found.length > 0 ? found : undefined;
    });
    expect(replicas[0].containers[0]).toMatchObject({
      name: "azd-crash",
      ready: false,
      started: false,
      restartCount: 1,
      runningState: "Waiting",
      logStreamEndpoint: expect.stringMatching(/\/logstream$/),
    });
    const target = {
      revision: "azd-crash--v1",
      replica: replicas[0].name,
      container: "azd-crash",
    };
    const fromEndpoint = await source.readConsole(
      { ...target, logStreamEndpoint: replicas[0].containers[0].logStreamEndpoint },
      read(300),
    );
    expect(fromEndpoint.map((line) => [line.stream, line.text])).toEqual([
      [
        "stdout",
        "Starting azd-crash (revision azd-crash--v1, image emulator.test/app:crash, behaviour crash)",
      ],
      ["stderr", "Error: cannot start: image emulator.test/app:crash is built to exit at start"],
      ["stderr", "Revision azd-crash--v1 of azd-crash crashed; exiting with code 1"],
    ]);
    expect(fromEndpoint[0].time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // Without the replica's endpoint, the CLI's path on the event stream's host.
    expect(await source.readConsole(target, read(1))).toEqual([fromEndpoint[2]]);

    const events = await source.readSystemEvents(read(300));
    expect(events.find((event) => event.reason === "Error")).toMatchObject({
      type: "Warning",
      revision: "azd-crash--v1",
      replica: replicas[0].name,
      message: "Container 'azd-crash' was terminated with exit code '1'",
    });
  });

  test("a stream that refuses says what it answered", async () => {
    const source = await sourceFor("azd-refused", "emulator.test/app:healthy");
    const [replica] = await eventually(async () => {
      const found = await source.listReplicas("azd-refused--v1");
      return found.length > 0 ? found : undefined;
    });
    emulator.injectLogStreamFault({ app: "azd-refused", kind: "status", status: 503 });
    const error = await rejectionOf(
      source.readConsole(
        { revision: "azd-refused--v1", replica: replica.name, container: "azd-refused" },
        read(10),
      ),
    );
    expect(error.message).toMatch(
      /^the log stream 127\.0\.0\.1:\d+\/subscriptions\/.+\/logstream answered 503: \{"error":\{"code":"InternalServerError"/,
    );
  });
});
