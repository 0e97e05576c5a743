/**
 * The run's journal: what a run must know to put the app back as it found it, kept in the host's
 * per-job state (the GitHub step's state, the task's variables) so that the post step or a cancel
 * handler can finish the job when the main step dies. The journal owns its lifecycle: it is
 * started before the first write that may move traffic, each write is recorded before it is sent,
 * and it is settled once the run has ended what it started.
 */
import type { StateStore } from "./ports.ts";
import type { Json } from "./revision/model.ts";
import type { TrafficWeight } from "./types.ts";

/** Key of the journal in the host's per-job state. */
export const JOURNAL_STATE_KEY = "aca-blue-green-journal";
/** The shape below; a journal of another version is refused rather than guessed at. */
export const JOURNAL_VERSION = 1;

/** A write the run is about to send, recorded before it is sent. */
export interface JournalWrite {
  kind: "create" | "traffic" | "activate" | "deactivate" | "tags";
  /** The traffic the write asks for (create and traffic writes). */
  traffic?: TrafficWeight[];
  /** The revision an activation or deactivation is for. */
  revision?: string;
  at: string;
}

export interface DeployJournal {
  version: typeof JOURNAL_VERSION;
  subscriptionId: string;
  resourceGroup: string;
  app: string;
  runId: string;
  /** The verb that started the journal: the post step names its result from it. */
  action?: string;
  candidate: string;
  /** Whether this run created (or woke) the candidate: only then may a restore deactivate it. */
  createdCandidate: boolean;
  keepFailedRevision: boolean;
  /** Traffic before the run: what a restore writes back. */
  before: TrafficWeight[];
  /** Tags as they were before the lease was taken. */
  tags: Record<string, string>;
  /**
   * `shifting` while traffic may differ from `before` (an interruption restores it); `promoting`
   * once the last step has baked and the previous revisions are being retired (an interruption
   * finishes the promotion: going back would weight revisions already deactivated); `settled`
   * once the run has ended what it started.
   */
  phase: "shifting" | "promoting" | "settled";
  /** The last write the run sent or was about to send; its outcome may be unknown. */
  lastWrite?: JournalWrite;
  /** The traffic the app was last confirmed to route after one of the run's writes. */
  confirmed?: TrafficWeight[];
  /** While promoting: the revisions still to deactivate. */
  retiring?: string[];
  /** The application-scope changes of the write that created the candidate; no secret values. */
  appScope?: {
    /** The configuration fields it changed, as they were: a restore writes them back. */
    configuration?: Json;
    /** Secrets it added: they stay. */
    addedSecrets: string[];
    /** Secrets whose value it changed: their old values are not kept here, so not put back. */
    changedSecrets: string[];
    /** Changes no restore puts back, and why. */
    notRestorable: string[];
  };
}

export type JournalStart = Omit<DeployJournal, "version" | "phase" | "lastWrite" | "retiring">;

/** The journal of one run, saved to the host's state at every change. */
export class RunJournal {
  readonly #state: StateStore;
  readonly #record: DeployJournal;

  private constructor(state: StateStore, record: DeployJournal) {
    this.#state = state;
    this.#record = record;
  }

  /** Saves a new journal in the `shifting` phase: from now on an interruption is recovered. */
  static start(state: StateStore, start: JournalStart): RunJournal {
    const journal = new RunJournal(state, {
      version: JOURNAL_VERSION,
      ...start,
      phase: "shifting",
    });
    journal.#save();
    return journal;
  }

  /** The journal a run saved in this job, if it saved one; throws when it cannot be read. */
  static load(state: StateStore): RunJournal | undefined {
    const saved = state.load(JOURNAL_STATE_KEY);
    if (!saved) return undefined;
    return new RunJournal(state, parseJournal(saved));
  }

  get record(): Readonly<DeployJournal> {
    return this.#record;
  }

  get settled(): boolean {
    return this.#record.phase === "settled";
  }

  get promoting(): boolean {
    return this.#record.phase === "promoting";
  }

  /** Records a write before it is sent, so a recovery knows how far the run got. */
  recordWrite(write: Omit<JournalWrite, "at">, now: number): void {
    this.#record.lastWrite = { ...write, at: new Date(now).toISOString() };
    this.#save();
  }

  /** The app was read back routing `traffic` after one of the run's writes. */
  confirm(traffic: TrafficWeight[]): void {
    this.#record.confirmed = traffic;
    this.#save();
  }

  /**
   * The traffic the app may route now if nobody else changed it: what the run last confirmed, and
   * the traffic of a write whose outcome is not known yet.
   */
  expectedTraffic(): TrafficWeight[][] {
    const { confirmed, lastWrite, before } = this.#record;
    const expected = [confirmed ?? before];
    if (lastWrite?.traffic) expected.push(lastWrite.traffic);
    return expected;
  }

  /** The promotion has begun: from here an interruption retires `retiring` instead of going back. */
  startPromotion(retiring: string[]): void {
    this.#record.phase = "promoting";
    this.#record.retiring = [...retiring];
    this.#save();
  }

  /** `revision` is deactivated: a recovery does not deactivate it again. */
  retired(revision: string): void {
    this.#record.retiring = (this.#record.retiring ?? []).filter((name) => name !== revision);
    this.#save();
  }

  /** The run has ended what it started: nothing is left for a recovery to do. */
  settle(): void {
    this.#record.phase = "settled";
    this.#save();
  }

  #save(): void {
    this.#state.save(JOURNAL_STATE_KEY, JSON.stringify(this.#record));
  }
}

/** Reads a saved journal, checking its version and the fields a restore needs. */
export function parseJournal(text: string): DeployJournal {
  let parsed: Partial<DeployJournal>;
  try {
    parsed = JSON.parse(text) as Partial<DeployJournal>;
  } catch {
    throw new Error("The saved journal of this job is not JSON; it cannot be used to restore.");
  }
  if (parsed.version !== JOURNAL_VERSION) {
    throw new Error(
      `The saved journal of this job has version ${String(parsed.version)}, not ${JOURNAL_VERSION}; it was written by another version of aca-blue-green and is not used.`,
    );
  }
  const complete =
    typeof parsed.app === "string" &&
    typeof parsed.resourceGroup === "string" &&
    typeof parsed.candidate === "string" &&
    Array.isArray(parsed.before) &&
    typeof parsed.tags === "object" &&
    (parsed.phase === "shifting" || parsed.phase === "promoting" || parsed.phase === "settled");
  if (!complete) {
    throw new Error("The saved journal of this job is incomplete; it cannot be used to restore.");
  }
  return parsed as DeployJournal;
}
