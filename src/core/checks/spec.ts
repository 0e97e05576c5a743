/**
 * Reads the `smoke-checks` input (a YAML list) into SmokeCheck values, reporting every mistake with
 * its list position and key.
 */
import { LineCounter, parseDocument } from "yaml";
import { parseDuration } from "../duration.ts";
import { errorMessage } from "../failure.ts";
import type { InputError, SmokeCheck, StatusRange } from "../types.ts";
import { parseJsonPath } from "./jsonPath.ts";

const INPUT = "smoke-checks";

export const DEFAULT_EXPECT_STATUS: readonly StatusRange[] = [{ min: 200, max: 399 }];

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const KEYS = [
  "name",
  "path",
  "method",
  "headers",
  "body",
  "status",
  "body-contains",
  "body-regex",
  "json",
  "max-latency",
];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The single GET check that `smoke-path` stands for. */
export function defaultSmokeCheck(path: string): SmokeCheck {
  return {
    name: `GET ${path}`,
    path,
    method: "GET",
    headers: {},
    expectStatus: DEFAULT_EXPECT_STATUS.map((range) => ({ ...range })),
  };
}

/** Why a check path is unusable, or undefined when it is fine. */
export function smokePathProblem(path: string): string | undefined {
  if (!path.startsWith("/")) return "must start with '/'";
  if (/\s/.test(path)) return "must not contain spaces (percent-encode them as %20)";
  if (path.includes("#")) return "must not contain a fragment ('#')";
  return undefined;
}

/** `200-399`, `200, 204`, `200, 300-399`. */
export function formatStatusRanges(ranges: readonly StatusRange[]): string {
  return ranges
    .map((range) => (range.min === range.max ? `${range.min}` : `${range.min}-${range.max}`))
    .join(", ");
}

export function parseSmokeChecks(text: string): { checks: SmokeCheck[]; errors: InputError[] } {
  const errors: InputError[] = [];
  const fail = (where: string, message: string) =>
    errors.push({ input: INPUT, message: `${INPUT}${where}: ${message}` });

  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    for (const error of document.errors) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      fail("", `is not valid YAML at line ${line}, column ${col}: ${firstLine(error.message)}`);
    }
    return { checks: [], errors };
  }
  let list: unknown;
  try {
    // The parser refuses documents whose aliases expand without bound (a "billion laughs").
    list = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    fail(
      "",
      `cannot be read: ${firstLine(errorMessage(error))}; write the checks without YAML aliases`,
    );
    return { checks: [], errors };
  }
  if (!Array.isArray(list)) {
    fail("", "must be a YAML list of checks, each with at least a `path` (e.g. `- path: /health`)");
    return { checks: [], errors };
  }
  if (list.length === 0) {
    fail("", "is an empty list; give at least one check, or leave `smoke-checks` out");
    return { checks: [], errors };
  }

  const checks: SmokeCheck[] = [];
  const names = new Map<string, number>();
  list.forEach((item: unknown, index) => {
    const at = (key?: string) => `[${index}]${key === undefined ? "" : `.${key}`}`;
    const before = errors.length;
    const check = parseCheck(item, (key, message) => fail(at(key), message));
    if (!check || errors.length > before) return;
    const first = names.get(check.name);
    if (first !== undefined) {
      fail(at("name"), `"${check.name}" is already the name of \`smoke-checks[${first}]\``);
      return;
    }
    names.set(check.name, index);
    checks.push(check);
  });
  return { checks: errors.length === 0 ? checks : [], errors };
}

type Fail = (key: string | undefined, message: string) => void;

