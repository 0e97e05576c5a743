import type { Clock } from "../clock.ts";
import { DeployFailure } from "../failure.ts";
import type { ContainerAppsPort, Log, RevisionState } from "../ports.ts";
import { formatDuration } from "../report/format.ts";
import { pollGaps, type PollSchedule } from "../timing.ts";
import type { RolloutContext } from "./context.ts";

/**
 * The only running states that serve. Everything else — `Processing`, `Activating` (recorded on
 * new revisions though not in the SDK's enum), `Deprovisioning` (recorded on an active revision),
 * and any state this code does not know — is not ready.
 */
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
    return `provisioning failed${serviceDetails(revision)}`;
  }
  if (FAILED_RUNNING.has(revision.runningState.toLowerCase())) {
    return `running state is ${revision.runningState}${serviceDetails(revision)}`;
  }
  return undefined;
}

/** What the service says about a failed revision, e.g. `: Container crashing: web (1/1 Container crashing: web)`. */
function serviceDetails(revision: RevisionState): string {
  const { provisioningError: error, runningStateDetails: details } = revision;
  if (error && details && details !== error) return `: ${error} (${details})`;
  const said = error ?? details;
  return said ? `: ${said}` : "";
}

function describeState(revision: RevisionState): string {
  return `provisioning ${revision.provisioningState}, running ${revision.runningState}, health ${revision.healthState}`;
}

export interface ReadinessOptions {
  app: string;
  resourceGroup: string;
  clock: Clock;
  log: Log;
  deadline: number;
  timeoutText: string;
  schedule: PollSchedule;
  signal?: AbortSignal;
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
  const gap = pollGaps(options.schedule);
  let lastState = "";
  for (;;) {
    // A read that keeps failing must not stretch the wait past readiness-timeout either.
    const revision = await apps.getRevision(name, {
      signal: options.signal,
      retryForMs: Math.max(0, deadline - clock.now()),
    });
    const state = describeState(revision);
    if (state !== lastState) options.log.info(`${name}: ${state}`);
    lastState = state;
    if (isReady(revision)) return revision;
    const failed = failedState(revision);
    if (failed) {
      throw new DeployFailure(`Revision ${name} did not become ready: ${failed}.`, {
        code: "RevisionFailed",
        nextSteps: `Look at the revision's system and console logs: \`az containerapp logs show -n ${options.app} -g ${options.resourceGroup} --revision ${name} --type system\`.`,
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
    await clock.sleep(Math.min(gap(), left), options.signal);
  }
}

/**
 * Polls the revision's replicas until `count` of them run and are ready: a revision reads Running
 * and Healthy as soon as one replica is, and traffic must not reach a single cold replica when the
 * revision is meant to start with several (microsoft/azure-container-apps#184).
 */
export async function waitForReplicas(
  apps: ContainerAppsPort,
  name: string,
  count: number,
  options: ReadinessOptions,
): Promise<number> {
  const { clock, deadline } = options;
  const gap = pollGaps(options.schedule);
  let last = -1;
  for (;;) {
    const replicas = await apps.listReplicas(name, {
      signal: options.signal,
      retryForMs: Math.max(0, deadline - clock.now()),
    });
    const ready = replicas.filter((replica) => replica.ready).length;
    if (ready !== last) {
      options.log.info(`${name}: ${ready} of ${count} replicas ready (${replicas.length} running)`);
    }
    last = ready;
    if (ready >= count) return ready;
    const left = deadline - clock.now();
    if (left <= 0) {
      throw new DeployFailure(
        `Revision ${name} had ${ready} of its ${count} minimum replicas ready within ${options.timeoutText}.`,
        {
          code: "ReplicasNotReady",
          nextSteps:
            "Check the revision's replicas and logs (the environment may lack capacity); raise `readiness-timeout`, or lower `min-replicas`.",
        },
      );
    }
    await clock.sleep(Math.min(gap(), left), options.signal);
  }
}

/**
 * Phase "Readiness": waits for `name` within readiness-timeout, on the context's poll schedule;
 * with `minReplicas` of 2 or more, until that many replicas are ready too, within the same time.
 */
/** The options of a wait bounded by `readiness-timeout`, starting now. */
export function withinReadinessTimeout(
  options: Omit<ReadinessOptions, "deadline" | "timeoutText"> & { timeoutMs: number },
): ReadinessOptions {
  const { timeoutMs, ...rest } = options;
  return {
    ...rest,
    deadline: options.clock.now() + timeoutMs,
    timeoutText: `\`readiness-timeout\` (${formatDuration(timeoutMs)})`,
  };
}

export async function waitReady(
  ctx: RolloutContext,
  name: string,
  minReplicas = 0,
): Promise<RevisionState> {
  const { apps, clock, log, signal } = ctx.deps;
  const options = withinReadinessTimeout({
    app: ctx.inputs.containerApp,
    resourceGroup: ctx.inputs.resourceGroup,
    clock,
    log,
    signal,
    schedule: ctx.timing.readiness,
    timeoutMs: ctx.inputs.readinessTimeoutMs,
  });
  const revision = await waitForRevisionReady(apps, name, options);
  if (minReplicas > 1) await waitForReplicas(apps, name, minReplicas, options);
  return revision;
}
