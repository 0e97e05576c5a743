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

/** A request that got no answer: why, and how long it waited when that is known. */
export type ProbeOutcome = HttpOutcome | { error: string; latencyMs?: number };

const MAX_SHOWN = 80;
/** Of a failed check's answer, the first bytes of the body are kept: enough for an error page. */
export const BODY_PREFIX_CHARS = 512;

export function evaluateCheck(check: SmokeCheck, url: string, outcome: ProbeOutcome): CheckResult {
  if ("error" in outcome) {
    return {
      check: check.name,
      url,
      ok: false,
      ...(outcome.latencyMs !== undefined && { latencyMs: Math.round(outcome.latencyMs) }),
      failure: outcome.error,
      method: check.method,
    };
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

  if (failures.length === 0) return { check: check.name, url, ok: true, status, latencyMs };
  return {
    check: check.name,
    url,
    ok: false,
    status,
    latencyMs,
    failure: failures.join("; "),
    method: check.method,
    headers: diagnosticHeaders(outcome.headers),
    bodyPrefix: body.slice(0, BODY_PREFIX_CHARS),
  };
}

/**
 * The headers that tie an answer to the service's and the app's own logs: Azure's `x-ms-*`,
 * request and correlation ids, and the trace context.
 */
export function diagnosticHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) =>
      /^x-ms-|request-?id$|correlation-?id$|^traceparent$/i.test(name),
    ),
  );
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