function parseCheck(item: unknown, fail: Fail): SmokeCheck | undefined {
  if (!isMapping(item)) {
    fail(undefined, `must be a mapping with at least a \`path\`, not ${describe(item)}`);
    return undefined;
  }
  for (const key of Object.keys(item)) {
    if (!KEYS.includes(key)) fail(key, `unknown key; the keys of a check are ${KEYS.join(", ")}`);
  }

  const path = item.path;
  if (path === undefined) {
    fail("path", "is required (e.g. `path: /health`)");
  } else if (typeof path !== "string") {
    fail("path", `must be a text starting with '/', not ${describe(path)}`);
  } else {
    const problem = smokePathProblem(path);
    if (problem) fail("path", `"${path}" ${problem}`);
  }

  let method = "GET";
  if (item.method !== undefined) {
    if (typeof item.method === "string" && METHODS.includes(item.method.toUpperCase())) {
      method = item.method.toUpperCase();
    } else {
      fail("method", `${quote(item.method)} is not one of ${METHODS.join(", ")}`);
    }
  }

  const headers = parseHeaders(item.headers, fail);

  let body: string | undefined;
  if (item.body !== undefined) {
    if (typeof item.body !== "string") {
      fail(
        "body",
        `must be a text (use a YAML block such as \`body: |\`), not ${describe(item.body)}`,
      );
    } else if (method === "GET" || method === "HEAD") {
      fail("body", `cannot be sent with ${method}; use POST, PUT or PATCH`);
    } else {
      body = item.body;
    }
  }

  const expectStatus =
    item.status === undefined
      ? DEFAULT_EXPECT_STATUS.map((range) => ({ ...range }))
      : parseStatus(item.status, fail);

  const bodyContains = optionalText(item, "body-contains", fail);
  const bodyRegex = optionalText(item, "body-regex", fail);
  if (bodyRegex !== undefined) {
    try {
      new RegExp(bodyRegex);
    } catch (error) {
      fail(
        "body-regex",
        `${quote(bodyRegex)} is not a valid regular expression: ${message(error)}`,
      );
    }
  }

  const json = item.json === undefined ? undefined : parseJsonCheck(item.json, fail);

  let maxLatencyMs: number | undefined;
  if (item["max-latency"] !== undefined) {
    const raw = item["max-latency"];
    const parsed =
      typeof raw === "string" || typeof raw === "number" ? parseDuration(String(raw)) : undefined;
    if (parsed === undefined || parsed <= 0) {
      fail("max-latency", `${quote(raw)} is not a positive duration such as 500ms, 2s or 1.5s`);
    } else {
      maxLatencyMs = parsed;
    }
  }

  let name = `${method} ${typeof path === "string" ? path : ""}`;
  if (item.name !== undefined) {
    if (typeof item.name === "string" && item.name.trim() !== "") name = item.name.trim();
    else fail("name", `must be a non-empty text, not ${describe(item.name)}`);
  }

  if (typeof path !== "string" || !expectStatus) return undefined;
  return {
    name,
    path,
    method,
    headers,
    ...(body !== undefined && { body }),
    expectStatus,
    ...(bodyContains !== undefined && { bodyContains }),
    ...(bodyRegex !== undefined && { bodyRegex }),
    ...(json && { json }),
    ...(maxLatencyMs !== undefined && { maxLatencyMs }),
  };
}

function parseHeaders(value: unknown, fail: Fail): Record<string, string> {
  const headers: Record<string, string> = {};
  if (value === undefined) return headers;
  if (!isMapping(value)) {
    fail("headers", `must be a mapping of header names to values, not ${describe(value)}`);
    return headers;
  }
  for (const [name, raw] of Object.entries(value)) {
    if (!HEADER_NAME.test(name)) {
      fail(`headers.${name}`, "is not a valid HTTP header name");
    } else if (typeof raw === "string" || typeof raw === "number" || typeof raw === "boolean") {
      const text = String(raw);
      // Header values may carry credentials, so the message never repeats them.
      if (/[\r\n\0]/.test(text)) fail(`headers.${name}`, "must not contain line breaks");
      else headers[name] = text;
    } else {
      fail(`headers.${name}`, `must be a text, not ${describe(raw)}`);
    }
  }
  return headers;
}

function parseStatus(value: unknown, fail: Fail): StatusRange[] | undefined {
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) {
    fail("status", "is an empty list; give a code such as 200 or a range such as 200-299");
    return undefined;
  }
  const ranges: StatusRange[] = [];
  for (const entry of items) {
    const range = parseStatusEntry(entry);
    if (range) ranges.push(range);
    else fail("status", `${quote(entry)} is not a status code or range (e.g. 200, "200-299")`);
  }
  return ranges.length === items.length ? ranges : undefined;
}

function parseStatusEntry(entry: unknown): StatusRange | undefined {
  const text = typeof entry === "number" ? String(entry) : typeof entry === "string" ? entry : "";
  const match = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/.exec(text);
  if (!match) return undefined;
  const min = Number(match[1]);
  const max = Number(match[2] ?? match[1]);
  if (min < 100 || max > 599 || min > max) return undefined;
  return { min, max };
}

function parseJsonCheck(value: unknown, fail: Fail): SmokeCheck["json"] {
  if (!isMapping(value)) {
    fail("json", `must be a mapping with \`path\` and \`equals\`, not ${describe(value)}`);
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (key !== "path" && key !== "equals") {
      fail(`json.${key}`, "unknown key; `json` takes `path` and `equals`");
    }
  }
  let ok = true;
  const { path, equals } = value;
  if (typeof path !== "string" || parseJsonPath(path) === undefined) {
    fail(
      "json.path",
      path === undefined
        ? "is required (e.g. `path: status` or `path: items[0].name`)"
        : `${quote(path)} is not a JSON path such as status or items[0].name`,
    );
    ok = false;
  }
  if (!Object.hasOwn(value, "equals")) {
    fail("json.equals", "is required: the value expected at `json.path`");
    ok = false;
  } else if (
    equals !== null &&
    typeof equals !== "string" &&
    typeof equals !== "number" &&
    typeof equals !== "boolean"
  ) {
    fail("json.equals", `must be a text, number, boolean or null, not ${describe(equals)}`);
    ok = false;
  }
  return ok
    ? { path: path as string, equals: equals as string | number | boolean | null }
    : undefined;
}

function optionalText(item: Record<string, unknown>, key: string, fail: Fail): string | undefined {
  const value = item[key];
  if (value === undefined) return undefined;
  if (typeof value === "string" && value !== "") return value;
  fail(key, `must be a non-empty text, not ${describe(value)}`);
  return undefined;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${quote(value)}`;
}

function quote(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0];
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
