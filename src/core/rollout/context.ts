/**
 * The state of one rollout, shared by every phase and every verb: what was asked (inputs), what the
 * engine talks through (deps), the labels and candidate weights of the plan, the run's journal, and
 * the report the outcome is rendered from. Phases live in their own modules beside this one and
 * take the context as their first argument.
 */
import { RunJournal, type JournalStart } from "../journal.ts";
import type { AppState, EngineDeps, RevisionState } from "../ports.ts";
import type { AppScopeRestore } from "../revision/plan.ts";
import { formatDuration } from "../report/format.ts";
import type { GateSession } from "./gates.ts";
import { waitReady } from "./readiness.ts";
import { DEFAULT_TIMING, type TimingProfile } from "../timing.ts";
import type { RolloutLabels } from "../traffic/plan.ts";
import type { DeploymentReport, Inputs, TrafficWeight } from "../types.ts";

export class RolloutContext {
  readonly inputs: Inputs;
  readonly deps: EngineDeps;
  readonly report: DeploymentReport;
  labels: RolloutLabels;
  /** Candidate weights of the plan, ascending, ending at 100. */
  weights: number[];
  journal?: RunJournal;
  /** The app's traffic as the snapshot found it. */
  found?: TrafficWeight[];
  /** The app's managed environment, as the snapshot found it. */
  environmentId?: string;
  /** Whether production traffic has reached the candidate. */
  shifted = false;
  /** Set while the restore runs: a restore that fails is not tried a second time. */
  restoring = false;
  /** Whether this run holds the app's lease now (it is given back with the promotion). */
  leaseHeld = false;
  /** When this run's lease was first written. */
  leaseSince?: string;
  /** The app as read just now, when no write has happened since: the next write's fresh read. */
  fresh?: AppState;
  /**
   * What a restore puts back of the application-scope changes the candidate's write made, with
   * the old secret values held in memory only (the journal keeps no values).
   */
  appScope?: AppScopeRestore;
  /** The gates of this run, once they were checked before the first write. */
  gates?: GateSession;

  constructor(inputs: Inputs, deps: EngineDeps) {
    this.inputs = { ...inputs };
    this.deps = deps;
    this.labels = {
      candidate: inputs.candidateLabel,
      production: inputs.productionLabel,
      previous: inputs.previousLabel,
    };
    this.weights = [...inputs.trafficSteps];
    this.report = {
      action: inputs.action,
      app: inputs.containerApp,
      resourceGroup: inputs.resourceGroup,
      image: inputs.image,
      result: "failed",
      reason: "",
      initialTraffic: [],
      finalTraffic: [],
      steps: [],
      phases: [],
      dryRun: inputs.dryRun,
    };
  }

  /** Waits until `revision` is ready within readiness-timeout. */
  readonly waitReady = (revision: string): Promise<RevisionState> => waitReady(this, revision);

  get timing(): TimingProfile {
    return this.deps.timing ?? DEFAULT_TIMING;
  }

  /** Runs a phase in its own log group and records how long it took. */
  async phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const { clock, log } = this.deps;
    const started = clock.now();
    try {
      return await log.group(name, fn);
    } finally {
      const durationMs = clock.now() - started;
      this.report.phases.push({ phase: name, startedAt: started, durationMs });
      log.info(`${name} took ${formatDuration(durationMs)}`);
    }
  }

  /** Starts the journal: from here on, an interruption or a failure is recovered. */
  startJournal(start: Omit<JournalStart, "subscriptionId" | "resourceGroup" | "app" | "runId">) {
    this.journal = RunJournal.start(this.deps.state, {
      subscriptionId: this.inputs.subscriptionId,
      resourceGroup: this.inputs.resourceGroup,
      app: this.inputs.containerApp,
      runId: this.deps.run.runId,
      action: this.inputs.action,
      // What the app routes now, as the snapshot found it (a held split, for promote and reject).
      ...(this.found ? { confirmed: this.found } : {}),
      ...start,
    });
    return this.journal;
  }

  finish(
    result: DeploymentReport["result"],
    reason: string,
    finalTraffic: TrafficWeight[],
  ): DeploymentReport {
    this.report.result = result;
    this.report.reason = reason;
    this.report.finalTraffic = finalTraffic;
    return this.report;
  }
}
