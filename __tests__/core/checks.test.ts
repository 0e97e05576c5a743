import {
  BODY_PREFIX_CHARS,
  evaluateCheck,
  type HttpOutcome,
} from "../../src/core/checks/evaluate.ts";
import { parseJsonPath, resolveJsonPath } from "../../src/core/checks/jsonPath.ts";
import {
  ProbeFailure,
  runCheckRound,
  waitForPassingRound,
  type HttpProbe,
  type HttpRequest,
} from "../../src/core/checks/run.ts";
import { defaultSmokeCheck, parseSmokeChecks } from "../../src/core/checks/spec.ts";
import type { SmokeCheck } from "../../src/core/types.ts";
import { VirtualClock } from "./support/virtualClock.ts";

function messagesOf(yaml: string): string[] {
  const parsed = parseSmokeChecks(yaml);
  expect(parsed.checks).toEqual([]);
  return parsed.errors.map((error) => {
    expect(error.input).toBe("smoke-checks");
    return error.message;
  });
}

describe("parseSmokeChecks", () => {
  test("a YAML alias bomb is refused with a message naming the input", () => {
    const level = (name: string, of: string) =>
      `${name}: &${name} [${Array.from({ length: 9 }, () => of).join(", ")}]`;
    const bomb = [
      level("a", '"lol"'),
      level("b", "*a"),
      level("c", "*b"),
      level("d", "*c"),
      level("e", "*d"),
      level("f", "*e"),
      "checks: *f",
    ].join("\n");
    const parsed = parseSmokeChecks(bomb);
    expect(parsed.checks).toEqual([]);
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0].input).toBe("smoke-checks");
    expect(parsed.errors[0].message).toMatch(/^smoke-checks: cannot be read: .*aliases/);
  });

  it("reads every key of a check", () => {
    const parsed = parseSmokeChecks(`
- name: orders api
  path: /api/orders?limit=1
  method: post
  headers:
    Authorization: Bearer abc
    X-Retry: 3
  body: |
    {"dryRun": true}
  status: [200, "201-204"]
  body-contains: '"ok"'
  body-regex: '"count":\\s*\\d+'
  json:
    path: items[0].state
    equals: ready
  max-latency: 750ms
`);
    expect(parsed.errors).toEqual([]);
    expect(parsed.checks).toEqual([
      {
        name: "orders api",
        path: "/api/orders?limit=1",
        method: "POST",
        headers: { Authorization: "Bearer abc", "X-Retry": "3" },
        body: '{"dryRun": true}\n',
        expectStatus: [
          { min: 200, max: 200 },
          { min: 201, max: 204 },
        ],
        bodyContains: '"ok"',
        bodyRegex: '"count":\\s*\\d+',
        json: { path: "items[0].state", equals: "ready" },
        maxLatencyMs: 750,
      },
    ]);
  });

  it("fills the defaults of a minimal check", () => {
    const parsed = parseSmokeChecks("- path: /health\n- path: /ready\n  status: 204\n");
    expect(parsed.checks).toEqual([
      defaultSmokeCheck("/health"),
      { ...defaultSmokeCheck("/ready"), expectStatus: [{ min: 204, max: 204 }] },
    ]);
  });

  it("keeps json values that are numbers, booleans or null", () => {
    const parsed = parseSmokeChecks(
      "- path: /a\n  json: {path: count, equals: 3}\n- path: /b\n  json: {path: up, equals: true}\n- path: /c\n  json: {path: error, equals: null}\n",
    );
    expect(parsed.checks.map((check) => check.json?.equals)).toEqual([3, true, null]);
  });

  it("names the list position and key of each mistake, all at once", () => {
    expect(
      messagesOf(`
- path: /ok
- path: /a
  status: 2xx
- path: health
  colour: blue
`),
    ).toEqual([
      'smoke-checks[1].status: "2xx" is not a status code or range (e.g. 200, "200-299")',
      "smoke-checks[2].colour: unknown key; the keys of a check are name, path, method, headers, body, status, body-contains, body-regex, json, max-latency",
      "smoke-checks[2].path: \"health\" must start with '/'",
    ]);
  });

  it.each([
    ["- name: no path\n", "smoke-checks[0].path: is required (e.g. `path: /health`)"],
    ["- path: 42\n", "smoke-checks[0].path: must be a text starting with '/', not number 42"],
    ["- path: /a\n  method: FETCH\n", 'smoke-checks[0].method: "FETCH" is not one of GET, HEAD'],
    ["- path: /a\n  status: 700\n", "smoke-checks[0].status: 700 is not a status code or range"],
    ["- path: /a\n  status: 299-200\n", 'smoke-checks[0].status: "299-200" is not a status code'],
    ["- path: /a\n  status: []\n", "smoke-checks[0].status: is an empty list"],
    [
      "- path: /a\n  body-regex: '(unclosed'\n",
      'smoke-checks[0].body-regex: "(unclosed" is not a valid regular expression',
    ],
    [
      "- path: /a\n  body-contains: 5\n",
      "smoke-checks[0].body-contains: must be a non-empty text, not number 5",
    ],
    ["- path: /a\n  json: {path: status}\n", "smoke-checks[0].json.equals: is required"],
    [
      "- path: /a\n  json: {path: 'a..b', equals: 1}\n",
      'smoke-checks[0].json.path: "a..b" is not a JSON path',
    ],
    [
      "- path: /a\n  json: {path: a, equals: [1]}\n",
      "smoke-checks[0].json.equals: must be a text, number, boolean or null, not a list",
    ],
    ["- path: /a\n  json: {path: a, equals: 1, op: eq}\n", "smoke-checks[0].json.op: unknown key"],
    [
      "- path: /a\n  json: status\n",
      "smoke-checks[0].json: must be a mapping with `path` and `equals`",
    ],
    [
      "- path: /a\n  max-latency: fast\n",
      'smoke-checks[0].max-latency: "fast" is not a positive duration',
    ],
    [
      "- path: /a\n  max-latency: 0ms\n",
      'smoke-checks[0].max-latency: "0ms" is not a positive duration',
    ],
    [
      "- path: /a\n  headers: [a, b]\n",
      "smoke-checks[0].headers: must be a mapping of header names to values, not a list",
    ],
    [
      "- path: /a\n  headers: {'bad name': x}\n",
      "smoke-checks[0].headers.bad name: is not a valid HTTP header name",
    ],
    [
      "- path: /a\n  headers: {X-A: {b: 1}}\n",
      "smoke-checks[0].headers.X-A: must be a text, not a mapping",
    ],
    [
      "- path: /a\n  body: hello\n",
      "smoke-checks[0].body: cannot be sent with GET; use POST, PUT or PATCH",
    ],
    [
      "- path: /a\n  method: POST\n  body: {a: 1}\n",
      "smoke-checks[0].body: must be a text (use a YAML block such as `body: |`), not a mapping",
    ],
    ["- path: /a\n  name: ''\n", "smoke-checks[0].name: must be a non-empty text"],
    [
      "- /health\n",
      'smoke-checks[0]: must be a mapping with at least a `path`, not string "/health"',
    ],
    [
      "- path: /a\n- path: /a\n",
      'smoke-checks[1].name: "GET /a" is already the name of `smoke-checks[0]`',
    ],
    ["path: /a\n", "smoke-checks: must be a YAML list of checks"],
    ["[]\n", "smoke-checks: is an empty list"],
    ["- path: /a\n  status: [200\n", "smoke-checks: is not valid YAML at line"],
    ["- path: /a\n  path: /b\n", "smoke-checks: is not valid YAML at line 2"],
  ])("rejects %j", (yaml, expected) => {
    const messages = messagesOf(yaml);
    expect(messages.some((message) => message.startsWith(expected))).toBe(true);
  });

  it("never repeats a header value in an error", () => {
    const messages = messagesOf(
      '- path: /a\n  headers:\n    Authorization: "Bearer t0ken\\nX: y"\n',
    );
    expect(messages).toEqual([
      "smoke-checks[0].headers.Authorization: must not contain line breaks",
    ]);
  });
});

