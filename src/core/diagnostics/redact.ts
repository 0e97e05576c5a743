/**
 * Masks secrets in what a failed candidate said — its console lines, the platform's events about
 * it, the answer of a failed check — before any of it reaches a log, the summary or an output.
 * Every value the host masks is masked wherever it appears, and so are credentials in the forms
 * apps print them by accident: bearer tokens and JWTs, `key=value` pairs whose key names a secret,
 * passwords in URLs, private keys. (secretlint, the scanner made for this, needs Node 22, and the
 * Pipelines task still runs on Node 20.)
 */
import type { CandidateDiagnostics, FailedRequest } from "./types.ts";

const MASK = "***";

/** A value shorter than this is not masked on its own: it would mask ordinary words. */
const MIN_SECRET_LENGTH = 4;

const SECRET_KEY =
  "(?:[\\w.-]*?(?:password|passwd|pwd|secret|token|api[-_]?key|access[-_]?key|account[-_]?key|shared[-_]?access[-_]?key|connection[-_]?string|credentials?)|sig)";

const PATTERNS: readonly [RegExp, string][] = [
  // The body of a private key, on one line or on the line after its armour.
  [
    /(-----BEGIN [A-Z ]*PRIVATE KEY-----)[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
    `$1${MASK}$2`,
  ],
  [/\b(Bearer|Basic)\s+[\w.~+/=-]{8,}/gi, `$1 ${MASK}`],
  [/\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g, MASK],
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi, `$1${MASK}@`],
  [new RegExp(`\\b(${SECRET_KEY})(["']?\\s*[:=]\\s*["']?)([^\\s"',;&}]+)`, "gi"), `$1$2${MASK}`],
];

/** `text` with every secret masked. */
export function redactText(text: string, secrets: readonly string[]): string {
  let masked = text;
  const known = [...new Set(secrets)]
    .filter((secret) => secret.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  for (const secret of known) masked = masked.split(secret).join(MASK);
  for (const [pattern, replacement] of PATTERNS) masked = masked.replace(pattern, replacement);
  return masked;
}

/** The diagnostics with every text they carry masked. */
export function redactDiagnostics(
  diagnostics: CandidateDiagnostics,
  secrets: readonly string[],
): CandidateDiagnostics {
  const mask = (text: string) => redactText(text, secrets);
  const { state, replicas, failedRequest } = diagnostics;
  return {
    ...diagnostics,
    ...(state && {
      state: {
        ...state,
        ...(state.provisioningError && { provisioningError: mask(state.provisioningError) }),
        ...(state.runningStateDetails && { runningStateDetails: mask(state.runningStateDetails) }),
      },
    }),
    ...(replicas && {
      replicas: replicas.map((replica) => ({
        ...replica,
        ...(replica.runningStateDetails && {
          runningStateDetails: mask(replica.runningStateDetails),
        }),
        containers: replica.containers.map((container) => ({
          ...container,
          ...(container.runningStateDetails && {
            runningStateDetails: mask(container.runningStateDetails),
          }),
        })),
      })),
    }),
    console: diagnostics.console.map((tail) => ({
      ...tail,
      lines: tail.lines.map((line) => ({ ...line, text: mask(line.text) })),
    })),
    systemEvents: diagnostics.systemEvents.map((event) => ({
      ...event,
      message: mask(event.message),
    })),
    ...(failedRequest && { failedRequest: redactRequest(failedRequest, mask) }),
    warnings: diagnostics.warnings.map(mask),
  };
}

function redactRequest(request: FailedRequest, mask: (text: string) => string): FailedRequest {
  return {
    ...request,
    url: mask(request.url),
    failure: mask(request.failure),
    ...(request.headers && {
      headers: Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name, mask(value)]),
      ),
    }),
    ...(request.bodyPrefix !== undefined && { bodyPrefix: mask(request.bodyPrefix) }),
  };
}
