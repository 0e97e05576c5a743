import type { CheckRound } from "./types.ts";

/**
 * Every reason of our own a run stops for. Azure's codes (`ContainerAppOperationError`,
 * `ContainerAppLockConflict`, …) travel beside them as plain strings on the errors that carry them.
 */
export type FailureCode =
  | "BuildFailed"
  | "Cancelled"
  | "ChecksFailedDuringShift"
  | "ContainerNotFound"
  | "DeploymentHeld"
  | "GateFailed"
  | "GateInconclusive"
  | "GateUnavailable"
  | "HeldStateChanged"
  | "IngressDisabled"
  | "InvalidTraffic"
  | "LeaseHeld"
  | "LeaseLost"
  | "NoRollbackTarget"
  | "NothingHeld"
  | "RegistryAccessMissing"
  | "RevisionFailed"
  | "RevisionNotFound"
  | "RevisionNotReady"
  | "RevisionSuffixInUse"
  | "RevisionUnhealthy"
  | "SmokeChecksFailed"
  | "TrafficChangedExternally"
  | "UnsupportedRevisionMode";

/** Why a run stopped, in words an operator acts on; carries the Azure error code when there is one. */
export class DeployFailure extends Error {
  /** One of ours, or the Azure code of the call that caused it (e.g. a failed build's). */
  readonly code?: FailureCode | (string & {});
  readonly nextSteps?: string;

  constructor(
    message: string,
    options: { code?: FailureCode | (string & {}); nextSteps?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "DeployFailure";
    this.code = options.code;
    this.nextSteps = options.nextSteps;
  }
}

/** A round of smoke checks did not pass in time; carries the round, for the report. */
export class SmokeChecksFailed extends DeployFailure {
  readonly round: CheckRound;

  constructor(message: string, round: CheckRound, nextSteps: string) {
    super(message, { code: "SmokeChecksFailed", nextSteps });
    this.name = "SmokeChecksFailed";
    this.round = round;
  }
}

/** Another run holds the app now: this run changes nothing more, and leaves the lease to it. */
export class LeaseLost extends DeployFailure {
  constructor(message: string) {
    super(message, {
      code: "LeaseLost",
      nextSteps: "Let the other run finish, then check the app's traffic.",
    });
    this.name = "LeaseLost";
  }
}

/** Someone else changed the app mid-run: reported, never overwritten. */
export class ExternalChange extends DeployFailure {
  constructor(message: string) {
    super(message, {
      code: "TrafficChangedExternally",
      nextSteps: "Decide which traffic split is right, set it, and deploy again.",
    });
    this.name = "ExternalChange";
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