describe("JSON paths", () => {
  const document = {
    status: "ok",
    items: [{ name: "a" }, { name: "b", tags: ["x", "y"] }],
    "db.primary": { up: true },
    nothing: null,
  };

  it.each([
    ["status", "ok"],
    ["$.status", "ok"],
    ["items[1].name", "b"],
    ["items[1].tags[0]", "x"],
    ['["db.primary"].up', true],
    ["$['db.primary'].up", true],
    ["nothing", null],
    ["items[0]", { name: "a" }],
  ])("resolves %s", (path, value) => {
    const segments = parseJsonPath(path);
    expect(segments).toBeDefined();
    expect(resolveJsonPath(document, segments ?? [])).toEqual({ found: true, value });
  });

  it.each(["missing", "items[5].name", "status.length", "items.name", "nothing.x"])(
    "finds nothing at %s",
    (path) => {
      expect(resolveJsonPath(document, parseJsonPath(path) ?? [])).toEqual({ found: false });
    },
  );

  it.each(["", "a..b", ".a", "a.", "a[", "a[x]", "a b", "[-1]"])("refuses %j", (path) => {
    expect(parseJsonPath(path)).toBeUndefined();
  });
});

describe("evaluateCheck", () => {
  const url = "https://my-api---green.example.io/health";
  const check: SmokeCheck = defaultSmokeCheck("/health");
  const response = (fields: Partial<HttpOutcome>): HttpOutcome => ({
    status: 200,
    headers: {},
    body: "",
    latencyMs: 12,
    ...fields,
  });

  it("passes a response that meets every expectation", () => {
    const full: SmokeCheck = {
      ...check,
      bodyContains: "ok",
      bodyRegex: "^\\{",
      json: { path: "status", equals: "ok" },
      maxLatencyMs: 500,
    };
    expect(
      evaluateCheck(full, url, response({ body: '{"status":"ok"}', latencyMs: 40.4 })),
    ).toEqual({
      check: "GET /health",
      url,
      ok: true,
      status: 200,
      latencyMs: 40,
    });
  });

  it.each([
    [{}, { status: 500 }, "status 500, expected 200-399"],
    [
      {
        expectStatus: [
          { min: 200, max: 200 },
          { min: 204, max: 204 },
        ],
      },
      { status: 201 },
      "status 201, expected 200, 204",
    ],
    [{ bodyContains: "ok" }, { body: "degraded" }, 'body lacks "ok"'],
    [{ bodyRegex: "v\\d+" }, { body: "version: none" }, "body does not match /v\\d+/"],
    [
      { json: { path: "status", equals: "ok" } },
      { body: '{"status":"down"}' },
      'json status = "down", expected "ok"',
    ],
    [
      { json: { path: "count", equals: 3 } },
      { body: '{"count":"3"}' },
      'json count = "3", expected 3',
    ],
    [
      { json: { path: "db.up", equals: true } },
      { body: '{"db":{}}' },
      "json db.up is missing, expected true",
    ],
    [
      { json: { path: "status", equals: "ok" } },
      { body: "<html>" },
      'body is not JSON (starts with "<html>"), expected json status = "ok"',
    ],
    [{ maxLatencyMs: 500 }, { latencyMs: 812.2 }, "latency 812 ms over the 500 ms budget"],
  ] as [Partial<SmokeCheck>, Partial<HttpOutcome>, string][])(
    "says what was expected and what came: %j %j",
    (expectation, outcome, failure) => {
      const result = evaluateCheck({ ...check, ...expectation }, url, response(outcome));
      expect(result.ok).toBe(false);
      expect(result.failure).toBe(failure);
    },
  );

  it("lists every failed expectation", () => {
    const result = evaluateCheck(
      { ...check, bodyContains: "ok", maxLatencyMs: 100 },
      url,
      response({ status: 503, body: "busy", latencyMs: 150 }),
    );
    expect(result.failure).toBe(
      'status 503, expected 200-399; body lacks "ok"; latency 150 ms over the 100 ms budget',
    );
    expect(result.status).toBe(503);
  });

  it("reports a transport failure as it came, with the request's method and how long it waited", () => {
    expect(evaluateCheck(check, url, { error: "connection refused" })).toEqual({
      check: "GET /health",
      url,
      ok: false,
      failure: "connection refused",
      method: "GET",
    });
    expect(
      evaluateCheck(check, url, {
        error: "no complete response within 10000 ms",
        latencyMs: 10_002.4,
      }),
    ).toMatchObject({ latencyMs: 10_002, method: "GET" });
  });

  it("keeps what a failed check's answer said: its request-id and x-ms-* headers and the first bytes of its body", () => {
    const body = `{"error":"boom","padding":"${"x".repeat(1_000)}"}`;
    const result = evaluateCheck(
      { ...check, method: "POST" },
      url,
      response({
        status: 500,
        body,
        headers: {
          "content-type": "application/json",
          "x-request-id": "r-1",
          "x-ms-request-id": "ms-2",
          "x-ms-client-request-id": "c-3",
          "x-correlation-id": "k-4",
          traceparent: "00-abc-def-01",
          "set-cookie": "session=secret",
        },
      }),
    );
    expect(result).toMatchObject({ ok: false, status: 500, method: "POST" });
    expect(result.headers).toEqual({
      "x-request-id": "r-1",
      "x-ms-request-id": "ms-2",
      "x-ms-client-request-id": "c-3",
      "x-correlation-id": "k-4",
      traceparent: "00-abc-def-01",
    });
    expect(result.bodyPrefix).toBe(body.slice(0, BODY_PREFIX_CHARS));
    expect(BODY_PREFIX_CHARS).toBeLessThan(body.length);
  });

  it("keeps nothing of a passing check's answer", () => {
    const result = evaluateCheck(check, url, response({ headers: { "x-request-id": "r-1" } }));
    expect(result).toEqual({ check: "GET /health", url, ok: true, status: 200, latencyMs: 12 });
  });
});

