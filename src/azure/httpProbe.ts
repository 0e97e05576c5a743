/**
 * The HttpProbe that smoke checks use against real endpoints: undici's fetch through
 * EnvHttpProxyAgent, so HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case) route label URLs as they
 * route everything else, and the CAs of NODE_EXTRA_CA_CERTS are trusted because undici connects
 * with Node's default store, which already holds them.
 */
import { EnvHttpProxyAgent, fetch } from "undici";
import type { HttpProbe, HttpRequest } from "../core/checks/run.ts";
import type { HttpOutcome } from "../core/checks/evaluate.ts";

/** Enough for any health page; a larger body is cut here rather than held in memory. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface ClosableHttpProbe extends HttpProbe {
  /** Closes the pooled connections. */
  close(): Promise<void>;
}

export function createHttpProbe(): ClosableHttpProbe {
  const dispatcher = new EnvHttpProxyAgent();
  return {
    send: (request) => send(dispatcher, request),
    close: () => dispatcher.close(),
  };
}

async function send(dispatcher: EnvHttpProxyAgent, request: HttpRequest): Promise<HttpOutcome> {
  const timeout = AbortSignal.timeout(Math.max(1, Math.floor(request.timeoutMs)));
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
  const started = performance.now();
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body !== undefined && { body: request.body }),
      // A smoke check judges the status the revision itself returns, 3xx included.
      redirect: "manual",
      signal,
      dispatcher,
    });
    const body = await readCapped(response.body);
    const latencyMs = performance.now() - started;
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return { status: response.status, headers, body, latencyMs };
  } catch (error) {
    if (timeout.aborted) {
      throw new Error(`no complete response within ${request.timeoutMs} ms`, { cause: error });
    }
    if (request.signal?.aborted) throw new Error("request cancelled", { cause: error });
    throw new Error(describeFailure(error), { cause: error });
  }
}

async function readCapped(stream: ReadableStream<Uint8Array> | null): Promise<string> {
  if (!stream) return "";
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = MAX_BODY_BYTES - received;
    const chunk = value.byteLength > room ? value.subarray(0, room) : value;
    received += chunk.byteLength;
    text += decoder.decode(chunk, { stream: true });
    if (received >= MAX_BODY_BYTES) {
      await reader.cancel();
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
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  UND_ERR_SOCKET: "connection closed by the server",
  UND_ERR_HEADERS_TIMEOUT: "no response headers in time",
  UND_ERR_BODY_TIMEOUT: "response body stalled",
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

/** Duck-typed: errors raised inside undici may come from another realm than this module's Error. */
function isErrorLike(value: unknown): value is ErrorLike {
  return (
    typeof value === "object" && value !== null && typeof (value as ErrorLike).message === "string"
  );
}

/** The innermost cause says what happened (fetch itself only says "fetch failed"). */
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
