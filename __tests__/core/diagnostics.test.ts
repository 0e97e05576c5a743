/**
 * Collecting a failed candidate's diagnostics with plain values: every part read at once, each
 * bounded by one deadline, a part that fails or hangs becoming a warning; then masked and put in
 * words.
 */
import type { Clock } from "../../src/core/clock.ts";
import {
  MAX_DIAGNOSTICS_CHARS,
  MAX_LINE_CHARS,
  collectDiagnostics,
  withinSize,
} from "../../src/core/diagnostics/collect.ts";
import { describeDiagnostics, headline } from "../../src/core/diagnostics/describe.ts";
import { redactDiagnostics, redactText } from "../../src/core/diagnostics/redact.ts";
import type {
  CandidateDiagnostics,
  ConsoleLine,
  ConsoleTarget,
  ReplicaState,
  SystemEvent,
} from "../../src/core/diagnostics/types.ts";
import type { DiagnosticsPort, RevisionState, StreamReadOptions } from "../../src/core/ports.ts";

const clock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

const CRASHED: RevisionState = {
  name: "shop--bad",
  active: true,
  provisioningState: "Failed",
  runningState: "Failed",
  healthState: "Unhealthy",
  trafficWeight: 0,
  containers: [{ name: "shop", image: "registry.test/shop:bad" }],
  provisioningError: "Container crashing: shop",
  runningStateDetails: "1/1 Container crashing: shop",
  replicas: 1,
};

const REPLICA: ReplicaState = {
  name: "shop--bad-7d9f-abcde",
  runningState: "NotRunning",
  containers: [
    {
      name: "shop",
      ready: false,
      started: false,
      restartCount: 3,
      runningState: "Waiting",
      runningStateDetails: "Container crashing: shop",
      logStreamEndpoint: "https://logs.test/shop--bad-7d9f-abcde/shop",
    },
    { name: "sidecar", ready: true, started: true, restartCount: 0, runningState: "Running" },
  ],
};

/** A diagnostics port answering from values; `hang` makes a part never answer. */
class FakeDiagnostics implements DiagnosticsPort {
  reads: ConsoleTarget[] = [];
  hang = new Set<"replicas" | "console" | "events">();
  fail = new Set<"replicas" | "console" | "events">();
  console: Record<string, ConsoleLine[]> = {
    shop: [
      { time: "2026-11-27T10:00:00.000Z", stream: "stdout", text: "Starting shop" },
      { time: "2026-11-27T10:00:00.100Z", stream: "stderr", text: "Error: cannot start" },
    ],
    sidecar: [],
  };
  events: SystemEvent[] = [
    { message: "Connecting to the events collector..." },
    { revision: "shop--v1", type: "Normal", reason: "RevisionReady", message: "ok" },
    {
      type: "Warning",
      message: "Error provisioning revision shop--bad. ErrorCode: [ContainerCrashing]",
    },
    {
      revision: "shop--bad",
      replica: REPLICA.name,
      type: "Warning",
      reason: "Error",
      message: "Container 'shop' was terminated with exit code '1'",
      count: 3,
    },
  ];

  async listReplicas(): Promise<ReplicaState[]> {
    return this.#answer("replicas", [REPLICA]);
  }
  async readConsole(target: ConsoleTarget, options: StreamReadOptions): Promise<ConsoleLine[]> {
    this.reads.push(target);
    return this.#answer("console", this.console[target.container].slice(-options.lines));
  }
  async readSystemEvents(): Promise<SystemEvent[]> {
    return this.#answer("events", this.events);
  }
  #answer<T>(part: "replicas" | "console" | "events", value: T): Promise<T> {
    // A part that hangs ignores its signal: the deadline must hold anyway.
    if (this.hang.has(part)) return new Promise<T>(() => undefined);
    if (this.fail.has(part)) return Promise.reject(new Error(`the ${part} answered 503`));
    return Promise.resolve(value);
  }
}

function deps(diagnostics?: FakeDiagnostics, signal?: AbortSignal) {
  return {
    apps: { getRevision: async () => CRASHED },
    clock,
    ...(diagnostics && { diagnostics }),
    ...(signal && { signal }),
  };
}

const REQUEST = {
  revision: "shop--bad",
  lines: 100,
  deadlineMs: 5_000,
  errorCode: "RevisionFailed",
};

