/**
 * Reads the inputs of the gates (`gates`, their thresholds, the side-by-side request mix) into
 * GateInputs, or into the list of what is wrong, each error naming its input. Read only for the
 * actions whose steps the gates judge.
 */
import { LineCounter, parseDocument } from "yaml";
import { smokePathProblem } from "../checks/spec.ts";
import { parseDuration } from "../duration.ts";
import {
  GATE_NAMES,
  INCONCLUSIVE_POLICIES,
  type GateName,
  type InconclusivePolicy,
} from "../judge/types.ts";
import type { GateInputs, SideBySideRequest, SmokeCheck } from "../types.ts";

type Fail = (input: string, message: string) => void;
type Text = (name: string) => string | undefined;

export interface GateContext {
  smokeChecks: readonly SmokeCheck[];
  stepWaitMs?: number;
  trafficSteps?: number[];
  /** Longest duration any input may have. */
  maxDurationMs: number;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REQUEST_KEYS = ["name", "path", "method", "headers"];

/**
 * `text` gives an input's trimmed value or its schema default; `given` the raw value or undefined.
 * Every input is checked; undefined when `gates` names nothing or something is wrong (which
 * `fail` was told).
 */
export function readGateInputs(
  text: Text,
  given: Text,
  fail: Fail,
  context: GateContext,
): GateInputs | undefined {
  const gates = readGateNames(given("gates"), fail);
  let ok = gates !== undefined;
  const failGate: Fail = (input, message) => {
    ok = false;
    fail(input, message);
  };

  const policyText = text("inconclusive") ?? "";
  const inconclusive = INCONCLUSIVE_POLICIES.find((p) => p === policyText.toLowerCase());
  if (!inconclusive) {
    failGate("inconclusive", `"${policyText}" is not one of ${INCONCLUSIVE_POLICIES.join(", ")}`);
  }
  const maxExtensionMs = readDurationInput("max-bake-extension", text, failGate, context);
  const ingestionAllowanceMs = readDurationInput("ingestion-allowance", text, failGate, context);
  const falseAlarmRate = readPercent("false-alarm-rate", text, failGate, { min: 0, max: 0.5 });
  const maxErrorRate = readPercent("max-error-rate", text, failGate, { min: 0, max: 1 });
  const errorRateMargin = readPercent("error-rate-margin", text, failGate, {
    min: 0,
    max: 1,
    zero: true,
  });
  const latencyRatio = readNumber("latency-ratio", text, failGate, {
    min: 1,
    help: "a ratio of at least 1, such as 1.2 (20% slower)",
  });
  const minSamples = readCount("min-samples", text, failGate, 10);
  const minRequests = readCount("min-requests", text, failGate, 10);
  const warmUp = readCount("side-by-side-warm-up", text, failGate, 0);
  const budget = readCount("side-by-side-budget", text, failGate, 1);
  const ratePerSecond = readNumber("side-by-side-rate", text, failGate, {
    min: 0,
    max: 100,
    exclusiveMin: true,
    help: "a number of requests per second above 0 and at most 100, such as 5",
  });
  const requestsText = given("side-by-side-requests");
  // The thresholds are checked even while no gate is on: a mistake shows before it matters.
  if (!ok || gates === undefined || gates.length === 0) {
    if (requestsText !== undefined) readRequests(requestsText, [], failGate);
    return undefined;
  }
  const requests = gates.includes("side-by-side")
    ? readRequests(requestsText, context.smokeChecks, failGate)
    : [];

  if (context.stepWaitMs === 0) {
    failGate(
      "gates",
      "needs `step-wait` above zero: a step that does not bake has nothing to judge",
    );
  }
  if (
    gates.includes("side-by-side") &&
    budget !== undefined &&
    minSamples !== undefined &&
    warmUp !== undefined &&
    budget < minSamples + warmUp
  ) {
    failGate(
      "side-by-side-budget",
      `${budget} requests cannot give ${minSamples} samples (\`min-samples\`) after a warm-up of ${warmUp}; give at least ${minSamples + warmUp}`,
    );
  }
  const steps = context.trafficSteps;
  if (gates.includes("production-latency") && steps !== undefined && steps.length === 1) {
    failGate(
      "gates",
      'production-latency compares the new revision with the production traffic of the stable revision, which has none at 100%; add a step below 100 to `traffic-steps` (e.g. "20,100")',
    );
  }
  if (!ok) return undefined;
  return {
    gates,
    inconclusive: inconclusive as InconclusivePolicy,
    maxExtensionMs: maxExtensionMs as number,
    falseAlarmRate: falseAlarmRate as number,
    ingestionAllowanceMs: ingestionAllowanceMs as number,
    judge: {
      minSamples: minSamples as number,
      minRequests: minRequests as number,
      latencyRatio: latencyRatio as number,
      errorRateMargin: errorRateMargin as number,
      maxErrorRate: maxErrorRate as number,
    },
    sideBySide: {
      requests,
      ratePerSecond: ratePerSecond as number,
      budget: budget as number,
      warmUp: warmUp as number,
    },
  };
}

function readGateNames(value: string | undefined, fail: Fail): GateName[] | undefined {
  if (value === undefined) return [];
  const names = value
    .split(/[,\n]/)
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const unknown = names.filter((name) => !GATE_NAMES.includes(name as GateName));
  if (unknown.length > 0) {
    fail(
      "gates",
      `${unknown.map((name) => `"${name}"`).join(", ")} ${unknown.length === 1 ? "is not a gate" : "are not gates"}; use any of ${GATE_NAMES.join(", ")}, separated by commas`,
    );
    return undefined;
  }
  return GATE_NAMES.filter((name) => names.includes(name));
}

function readDurationInput(
  name: string,
  text: Text,
  fail: Fail,
  context: GateContext,
): number | undefined {
  const value = text(name) ?? "";
  const ms = parseDuration(value);
  if (ms === undefined) {
    fail(name, `"${value}" is not a duration; use a number with a unit such as 30s, 5m or 1h`);
    return undefined;
  }
  if (ms > context.maxDurationMs) {
    fail(name, `"${value}" is longer than the maximum of 24h`);
    return undefined;
  }
  return ms;
}

/** `1%`, `0.5%` or a fraction such as `0.01`. */
function readPercent(
  name: string,
  text: Text,
  fail: Fail,
  range: { min: number; max: number; zero?: boolean },
): number | undefined {
  const value = (text(name) ?? "").trim();
  const match = /^(\d+(?:\.\d+)?)\s*(%?)$/.exec(value);
  const fraction = match ? Number(match[1]) / (match[2] ? 100 : 1) : Number.NaN;
  const low = range.zero ? fraction >= range.min : fraction > range.min;
  if (!match || !low || fraction > range.max) {
    const from = range.zero ? `from ${range.min * 100}%` : `above ${range.min * 100}%`;
    fail(
      name,
      `"${value}" is not a percentage ${from} and at most ${range.max * 100}% (e.g. "1%")`,
    );
    return undefined;
  }
  return fraction;
}

function readNumber(
  name: string,
  text: Text,
  fail: Fail,
  range: { min: number; max?: number; exclusiveMin?: boolean; help: string },
): number | undefined {
  const value = (text(name) ?? "").trim();
  const number = /^\d+(?:\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  const low = range.exclusiveMin ? number > range.min : number >= range.min;
  if (!low || (range.max !== undefined && number > range.max)) {
    fail(name, `"${value}" is not ${range.help}`);
    return undefined;
  }
  return number;
}

function readCount(name: string, text: Text, fail: Fail, min: number): number | undefined {
  const value = (text(name) ?? "").trim();
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > 1_000_000) {
    fail(name, `"${value}" is not a whole number from ${min} to 1000000`);
    return undefined;
  }
  return Number(value);
}

/** The side-by-side mix: the YAML list when given, else the smoke checks' GET and HEAD requests. */
function readRequests(
  value: string | undefined,
  smokeChecks: readonly SmokeCheck[],
  fail: Fail,
): SideBySideRequest[] {
  const input = "side-by-side-requests";
  if (value === undefined) {
    const safe = smokeChecks.filter((check) => check.method === "GET" || check.method === "HEAD");
    if (safe.length === 0) {
      fail(
        input,
        "is needed: the smoke checks have no GET or HEAD request to send side by side; list the paths to compare (e.g. `- path: /`)",
      );
    }
    return safe.map((check) => ({
      name: check.name,
      path: check.path,
      method: check.method as "GET" | "HEAD",
      headers: { ...check.headers },
    }));
  }
  const lines = new LineCounter();
  const document = parseDocument(value, { lineCounter: lines, prettyErrors: false });
  if (document.errors.length > 0) {
    const { line, col } = lines.linePos(document.errors[0].pos[0]);
    fail(input, `is not valid YAML at line ${line}, column ${col}`);
    return [];
  }
  const list: unknown = document.toJS();
  if (!Array.isArray(list) || list.length === 0) {
    fail(input, "must be a non-empty YAML list of requests, each with a `path` (e.g. `- path: /`)");
    return [];
  }
  const requests: SideBySideRequest[] = [];
  list.forEach((item: unknown, index) => {
    const at = (key?: string) => `item ${index + 1}${key ? ` \`${key}\`` : ""}`;
    const bad = (key: string | undefined, message: string) => fail(input, `${at(key)}: ${message}`);
    if (!isMapping(item)) {
      bad(undefined, "must be a mapping with a `path`");
      return;
    }
    let broken = false;
    const wrong = (key: string | undefined, message: string) => {
      broken = true;
      bad(key, message);
    };
    for (const key of Object.keys(item)) {
      if (!REQUEST_KEYS.includes(key)) {
        wrong(key, `unknown key; the keys of a request are ${REQUEST_KEYS.join(", ")}`);
      }
    }
    const path = item.path;
    if (typeof path !== "string") wrong("path", "is required, a text starting with '/'");
    else {
      const problem = smokePathProblem(path);
      if (problem) wrong("path", `"${path}" ${problem}`);
    }
    const method = typeof item.method === "string" ? item.method.toUpperCase() : "GET";
    if (item.method !== undefined && method !== "GET" && method !== "HEAD") {
      // Every request goes to both revisions: only requests without side effects are sent.
      wrong("method", `${JSON.stringify(item.method)}: only GET and HEAD are sent side by side`);
    }
    const headers: Record<string, string> = {};
    if (item.headers !== undefined) {
      if (!isMapping(item.headers)) wrong("headers", "must be a mapping of header names to values");
      else {
        for (const [name, raw] of Object.entries(item.headers)) {
          const text = typeof raw === "object" || raw === undefined ? undefined : String(raw);
          // Header values may carry credentials, so the message never repeats them.
          if (!HEADER_NAME.test(name)) wrong(`headers.${name}`, "is not a valid HTTP header name");
          else if (text === undefined || /[\r\n\0]/.test(text)) {
            wrong(`headers.${name}`, "must be a text on one line");
          } else headers[name] = text;
        }
      }
    }
    if (broken || typeof path !== "string") return;
    const name = typeof item.name === "string" && item.name.trim() ? item.name.trim() : undefined;
    requests.push({
      name: name ?? `${method} ${path}`,
      path,
      method: method as "GET" | "HEAD",
      headers,
    });
  });
  return requests;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
