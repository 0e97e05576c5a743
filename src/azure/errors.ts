import { isRestError } from "@azure/core-rest-pipeline";

/** An Azure call that failed, with the service's error code when it gave one. */
export class AzureError extends Error {
  readonly code?: string;
  readonly statusCode?: number;
  /** How long the service asked us to wait before trying again (from Retry-After). */
  readonly retryAfterMs?: number;
  /**
   * The service accepted the write and then reported its operation as failed: a verdict, not a
   * transient fault. Sending the same write again would be a new write.
   */
  readonly operationFailed: boolean;

  constructor(
    message: string,
    options: {
      code?: string;
      statusCode?: number;
      retryAfterMs?: number;
      operationFailed?: boolean;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "AzureError";
    this.code = options.code;
    this.statusCode = options.statusCode;
    this.retryAfterMs = options.retryAfterMs;
    this.operationFailed = options.operationFailed ?? false;
  }
}

/** Names of the errors @azure/identity throws when a credential cannot get a token. */
const SIGN_IN_ERRORS = new Set([
  "AuthenticationError",
  "AuthenticationRequiredError",
  "CredentialUnavailableError",
]);

const FAILED_LRO = /^The long-running operation has failed\.\s*(?:([A-Za-z0-9_.]+)\.\s*)?(.*)$/s;

/**
 * Normalises whatever the SDK threw into an AzureError naming the operation. A failed long-running
 * operation arrives as a plain Error whose message carries the code; a RestError carries it as
 * fields.
 */
export function toAzureError(error: unknown, what: string): AzureError {
  if (error instanceof AzureError) return error;
  if (isRestError(error)) {
    const header = error.response?.headers.get("retry-after");
    const retryAfterMs = header && /^\d+$/.test(header) ? Number(header) * 1000 : undefined;
    const detail = restErrorMessage(error.message);
    return new AzureError(`${what} failed: ${detail}`, {
      code: error.code,
      statusCode: error.statusCode,
      retryAfterMs,
      cause: error,
    });
  }
  if (error instanceof Error && SIGN_IN_ERRORS.has(error.name)) {
    // Microsoft Entra ID refused the identity (a wrong secret, or no federated credential matches
    // the token): asking again gives the same answer, unless the token service itself failed.
    const status = (error as { statusCode?: unknown }).statusCode;
    return new AzureError(`${what} failed: signing in to Azure failed: ${error.message}`, {
      code: "AuthenticationFailed",
      statusCode: typeof status === "number" && status >= 500 ? status : 401,
      cause: error,
    });
  }
  if (error instanceof Error) {
    const lro = FAILED_LRO.exec(error.message);
    if (lro) {
      return new AzureError(`${what} failed: ${lro[2] || "the operation ended in Failed"}`, {
        code: lro[1] ?? "OperationFailed",
        operationFailed: true,
        cause: error,
      });
    }
    if (error.name === "AbortError" || error.name === "TimeoutError") {
      return new AzureError(`${what} timed out or was cancelled`, {
        code: "RequestAborted",
        cause: error,
      });
    }
    return new AzureError(`${what} failed: ${error.message}`, { cause: error });
  }
  return new AzureError(`${what} failed: ${String(error)}`);
}

function restErrorMessage(message: string): string {
  try {
    const body = JSON.parse(message) as { error?: { code?: string; message?: string } };
    if (body.error?.message) return body.error.message;
  } catch {
    // Not JSON: the message is already prose.
  }
  return message;
}