interface ProbeCall {
  request: HttpRequest;
  at: number;
}

/** Answers each request with `answer(attempt)`, taking `latencyMs` of fake time. */
function fakeProbe(
  clock: VirtualClock,
  answer: (call: number, request: HttpRequest) => HttpOutcome | Error,
  latencyMs = 0,
): HttpProbe & { calls: ProbeCall[] } {
  const calls: ProbeCall[] = [];
  return {
    calls,
    send(request) {
      calls.push({ request, at: clock.now() });
      const outcome = answer(calls.length, request);
      clock.time += Math.min(latencyMs, request.timeoutMs);
      return outcome instanceof Error ? Promise.reject(outcome) : Promise.resolve(outcome);
    },
  };
}

const ok = (body = "ok"): HttpOutcome => ({ status: 200, headers: {}, body, latencyMs: 5 });
const status = (code: number): HttpOutcome => ({
  status: code,
  headers: {},
  body: "",
  latencyMs: 5,
});

describe("runCheckRound", () => {
  it("runs the checks of a round in parallel and joins the URLs", async () => {
    let inFlight = 0;
    let most = 0;
    const urls: string[] = [];
    const probe: HttpProbe = {
      async send(request) {
        urls.push(request.url);
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
        return request.url.endsWith("/b") ? status(500) : ok();
      },
    };
    const checks = [defaultSmokeCheck("/a"), defaultSmokeCheck("/b"), defaultSmokeCheck("/c?x=1")];
    const round = await runCheckRound("https://app---green.example.io/", checks, probe, 1000);
    expect(most).toBe(3);
    expect(urls).toEqual([
      "https://app---green.example.io/a",
      "https://app---green.example.io/b",
      "https://app---green.example.io/c?x=1",
    ]);
    expect(round.ok).toBe(false);
    expect(round.results.map((result) => [result.check, result.ok])).toEqual([
      ["GET /a", true],
      ["GET /b", false],
      ["GET /c?x=1", true],
    ]);
  });

  it("sends method, headers, body and timeout, and turns a rejection into a failure", async () => {
    const clock = new VirtualClock(1_000_000);
    const probe = fakeProbe(clock, () => new Error("connection refused"));
    const check: SmokeCheck = {
      ...defaultSmokeCheck("/orders"),
      method: "POST",
      headers: { "X-Probe": "1" },
      body: "{}",
    };
    const round = await runCheckRound("http://127.0.0.1:9", [check], probe, 750);
    expect(probe.calls[0].request).toEqual({
      url: "http://127.0.0.1:9/orders",
      method: "POST",
      headers: { "X-Probe": "1" },
      body: "{}",
      timeoutMs: 750,
    });
    expect(round).toEqual({
      ok: false,
      results: [
        {
          check: "GET /orders",
          url: "http://127.0.0.1:9/orders",
          ok: false,
          failure: "connection refused",
          method: "POST",
        },
      ],
    });
  });

  it("keeps how long a request waited when the probe says so", async () => {
    const clock = new VirtualClock(1_000_000);
    const probe = fakeProbe(
      clock,
      () => new ProbeFailure("no complete response within 750 ms", 751),
    );
    const round = await runCheckRound("http://127.0.0.1:9", [defaultSmokeCheck("/")], probe, 750);
    expect(round.results[0]).toMatchObject({
      ok: false,
      latencyMs: 751,
      failure: "no complete response within 750 ms",
    });
  });
});

