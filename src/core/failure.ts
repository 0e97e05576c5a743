/** Why a run stopped, in words an operator acts on; carries the Azure error code when there is one. */
export class DeployFailure extends Error {
  readonly code?: string;
  readonly nextSteps?: string;

  constructor(
    message: string,
    options: { code?: string; nextSteps?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "DeployFailure";
    this.code = options.code;
    this.nextSteps = options.nextSteps;
  }
}

/** The Azure error code an error carries, if any (AzureError, RestError or a DeployFailure). */
export function errorCode(error: unknown): string | undefined {
  if (error && typeof error === "object" && "code" in error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Whether an Azure call may succeed when tried again: throttling, server errors, a lock held by
 * another write, and anything that failed before the service answered (a broken or timed-out
 * connection), but not an operation the service reported as failed, nor a verdict of our own.
 */
export function isRetryable(error: unknown): boolean {
  if (!error || typeof error !== "object" || error instanceof DeployFailure) return false;
  if (isOperationFailure(error)) return false;
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === "number") {
    return status === 408 || status === 409 || status === 429 || status >= 500;
  }
  return !errorMessage(error).startsWith("The long-running operation has failed");
}

/**
 * Whether the service accepted a write and then reported its operation as failed. Such a write is
 * never re-sent blindly: what it left behind is read first.
 */
export function isOperationFailure(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as { operationFailed?: unknown }).operationFailed === true
  );
}
