/**
 * Faults injected on demand: ARM calls that answer 429 / 500 / 503 or a lock conflict, drop the
 * connection or never answer, app writes whose operation fails, and revisions that fail to
 * provision, never become ready, or expire their write.
 */
import { HttpError, isRecord } from "./http.ts";
import type { ArmFault, RevisionFault } from "./types.ts";

interface PendingArmFault {
  fault: ArmFault;
  remaining: number;
}

export class FaultInjector {
  #arm: PendingArmFault[] = [];
  #revision: RevisionFault[] = [];

  injectArm(fault: ArmFault): void {
    const checked = checkArmFault(fault);
    this.#arm.push({ fault: checked, remaining: checked.count });
  }

  /** The fault the next ARM call matching this method and path answers with, consuming one use. */
  takeArm(method: string, path: string): ArmFault | undefined {
    const lowerPath = path.toLowerCase();
    const pending = this.#arm.find(({ fault }) => {
      if (fault.kind === "operation-failed" && !isAppPatch(method, path)) return false;
      const match = fault.match;
      if (match?.method && match.method.toUpperCase() !== method.toUpperCase()) return false;
      return !match?.pathContains || lowerPath.includes(match.pathContains.toLowerCase());
    });
    if (!pending) return undefined;
    pending.remaining -= 1;
    if (pending.remaining === 0) this.#arm.splice(this.#arm.indexOf(pending), 1);
    return pending.fault;
  }

  injectRevision(fault: RevisionFault): void {
    this.#revision.push(checkRevisionFault(fault));
  }

  /** The fault for a revision being created for `app` with `image`, consuming it. */
  takeRevision(app: string, image: string): RevisionFault["mode"] | undefined {
    const index = this.#revision.findIndex(
      (fault) =>
        fault.app.toLowerCase() === app.toLowerCase() &&
        (fault.image === undefined || fault.image === image),
    );
    if (index === -1) return undefined;
    const [fault] = this.#revision.splice(index, 1);
    return fault.mode;
  }

  clear(): void {
    this.#arm = [];
    this.#revision = [];
  }
}

/** Validates a fault that may come from JSON; throws a 400 naming what is wrong. */
function checkArmFault(value: unknown): ArmFault {
  const invalid = (detail: string) =>
    new HttpError(400, "InvalidFault", `Invalid ARM fault: ${detail}`);
  if (!isRecord(value)) throw invalid("expected an object.");
  const { count, match, kind } = value;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1) {
    throw invalid("count must be a positive integer.");
  }
  if (match !== undefined) {
    if (!isRecord(match)) throw invalid("match must be an object.");
    if (match.method !== undefined && typeof match.method !== "string") {
      throw invalid("match.method must be a string.");
    }
    if (match.pathContains !== undefined && typeof match.pathContains !== "string") {
      throw invalid("match.pathContains must be a string.");
    }
  }
  switch (kind) {
    case "status": {
      const { status, retryAfterSeconds } = value;
      if (status !== 429 && status !== 500 && status !== 503) {
        throw invalid("status must be 429, 500 or 503.");
      }
      if (
        retryAfterSeconds !== undefined &&
        (typeof retryAfterSeconds !== "number" ||
          !Number.isInteger(retryAfterSeconds) ||
          retryAfterSeconds < 0)
      ) {
        throw invalid("retryAfterSeconds must be a non-negative integer.");
      }
      return structuredClone(value) as ArmFault;
    }
    case "hang": {
      const { forMs } = value;
      if (
        forMs !== undefined &&
        (typeof forMs !== "number" || !Number.isInteger(forMs) || forMs < 1)
      ) {
        throw invalid("forMs must be a positive integer.");
      }
      return structuredClone(value) as ArmFault;
    }
    case "operation-failed": {
      const { error } = value;
      if (
        error !== undefined &&
        (!isRecord(error) || typeof error.code !== "string" || typeof error.message !== "string")
      ) {
        throw invalid("error must be an object with a string code and message.");
      }
      return structuredClone(value) as ArmFault;
    }
    case "reset":
    case "lock-conflict":
      return structuredClone(value) as ArmFault;
    default:
      throw invalid(
        'kind must be "status", "reset", "hang", "lock-conflict" or "operation-failed".',
      );
  }
}

/** A write to a container app itself (not to one of its revisions). */
const appPath = /\/providers\/Microsoft\.App\/containerApps\/[^/]+$/i;

function isAppPatch(method: string, path: string): boolean {
  return method.toUpperCase() === "PATCH" && appPath.test(path);
}

function checkRevisionFault(value: unknown): RevisionFault {
  const invalid = (detail: string) =>
    new HttpError(400, "InvalidFault", `Invalid revision fault: ${detail}`);
  if (!isRecord(value)) throw invalid("expected an object.");
  const { app, image, mode } = value;
  if (typeof app !== "string" || app === "") throw invalid("app must be a container app name.");
  if (image !== undefined && typeof image !== "string") throw invalid("image must be a string.");
  if (mode !== "fail-provisioning" && mode !== "never-ready" && mode !== "operation-expired") {
    throw invalid('mode must be "fail-provisioning", "never-ready" or "operation-expired".');
  }
  return { app, image, mode };
}