describe("waitForPassingRound", () => {
  const checks = [defaultSmokeCheck("/health")];
  const baseUrl = "https://app---green.example.io";

  it("retries until a round passes", async () => {
    const clock = new VirtualClock(1_000_000);
    const start = clock.now();
    const probe = fakeProbe(clock, (call) => (call < 3 ? status(503) : ok()), 200);
    const rounds: [boolean, number][] = [];
    const outcome = await waitForPassingRound({
      baseUrl,
      checks,
      probe,
      clock,
      deadline: start + 60_000,
      intervalMs: 10_000,
      requestTimeoutMs: 5_000,
      onRound: (round, attempt) => rounds.push([round.ok, attempt]),
    });
    expect(outcome.ok).toBe(true);
    expect(outcome.attempts).toBe(3);
    expect(outcome.round.results[0]).toMatchObject({ ok: true, status: 200 });
    expect(rounds).toEqual([
      [false, 1],
      [false, 2],
      [true, 3],
    ]);
    // Rounds start every interval: the time a round took is not added on top.
    expect(probe.calls.map((call) => call.at - start)).toEqual([0, 10_000, 20_000]);
    expect(clock.sleeps).toEqual([9_800, 9_800]);
  });

  it("fails at the deadline with the last round's results", async () => {
    const clock = new VirtualClock(1_000_000);
    const start = clock.now();
    const probe = fakeProbe(clock, (call) => status(500 + call), 100);
    const outcome = await waitForPassingRound({
      baseUrl,
      checks,
      probe,
      clock,
      deadline: start + 25_000,
      intervalMs: 10_000,
      requestTimeoutMs: 5_000,
    });
    expect(outcome.ok).toBe(false);
    expect(outcome.attempts).toBe(3);
    expect(outcome.round.results[0].failure).toBe("status 503, expected 200-399");
    expect(clock.now()).toBeLessThanOrEqual(start + 25_000);
  });

  it("never sleeps past the deadline, and no request outlives it", async () => {
    const clock = new VirtualClock(1_000_000);
    const start = clock.now();
    const deadline = start + 12_500;
    const probe = fakeProbe(clock, () => status(503), 4_000);
    const outcome = await waitForPassingRound({
      baseUrl,
      checks,
      probe,
      clock,
      deadline,
      intervalMs: 3_000,
      requestTimeoutMs: 5_000,
    });
    expect(outcome.ok).toBe(false);
    for (const call of probe.calls) {
      expect(call.at + call.request.timeoutMs).toBeLessThanOrEqual(deadline);
    }
    expect(probe.calls.map((call) => call.request.timeoutMs)).toEqual([5_000, 5_000, 4_500, 500]);
    expect(clock.now()).toBeLessThanOrEqual(deadline);
  });

  it("sends nothing when the deadline has already passed", async () => {
    const clock = new VirtualClock(1_000_000);
    const probe = fakeProbe(clock, () => ok());
    const outcome = await waitForPassingRound({
      baseUrl,
      checks,
      probe,
      clock,
      deadline: clock.now() - 1,
      intervalMs: 1_000,
      requestTimeoutMs: 1_000,
    });
    expect(probe.calls).toEqual([]);
    expect(outcome).toEqual({
      ok: false,
      attempts: 0,
      round: {
        ok: false,
        results: [
          {
            check: "GET /health",
            url: `${baseUrl}/health`,
            ok: false,
            failure: "not run: the deadline had passed",
          },
        ],
      },
    });
  });

  it("stops with the signal's reason when cancelled", async () => {
    const clock = new VirtualClock(1_000_000);
    const controller = new AbortController();
    const probe = fakeProbe(clock, (call) => {
      if (call === 2) controller.abort(new Error("cancelled by the run"));
      return status(503);
    });
    await expect(
      waitForPassingRound({
        baseUrl,
        checks,
        probe,
        clock,
        deadline: clock.now() + 60_000,
        intervalMs: 1_000,
        requestTimeoutMs: 1_000,
        signal: controller.signal,
      }),
    ).rejects.toThrow("cancelled by the run");
    expect(probe.calls).toHaveLength(2);
    expect(probe.calls[1].request.signal).toBe(controller.signal);
  });
});
