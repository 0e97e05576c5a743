/**
 * Judges one HTTP response (or transport failure) against a smoke check, saying in words what was
 * expected and what came.
 */
import type { CheckResult, SmokeCheck } from "../types.ts";
import { parseJsonPath, resolveJsonPath } from "./jsonPath.ts";
import { formatStatusRanges } from "./spec.ts";

export interface HttpOutcome {
  status: number;
  headers: Record<string, string>;
  body: string;
  latencyMs: number;
}

export type ProbeOutcome = HttpOutcome | { error: string };

const MAX_SHOWN = 80;

export function evaluateCheck(check: SmokeCheck, url: string, outcome: ProbeOutcome): CheckResult {
  if ("error" in outcome) {
    return { check: check.name, url, ok: false, failure: outcome.error };
  }
  const failures: string[] = [];
  const { status, body } = outcome;
  const latencyMs = Math.round(outcome.latencyMs);

  if (!check.expectStatus.some((range) => status >= range.min && status <= range.max)) {
    failures.push(`status ${status}, expected ${formatStatusRanges(check.expectStatus)}`);
  }
  if (check.bodyContains !== undefined && !body.includes(check.bodyContains)) {
    failures.push(`body lacks ${JSON.stringify(check.bodyContains)}`);
  }
  if (check.bodyRegex !== undefined && !new RegExp(check.bodyRegex).test(body)) {
    failures.push(`body does not match /${check.bodyRegex}/`);
  }
  if (check.json) {
    const failure = jsonFailure(check.json, body);
    if (failure) failures.push(failure);
  }
  if (check.maxLatencyMs !== undefined && latencyMs > check.maxLatencyMs) {
    failures.push(`latency ${latencyMs} ms over the ${check.maxLatencyMs} ms budget`);
  }

  return {
    check: check.name,
    url,
    ok: failures.length === 0,
    status,
    latencyMs,
    ...(failures.length > 0 && { failure: failures.join("; ") }),
  };
}

function jsonFailure(expected: NonNullable<SmokeCheck["json"]>, body: string): string | undefined {
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch {
    return `body is not JSON (starts with ${JSON.stringify(shorten(body.trimStart()))}), expected json ${expected.path} = ${JSON.stringify(expected.equals)}`;
  }
  const segments = parseJsonPath(expected.path);
  const lookup = segments ? resolveJsonPath(document, segments) : { found: false as const };
  if (!lookup.found) {
    return `json ${expected.path} is missing, expected ${JSON.stringify(expected.equals)}`;
  }
  if (lookup.value === expected.equals) return undefined;
  return `json ${expected.path} = ${shorten(JSON.stringify(lookup.value) ?? "undefined")}, expected ${JSON.stringify(expected.equals)}`;
}

function shorten(text: string): string {
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}...` : text;
}
