import type { Clock } from "./clock.ts";
import { DeployFailure } from "./failure.ts";
import type { ContainerAppsPort, Log, RevisionState } from "./ports.ts";

const RUNNING = new Set(["running", "runningatmaxscale"]);
/** Running states a revision does not recover from on its own (ActivationFailed is real, if undocumented). */
const FAILED_RUNNING = new Set(["failed", "degraded", "activationfailed"]);

export function isReady(revision: RevisionState): boolean {
  return (
    revision.active &&
    revision.provisioningState.toLowerCase() === "provisioned" &&
    RUNNING.has(revision.runningState.toLowerCase()) &&
    revision.healthState.toLowerCase() === "healthy"
  );
}

/** A reason when the revision can no longer become ready; undefined while it still may. */
export function failedState(revision: RevisionState): string | undefined {
  if (revision.provisioningState.toLowerCase() === "failed") {
    return `provisioning failed${revision.provisioningError ? `: ${revision.provisioningError}` : ""}`;
  }
  if (FAILED_RUNNING.has(revision.runningState.toLowerCase())) {
    return `running state is ${revision.runningState}${revision.provisioningError ? `: ${revision.provisioningError}` : ""}`;
  }
  return undefined;
}

function describeState(revision: RevisionState): string {
  return `provisioning ${revision.provisioningState}, running ${revision.runningState}, health ${revision.healthState}`;
}

export interface ReadinessOptions {
  clock: Clock;
  log: Log;
  deadline: number;
  timeoutText: string;
  interval: { min: number; max: number };
  signal?: AbortSignal;
  /** Resource group of the app, for the commands the next steps name. */
  resourceGroup: string;
}

/**
 * Polls the revision until it is Provisioned, Running and Healthy. The gap starts short and grows,
 * so a quick revision is seen at once and a slow one does not cost many calls; a Failed or
 * Degraded state ends the wait at once.
 */
export async function waitForRevisionReady(
  apps: ContainerAppsPort,
  name: string,
  options: ReadinessOptions,
): Promise<RevisionState> {
  const { clock, deadline } = options;
  let gap = options.interval.min;
  let lastState = "";
  for (;;) {
    const revision = await apps.getRevision(name, { signal: options.signal });
    const state = describeState(revision);
    if (state !== lastState) options.log.info(`${name}: ${state}`);
    lastState = state;
    if (isReady(revision)) return revision;
    const failed = failedState(revision);
    if (failed) {
      throw new DeployFailure(`Revision ${name} did not become ready: ${failed}.`, {
        code: "RevisionFailed",
        nextSteps: `Look at the revision's system and console logs: \`az containerapp logs show -n ${name.slice(0, name.indexOf("--"))} -g ${options.resourceGroup} --revision ${name} --type system\`.`,
      });
    }
    const left = deadline - clock.now();
    if (left <= 0) {
      throw new DeployFailure(
        `Revision ${name} was not ready within ${options.timeoutText} (${state}).`,
        {
          code: "RevisionNotReady",
          nextSteps:
            "Check the revision's logs; raise `readiness-timeout` if the app needs longer to start.",
        },
      );
    }
    await clock.sleep(Math.min(gap, left), options.signal);
    gap = Math.min(Math.round(gap * 1.5), options.interval.max);
  }
}
