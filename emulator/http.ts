/**
 * HTTP plumbing shared by the emulator's own servers (ARM, Entra ID, control API): errors that
 * carry an Azure error code, body reading, JSON answers and path routing.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * An error answered with the given status, in ARM's envelope `{"error": {"code", "message"}}` or,
 * as some Microsoft.App errors arrive, bare: `{"code", "message"}`.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  readonly envelope: "arm" | "bare";

  constructor(
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {},
    envelope: "arm" | "bare" = "arm",
  ) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
    this.headers = headers;
    this.envelope = envelope;
  }
}

/** Large enough for any ARM body the tool sends; bounds what a confused client can make us hold. */
const maxBodyBytes = 4 * 1024 * 1024;

export function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        reject(new HttpError(413, "RequestEntityTooLarge", "The request body is too large."));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

/** The body as JSON; undefined when empty. */
export function parseJson(body: Buffer): unknown {
  const text = body.toString("utf8").trim();
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(
      400,
      "InvalidRequestContent",
      "The request content was invalid and could not be deserialized: it is not valid JSON.",
    );
  }
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
  });
  response.end(text);
}

export function sendEmpty(
  response: ServerResponse,
  status: number,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { ...headers, "content-length": "0" });
  response.end();
}

export function sendError(response: ServerResponse, error: HttpError): void {
  const body = { code: error.code, message: error.message };
  sendJson(
    response,
    error.status,
    error.envelope === "bare" ? body : { error: body },
    error.headers,
  );
}

/** What a route handler answers. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface HttpRoute<Context> {
  method: string;
  /** Matched against the decoded path; named groups become the handler's parameters. */
  pattern: RegExp;
  handle(context: Context, params: Record<string, string>): Reply | Promise<Reply>;
}

/**
 * Finds the route for a request. A path that matches with another method answers 405, one that
 * matches nothing answers undefined so the caller can pick its own "not found".
 */
export function matchRoute<Context>(
  routes: HttpRoute<Context>[],
  method: string,
  path: string,
):
  { route: HttpRoute<Context>; params: Record<string, string> } | "method-not-allowed" | undefined {
  let pathMatched = false;
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(match.groups ?? {})) {
      params[name] = decodeURIComponent(value);
    }
    return { route, params };
  }
  return pathMatched ? "method-not-allowed" : undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
