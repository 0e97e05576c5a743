/**
 * The HttpProbe that smoke checks use against real endpoints: axios with its proxy support, so
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case) route label URLs as they route everything
 * else — an https URL through a CONNECT tunnel, never in clear to the proxy — and the CAs of
 * NODE_EXTRA_CA_CERTS are trusted because the TLS connection uses Node's default store, which
 * already holds them.
 */
import { addAbortSignal, type Readable } from "node:stream";
import axios from "axios";
import { ProbeFailure, type HttpProbe, type HttpRequest } from "../core/checks/run.ts";
import type { HttpOutcome } from "../core/checks/evaluate.ts";

/** Enough for any health page; a larger body is cut here rather than held in memory. */
export const MAX_BODY_BYTES = 1024 * 1024;

const USER_AGENT = "aca-blue-green-smoke-check";

export function createHttpProbe(): HttpProbe {
  return { send };
}

async function send(request: HttpRequest): Promise<HttpOutcome> {
  const timeout = AbortSignal.timeout(Math.max(1, Math.floor(request.timeoutMs)));
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
  const started = performance.now();
  try {
    const response = await axios.request<Readable>({
      url: request.url,
      method: request.method,
      headers: { Accept: "*/*", "User-Agent": USER_AGENT, ...request.headers },
      ...(request.body !== undefined && { data: request.body }),
      // A smoke check judges the status the revision itself returns, 3xx and 5xx included.
      maxRedirects: 0,
      validateStatus: () => true,
      responseType: "stream",
      signal,
    });
    const body = await readCapped(addAbortSignal(signal, response.data));
    const latencyMs = performance.now() - started;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value === undefined || value === null) continue;
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
    }
    return { status: response.status, headers, body, latencyMs };
  } catch (error) {
    const waited = performance.now() - started;
    if (timeout.aborted) {
      throw new ProbeFailure(`no complete response within ${request.timeoutMs} ms`, waited, {
        cause: error,
      });
    }
    if (request.signal?.aborted) throw new Error("request cancelled", { cause: error });
    throw new ProbeFailure(describeFailure(error), waited, { cause: error });
  }
}

async function readCapped(stream: Readable): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  let received = 0;
  for await (const value of stream as AsyncIterable<Buffer>) {
    const room = MAX_BODY_BYTES - received;
    const chunk = value.byteLength > room ? value.subarray(0, room) : value;
    received += chunk.byteLength;
    text += decoder.decode(chunk, { stream: true });
    if (received >= MAX_BODY_BYTES) {
      stream.destroy();
      break;
    }
  }
  return text + decoder.decode();
}

const CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed while sending",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed (temporary DNS failure)",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  DEPTH_ZERO_SELF_SIGNED_CERT: "TLS certificate is self-signed and not trusted",
  SELF_SIGNED_CERT_IN_CHAIN: "TLS certificate chain ends in an untrusted root",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "TLS certificate issuer is not trusted",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "TLS certificate issuer is not trusted",
  CERT_HAS_EXPIRED: "TLS certificate has expired",
  ERR_TLS_CERT_ALTNAME_INVALID: "TLS certificate does not match the host name",
};

interface ErrorLike {
  message: string;
  code?: unknown;
  cause?: unknown;
}

function isErrorLike(value: unknown): value is ErrorLike {
  return (
    typeof value === "object" && value !== null && typeof (value as ErrorLike).message === "string"
  );
}

/** The innermost cause with a known code says what happened. */
function describeFailure(error: unknown): string {
  for (let current: unknown = error; isErrorLike(current); current = current.cause) {
    const code = typeof current.code === "string" ? current.code : undefined;
    if (code && CODES[code]) {
      const hint = code.includes("CERT") || code.includes("SIGN") ? tlsHint() : "";
      return `${CODES[code]} (${code})${hint}`;
    }
    if (!isErrorLike(current.cause)) {
      return code ? `${current.message} (${code})` : current.message;
    }
  }
  return String(error);
}

function tlsHint(): string {
  return process.env.NODE_EXTRA_CA_CERTS
    ? `; NODE_EXTRA_CA_CERTS is ${process.env.NODE_EXTRA_CA_CERTS}`
    : "; set NODE_EXTRA_CA_CERTS to a PEM file with the issuing CA";
}
