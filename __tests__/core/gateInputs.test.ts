/**
 * The inputs of the gates: defaults, and every mistake reported with the input's name before
 * anything runs.
 */
import { readInputs } from "../../src/core/inputs/validate.ts";

function read(given: Record<string, string>) {
  return readInputs(
    (name) =>
      ({
        "subscription-id": "00000000-0000-0000-0000-000000000001",
        "resource-group": "rg",
        "container-app": "shop",
        image: "registry.test/shop:2",
        ...given,
      })[name],
  );
}

function errors(given: Record<string, string>): string[] {
  const parsed = read(given);
  return parsed.ok ? [] : parsed.errors.map((e) => e.message);
}

describe("gates", () => {
  test("off by default: no gates in the inputs", () => {
    const parsed = read({});
    expect(parsed.ok && parsed.inputs.gates).toBeUndefined();
  });

  test("defaults: 1% false alarms, fail when inconclusive, the smoke checks as the side-by-side mix", () => {
    const parsed = read({
      gates: "side-by-side, production-errors",
      "smoke-path": "/healthz",
      "traffic-steps": "10,100",
    });
    if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join("; "));
    expect(parsed.inputs.gates).toEqual({
      gates: ["side-by-side", "production-errors"],
      inconclusive: "fail",
      maxExtensionMs: 300_000,
      falseAlarmRate: 0.01,
      ingestionAllowanceMs: 300_000,
      judge: {
        minSamples: 50,
        minRequests: 100,
        latencyRatio: 1.2,
        errorRateMargin: 0.02,
        maxErrorRate: 0.05,
      },
      sideBySide: {
        requests: [{ name: "GET /healthz", path: "/healthz", method: "GET", headers: {} }],
        ratePerSecond: 5,
        budget: 600,
        warmUp: 5,
      },
    });
  });

  test("the request mix replaces the smoke checks' requests; only GET and HEAD are sent", () => {
    const parsed = read({
      gates: "side-by-side",
      "side-by-side-requests":
        "- path: /\n- path: /orders?page=2\n  method: head\n  headers:\n    X-Probe: yes",
    });
    if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join("; "));
    expect(parsed.inputs.gates?.sideBySide.requests).toEqual([
      { name: "GET /", path: "/", method: "GET", headers: {} },
      {
        name: "HEAD /orders?page=2",
        path: "/orders?page=2",
        method: "HEAD",
        headers: { "X-Probe": "yes" },
      },
    ]);
    expect(
      errors({ gates: "side-by-side", "side-by-side-requests": "- path: /cart\n  method: POST" }),
    ).toEqual([
      'side-by-side-requests: item 1 `method`: "POST": only GET and HEAD are sent side by side',
    ]);
  });

  test("every bad value names its input", () => {
    expect(errors({ gates: "side-by-side, canary" })).toEqual([
      'gates: "canary" is not a gate; use any of side-by-side, production-errors, production-latency, separated by commas',
    ]);
    expect(
      errors({
        gates: "production-errors",
        inconclusive: "retry",
        "false-alarm-rate": "0%",
        "max-error-rate": "150%",
        "latency-ratio": "0.8",
        "min-requests": "3",
        "ingestion-allowance": "soon",
      }).map((message) => message.split(":")[0]),
    ).toEqual([
      "inconclusive",
      "false-alarm-rate",
      "max-error-rate",
      "latency-ratio",
      "min-requests",
      "ingestion-allowance",
    ]);
  });

  test("thresholds are checked even while no gate is on", () => {
    expect(errors({ "latency-ratio": "fast" })).toEqual([
      'latency-ratio: "fast" is not a ratio of at least 1, such as 1.2 (20% slower)',
    ]);
  });

  test("combinations that could never judge anything are refused", () => {
    expect(errors({ gates: "side-by-side", "step-wait": "0s" })).toEqual([
      "gates: needs `step-wait` above zero: a step that does not bake has nothing to judge",
    ]);
    expect(
      errors({ gates: "side-by-side", "side-by-side-budget": "40", "min-samples": "50" }),
    ).toEqual([
      "side-by-side-budget: 40 requests cannot give 50 samples (`min-samples`) after a warm-up of 5; give at least 55",
    ]);
    expect(errors({ gates: "production-latency", "traffic-steps": "100" })[0]).toMatch(
      /^gates: production-latency compares .* add a step below 100 to `traffic-steps`/,
    );
  });
});