describe("collectDiagnostics", () => {
  test("reads the revision, its replicas, each container's last lines and the events about it", async () => {
    const port = new FakeDiagnostics();
    const collected = await collectDiagnostics(deps(port), REQUEST);
    expect(collected).toMatchObject({
      revision: "shop--bad",
      errorCode: "RevisionFailed",
      state: {
        active: true,
        provisioningState: "Failed",
        runningState: "Failed",
        healthState: "Unhealthy",
        provisioningError: "Container crashing: shop",
        runningStateDetails: "1/1 Container crashing: shop",
        replicas: 1,
      },
      console: [
        { replica: REPLICA.name, container: "shop", lines: port.console.shop },
        { replica: REPLICA.name, container: "sidecar", lines: [] },
      ],
      warnings: [],
    });
    expect(port.reads).toEqual([
      {
        revision: "shop--bad",
        replica: REPLICA.name,
        container: "shop",
        logStreamEndpoint: "https://logs.test/shop--bad-7d9f-abcde/shop",
      },
      { revision: "shop--bad", replica: REPLICA.name, container: "sidecar" },
    ]);
    // Where a replica streams from is for reading it, not for the report.
    expect(JSON.stringify(collected.replicas)).not.toContain("logStreamEndpoint");
    expect(collected.replicas?.[0].containers[0]).toMatchObject({
      restartCount: 3,
      runningState: "Waiting",
    });
    // The stream's own lines and other revisions' events are not this revision's.
    expect(collected.systemEvents.map((event) => event.message)).toEqual([
      "Error provisioning revision shop--bad. ErrorCode: [ContainerCrashing]",
      "Container 'shop' was terminated with exit code '1'",
    ]);
  });

  test("keeps the last lines asked for, and cuts a line that would fill the summary", async () => {
    const port = new FakeDiagnostics();
    port.console.shop = Array.from({ length: 10 }, (_, i) => ({ text: `line ${i}` }));
    port.console.shop.push({ text: "x".repeat(MAX_LINE_CHARS + 10) });
    const collected = await collectDiagnostics(deps(port), { ...REQUEST, lines: 3 });
    const lines = collected.console[0].lines.map((line) => line.text);
    expect(lines.slice(0, 2)).toEqual(["line 8", "line 9"]);
    expect(lines[2]).toBe(`${"x".repeat(MAX_LINE_CHARS)}…`);
  });

  test("a stream that hangs ends at the deadline as a warning; what was read in time is kept", async () => {
    const port = new FakeDiagnostics();
    port.hang.add("console");
    const started = Date.now();
    const collected = await collectDiagnostics(deps(port), { ...REQUEST, deadlineMs: 200 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2_000);
    expect(collected.state?.provisioningError).toBe("Container crashing: shop");
    expect(collected.replicas).toHaveLength(1);
    expect(collected.systemEvents).toHaveLength(2);
    expect(collected.console).toEqual([]);
    expect(collected.warnings).toEqual([
      `Could not read the console output of shop in replica ${REPLICA.name}: no answer within the diagnostics deadline (200 ms)`,
      `Could not read the console output of sidecar in replica ${REPLICA.name}: no answer within the diagnostics deadline (200 ms)`,
    ]);
  });

  test("a part that fails is a warning that says why; the others are kept", async () => {
    const port = new FakeDiagnostics();
    port.fail.add("events");
    port.fail.add("replicas");
    const collected = await collectDiagnostics(deps(port), REQUEST);
    expect(collected.state?.runningState).toBe("Failed");
    expect(collected.replicas).toBeUndefined();
    expect(collected.console).toEqual([]);
    expect(collected.warnings.sort()).toEqual([
      "Could not list the replicas of shop--bad: the replicas answered 503",
      "Could not read the system events of shop--bad: the events answered 503",
    ]);
  });

  test("0 lines reads no stream; no port reads the revision alone", async () => {
    const port = new FakeDiagnostics();
    port.hang.add("console").add("events");
    const none = await collectDiagnostics(deps(port), { ...REQUEST, lines: 0 });
    expect(port.reads).toEqual([]);
    expect(none.replicas).toHaveLength(1);
    expect(none.warnings).toEqual([]);
    const alone = await collectDiagnostics(deps(), REQUEST);
    expect(alone.state?.healthState).toBe("Unhealthy");
    expect(alone.replicas).toBeUndefined();
  });

  test("a cancelled run stops collecting at once", async () => {
    const port = new FakeDiagnostics();
    port.hang.add("console").add("events").add("replicas");
    const cancel = new AbortController();
    setTimeout(() => cancel.abort(new Error("The run was cancelled.")), 20);
    const started = Date.now();
    const collected = await collectDiagnostics(deps(port, cancel.signal), REQUEST);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(collected.warnings).toContain(
      "Could not list the replicas of shop--bad: The run was cancelled.",
    );
  });
});

describe("redactText", () => {
  test.each([
    ["a value the host masks", "connecting with s3cr3t-Value", "connecting with ***"],
    ["a bearer token", "Authorization: Bearer abc.def-ghi_jkl", "Authorization: Bearer ***"],
    [
      "a JWT",
      "token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl printed",
      "token *** printed",
    ],
    [
      "a password in a URL",
      "db at postgres://app:hunter22@db.test:5432/shop",
      "db at postgres://app:***@db.test:5432/shop",
    ],
    ["an env-style password", "DB_PASSWORD=hunter22 starting", "DB_PASSWORD=*** starting"],
    [
      "a JSON client secret",
      '{"clientSecret": "abc123", "ok": true}',
      '{"clientSecret": "***", "ok": true}',
    ],
    ["an API key", "using api_key: k-9f8e7d", "using api_key: ***"],
    [
      "a storage account key",
      "DefaultEndpointsProtocol=https;AccountName=shop;AccountKey=Zm9vYmFy==;EndpointSuffix=core.windows.net",
      "DefaultEndpointsProtocol=https;AccountName=shop;AccountKey=***;EndpointSuffix=core.windows.net",
    ],
    ["a SAS signature", "GET /blob?sv=2022&sig=AbCd%2Bef&se=1", "GET /blob?sv=2022&sig=***&se=1"],
    [
      "a private key",
      "-----BEGIN RSA PRIVATE KEY----- MIIEow -----END RSA PRIVATE KEY-----",
      "-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----",
    ],
  ])("masks %s", (_what, text, masked) => {
    expect(redactText(text, ["s3cr3t-Value"])).toBe(masked);
  });

  test("leaves an app's ordinary words alone", () => {
    const line =
      "ERROR request 6f1c-22: GET /orders answered 500 (exit code 1, design=v2, tokens=3 left)";
    expect(redactText(line, ["", "ab"])).toBe(line);
  });

  test("masks every text of the diagnostics", () => {
    const secret = "p4ssw0rd-value";
    const diagnostics: CandidateDiagnostics = {
      revision: "shop--bad",
      collectedAt: "2026-11-27T10:00:00.000Z",
      durationMs: 10,
      state: {
        active: true,
        provisioningState: "Failed",
        runningState: "Failed",
        healthState: "Unhealthy",
        provisioningError: `bad ${secret}`,
      },
      replicas: [{ name: "r", containers: [{ name: "c", runningStateDetails: secret }] }],
      console: [{ replica: "r", container: "c", lines: [{ text: `pw ${secret}` }] }],
      systemEvents: [{ message: secret }],
      failedRequest: {
        check: "GET /",
        method: "GET",
        url: `https://x.test/?key=${secret}`,
        failure: "status 500",
        headers: { "x-request-id": secret },
        bodyPrefix: `{"error":"${secret}"}`,
      },
      warnings: [`at ${secret}`],
    };
    expect(JSON.stringify(redactDiagnostics(diagnostics, [secret]))).not.toContain(secret);
  });
});

describe("describeDiagnostics", () => {
  test("says it line by line, and in one line", async () => {
    const collected = await collectDiagnostics(deps(new FakeDiagnostics()), {
      ...REQUEST,
      failedRequest: {
        check: "GET /health",
        method: "GET",
        url: "https://shop---green.env.test/health",
        status: 500,
        latencyMs: 12,
        failure: "status 500, expected 200-399",
        headers: { "x-request-id": "r-1" },
        bodyPrefix: '{"error":"boom"}',
      },
    });
    const lines = describeDiagnostics(collected);
    expect(lines.slice(0, 8)).toEqual([
      "Revision shop--bad: provisioning Failed, running Failed, health Unhealthy, 1 replica",
      "  Provisioning error: Container crashing: shop",
      "  Running state: 1/1 Container crashing: shop",
      `Replica ${REPLICA.name}: NotRunning`,
      "  Container shop: Waiting, not ready, not started, 3 restarts: Container crashing: shop",
      "  Container sidecar: Running, ready, started, 0 restarts",
      "Failed request (GET /health): GET https://shop---green.env.test/health -> 500 in 12 ms",
      "  Failure: status 500, expected 200-399",
    ]);
    expect(lines).toContain("  x-request-id: r-1");
    expect(lines).toContain(`  Body: {"error":"boom"}`);
    expect(lines).toContain(
      "  Warning Error: Container 'shop' was terminated with exit code '1' (3 times)",
    );
    expect(lines).toContain(`Console of shop in ${REPLICA.name} (last 2 lines):`);
    expect(lines).toContain("  2026-11-27T10:00:00.100Z stderr Error: cannot start");
    expect(headline(collected)).toBe(
      "provisioning Failed, running Failed, health Unhealthy, 1 replica; 3 container restarts; 2 console lines; 2 system events",
    );
  });
});

describe("withinSize", () => {
  test("leaves out the oldest lines of the longest list until the diagnostics fit, and says so", () => {
    const line = (i: number) => ({ text: `${i} ${"x".repeat(MAX_LINE_CHARS)}` });
    const diagnostics: CandidateDiagnostics = {
      revision: "shop--bad",
      collectedAt: "2026-11-27T10:00:00.000Z",
      durationMs: 1,
      console: [
        {
          replica: "r",
          container: "chatty",
          lines: Array.from({ length: 300 }, (_, i) => line(i)),
        },
        { replica: "r", container: "quiet", lines: [line(0)] },
      ],
      systemEvents: [{ message: "exited" }],
      warnings: [],
    };
    const fitted = withinSize(diagnostics);
    expect(JSON.stringify(fitted).length).toBeLessThanOrEqual(MAX_DIAGNOSTICS_CHARS);
    const chatty = fitted.console[0].lines;
    expect(chatty.length).toBeGreaterThan(50);
    expect(chatty.at(-1)).toEqual(line(299));
    expect(fitted.console[1].lines).toEqual([line(0)]);
    expect(fitted.warnings).toEqual([
      "The oldest lines were left out to keep the summary and the output within their size limits.",
    ]);
    const small = { ...diagnostics, console: [] };
    expect(withinSize(small)).toBe(small);
  });
});
