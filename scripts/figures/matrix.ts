/**
 * The fault matrix: every phase of a stepped rollout × every fault, each cell a real run of the
 * Action bundle (and its post step, as the runner always runs it) against its own emulator, the
 * end state checked against DESIGN.md's invariants.
 *
 * A cell acts at an exact moment of the run: on an ARM request as it arrives (the emulator's
 * `onArmRequest`, before the request is answered) or on a line of the run's log. ARM faults hit the
 * phase's own call (and the retries of it); a signal, someone else's traffic change or a failing
 * release happen while the phase runs. Hangs last 2 s and then drop the connection, as an idle
 * timeout between runner and Azure would: the bundle's own request timeout (60 s) cannot be
 * shortened from outside it.
 */
import type { RehearsalRun } from "../../emulator/rehearsal.ts";
import type { ArmFault, ArmRequestInfo, Emulator, TrafficEntry } from "../../emulator/types.ts";
import { checkEndState, type EndStateVerdict } from "./invariants.ts";
import {
  FAST_INPUTS,
  OTHERS_TAG,
  RESOURCE_GROUP,
  credsInputs,
  image,
  newJob,
  promotedTraffic,
  revisionsOf,
  runBundle,
  runTexts,
  sameTraffic,
  seedRolloutApp,
  seededTraffic,
  startWorld,
} from "./world.ts";

export const PHASES = [
  { id: "snapshot", title: "Snapshot" },
  { id: "create", title: "Create revision" },
  { id: "readiness", title: "Readiness" },
  { id: "smoke", title: "Smoke checks" },
  { id: "step-1", title: "Step 1 (10%)" },
  { id: "step-2", title: "Step 2 (50%)" },
  { id: "promotion", title: "Promotion (100%)" },
  { id: "deactivation-1", title: "Deactivation 1 (v1)" },
  { id: "deactivation-2", title: "Deactivation 2 (v1b)" },
  { id: "restore", title: "Restore" },
  { id: "restore-deactivation", title: "Restore: candidate deactivation" },
] as const;

export const FAULTS = [
  { id: "429", title: "429" },
  { id: "500", title: "500" },
  { id: "503", title: "503" },
  { id: "reset", title: "reset" },
  { id: "hang", title: "hang" },
  { id: "failed-lro", title: "failed LRO" },
  { id: "lock-conflict", title: "lock conflict" },
  { id: "revision-failed", title: "revision failed" },
  { id: "smoke-failure", title: "smoke failure" },
  { id: "drift", title: "drift" },
  { id: "sigterm", title: "SIGTERM" },
  { id: "kill-post", title: "kill -9, post step" },
  { id: "kill-next", title: "kill -9, next run" },
] as const;

export type PhaseId = (typeof PHASES)[number]["id"];
export type FaultId = (typeof FAULTS)[number]["id"];

export interface CellResult {
  phase: PhaseId;
  fault: FaultId;
  status: "consistent" | "inconsistent" | "n/a";
  /** Why a cell does not apply, or what the invariant check saw. */
  violations: string[];
  notes: string[];
  result?: string;
  ended?: EndStateVerdict["ended"];
  ms: number;
}

/** What an ARM request is about, from its path. */
type Target =
  | "app"
  | "revisions"
  | "operation-result"
  | "operation-status"
  | `revision:${string}`
  | `deactivate:${string}`
  | "other";

function targetOf(path: string): Target {
  const revision = /\/containerApps\/[^/]+\/revisions\/([^/]+)(\/deactivate)?$/i.exec(path);
  if (revision) return revision[2] ? `deactivate:${revision[1]}` : `revision:${revision[1]}`;
  if (/\/containerApps\/[^/]+\/revisions$/i.test(path)) return "revisions";
  if (/\/containerApps\/[^/]+$/i.test(path)) return "app";
  if (/containerappOperationResults\//i.test(path)) return "operation-result";
  if (/containerappOperationStatuses\//i.test(path)) return "operation-status";
  return "other";
}

/** The moment a cell acts: the nth ARM request of a kind, or a line of the main run's log. */
type Moment =
  | {
      on: "request";
      method: string;
      target: Target;
      nth: number;
      /** Count only requests after the release was made to fail (the restore's). */
      afterFailure?: boolean;
      /** Count only requests this accepts. */
      when?: (request: ArmRequestInfo, emulator: Emulator) => boolean;
    }
  | { on: "line"; pattern: RegExp };

/** What a cell does at its moment. */
type Action =
  | { kind: "arm"; fault: ArmFault }
  | { kind: "drift" }
  | { kind: "behaviour"; behaviour: "crash" | "http500" }
  | { kind: "signal"; signal: "SIGTERM" | "SIGKILL" };

interface CellPlan {
  /** The candidate's image behaviour. */
  behaviour: string;
  /** Make the candidate fail at step 2, so that the run restores (the restore phases). */
  failAtStep2: boolean;
  moment?: Moment;
  action?: Action;
  /** A fault of the candidate's own image or revision, with nothing to do at a moment. */
  revisionFault?: "fail-provisioning";
  afterKill: "post" | "next-run";
}

const STEP_LINE = (k: number) => new RegExp(`^\\[${k}/3\\] `);
const SMOKE_LINE = /^Checking https:\/\//;

/** The phase's own ARM call: where its ARM faults land. */
function armCall(phase: PhaseId, app: string): Moment {
  const r = revisionsOf(app);
  switch (phase) {
    case "snapshot":
      return { on: "request", method: "GET", target: "app", nth: 1 };
    case "create":
      return { on: "request", method: "PATCH", target: "app", nth: 1 };
    case "readiness":
      return { on: "request", method: "GET", target: `revision:${r.candidate}`, nth: 1 };
    case "smoke":
      // The checks make no ARM call: the first one after them is the read before step 1.
      return { on: "request", method: "GET", target: "app", nth: 2 };
    case "step-1":
      return { on: "request", method: "PATCH", target: "app", nth: 2 };
    case "step-2":
      return { on: "request", method: "PATCH", target: "app", nth: 3 };
    case "promotion":
      return { on: "request", method: "PATCH", target: "app", nth: 4 };
    case "deactivation-1":
      return { on: "request", method: "POST", target: `deactivate:${r.main}`, nth: 1 };
    case "deactivation-2":
      return { on: "request", method: "POST", target: `deactivate:${r.second}`, nth: 1 };
    case "restore":
      return restoreWrite(app);
    case "restore-deactivation":
      return { on: "request", method: "POST", target: `deactivate:${r.candidate}`, nth: 1 };
  }
}

/** The restore's traffic write: a PATCH that sets the traffic the run found. */
function restoreWrite(app: string): Moment {
  return {
    on: "request",
    method: "PATCH",
    target: "app",
    nth: 1,
    afterFailure: true,
    when: (request) => sameTraffic(trafficOfPatch(request.body), seededTraffic(app)),
  };
}

/** While the phase runs: where a signal or a failing release lands. */
function during(phase: PhaseId, app: string): Moment {
  const r = revisionsOf(app);
  switch (phase) {
    case "readiness":
      // Once the revision has a replica (it can then crash or fail its requests).
      return {
        on: "request",
        method: "GET",
        target: `revision:${r.candidate}`,
        nth: 1,
        when: (_request, emulator) => {
          const revision = emulator
            .getApp(RESOURCE_GROUP, app)
            .revisions.find((rev) => rev.name === r.candidate);
          return revision?.runningState === "Activating" || revision?.runningState === "Running";
        },
      };
    case "smoke":
      return { on: "line", pattern: SMOKE_LINE };
    case "step-1":
      return { on: "line", pattern: STEP_LINE(1) };
    case "step-2":
      return { on: "line", pattern: STEP_LINE(2) };
    case "promotion":
      return { on: "line", pattern: STEP_LINE(3) };
    default:
      return armCall(phase, app);
  }
}

/** When someone else changes the traffic: between the run's reads and writes of the phase. */
function driftMoment(phase: PhaseId, app: string): Moment {
  const r = revisionsOf(app);
  switch (phase) {
    case "snapshot":
      // After the snapshot's reads, as the write that creates the candidate arrives.
      return { on: "request", method: "PATCH", target: "app", nth: 1 };
    case "create":
      // The create's operation has ended; its read-back is answered next.
      return { on: "request", method: "GET", target: "operation-result", nth: 1 };
    case "deactivation-1":
    case "deactivation-2":
    case "restore-deactivation":
      return armCall(phase, app);
    case "restore":
      // The restore's first read (the revisions it may have to wake), before its fresh read.
      return { on: "request", method: "GET", target: "revisions", nth: 1, afterFailure: true };
    case "readiness":
      return { on: "request", method: "GET", target: `revision:${r.candidate}`, nth: 1 };
    default:
      return during(phase, app);
  }
}

const ARM_FAULTS: Partial<Record<FaultId, ArmFault>> = {
  // One more than the SDK's own three retries, so that the tool's retries are exercised too.
  "429": { kind: "status", status: 429, retryAfterSeconds: 1, count: 4 },
  "500": { kind: "status", status: 500, count: 4 },
  "503": { kind: "status", status: 503, count: 4 },
  reset: { kind: "reset", count: 4 },
  hang: { kind: "hang", forMs: 2_000, count: 1 },
  "failed-lro": { kind: "operation-failed", count: 1 },
  "lock-conflict": { kind: "lock-conflict", count: 2 },
};

const READS: PhaseId[] = ["snapshot", "readiness", "smoke"];
const POSTS: PhaseId[] = ["deactivation-1", "deactivation-2", "restore-deactivation"];
const PROMOTING: PhaseId[] = ["deactivation-1", "deactivation-2"];
const RESTORING: PhaseId[] = ["restore", "restore-deactivation"];

/** Why a cell does not apply, or undefined when it does. */
export function notApplicable(phase: PhaseId, fault: FaultId): string | undefined {
  switch (fault) {
    case "failed-lro":
      if (READS.includes(phase)) return "the phase reads only: no operation to fail";
      if (POSTS.includes(phase)) return "a deactivation is a synchronous POST: no operation";
      return undefined;
    case "lock-conflict":
      return READS.includes(phase) ? "reads are not locked" : undefined;
    case "revision-failed":
    case "smoke-failure":
      if (phase === "snapshot") return "there is no candidate yet";
      if (phase === "create" && fault === "smoke-failure")
        return "the candidate serves nothing yet";
      if (PROMOTING.includes(phase)) {
        return "the promotion has begun: the candidate passed its checks, and the tool finishes the promotion";
      }
      if (RESTORING.includes(phase)) return "the candidate has already failed";
      return undefined;
    default:
      return undefined;
  }
}

export function planCell(phase: PhaseId, fault: FaultId, app: string): CellPlan {
  const plan: CellPlan = {
    behaviour: "healthy-v2",
    failAtStep2: RESTORING.includes(phase),
    afterKill: fault === "kill-next" ? "next-run" : "post",
  };
  const arm = ARM_FAULTS[fault];
  // A phase that lasts no time at all would end before a signal sent on its log line lands.
  const slowSmoke = phase === "smoke" && !arm;
  if (slowSmoke) plan.behaviour = "slow-300";
  if (arm) return { ...plan, moment: armCall(phase, app), action: { kind: "arm", fault: arm } };
  switch (fault) {
    case "revision-failed":
      if (phase === "create") return { ...plan, revisionFault: "fail-provisioning" };
      return {
        ...plan,
        moment: during(phase, app),
        action: { kind: "behaviour", behaviour: "crash" },
      };
    case "smoke-failure":
      if (phase === "smoke") return { ...plan, behaviour: "http500" };
      return {
        ...plan,
        moment: during(phase, app),
        action: { kind: "behaviour", behaviour: "http500" },
      };
    case "drift":
      return { ...plan, moment: driftMoment(phase, app), action: { kind: "drift" } };
    case "sigterm":
      return { ...plan, moment: during(phase, app), action: { kind: "signal", signal: "SIGTERM" } };
    default:
      return { ...plan, moment: during(phase, app), action: { kind: "signal", signal: "SIGKILL" } };
  }
}

/** The traffic array a PATCH body sets, or [] when it sets none. */
function trafficOfPatch(body: unknown): TrafficEntry[] {
  const traffic = (
    body as { properties?: { configuration?: { ingress?: { traffic?: TrafficEntry[] } } } }
  )?.properties?.configuration?.ingress?.traffic;
  return Array.isArray(traffic) ? traffic : [];
}

/** Someone else's change: ten points from the revision with the most weight to the bystander. */
function driftOf(traffic: TrafficEntry[], bystander: string): TrafficEntry[] {
  const top = traffic.reduce((best, e) => (e.weight > best.weight ? e : best), traffic[0]);
  return traffic.map((e) =>
    e === top
      ? { ...e, weight: e.weight - 10 }
      : e.revisionName === bystander
        ? { ...e, weight: e.weight + 10 }
        : e,
  );
}

const DRIFT_REPORTED =
  /TrafficChangedExternally|Someone else changed|someone else wrote|left as (they set it|found)/i;

/** Runs one cell in its own emulator and checks the end state. */
export async function runCell(phase: PhaseId, fault: FaultId): Promise<CellResult> {
  const started = Date.now();
  const reason = notApplicable(phase, fault);
  if (reason) return { phase, fault, status: "n/a", violations: [reason], notes: [], ms: 0 };
  const emulator = await startWorld();
  try {
    return await runPlannedCell(emulator, phase, fault, started);
  } finally {
    await emulator.stop();
  }
}

async function runPlannedCell(
  emulator: Emulator,
  phase: PhaseId,
  fault: FaultId,
  started: number,
): Promise<CellResult> {
  const app = "shop";
  const r = revisionsOf(app);
  const plan = planCell(phase, fault, app);
  await seedRolloutApp(emulator, app);
  emulator.clearJournal();
  if (plan.revisionFault) emulator.injectRevisionFault({ app, mode: plan.revisionFault });

  const job = newJob();
  const inputs = {
    "container-app": app,
    image: image(plan.behaviour),
    "revision-suffix": "v2",
    ...FAST_INPUTS,
    ...credsInputs(emulator),
  };
  let applied = plan.moment === undefined;
  let failed = false;
  let theirs: TrafficEntry[] | undefined;
  let pid: number | undefined;
  let mainClosed: Promise<unknown> = Promise.resolve();
  let retriesLeft = 0;
  let retryKey = "";
  const counts = new Map<string, number>();

  const act = async (request?: ArmRequestInfo): Promise<void> => {
    const action = plan.action;
    if (!action) return;
    applied = true;
    switch (action.kind) {
      case "arm":
        if (!request) return;
        emulator.injectArmFault({
          ...action.fault,
          count: 1,
          match: { method: request.method, pathContains: request.path },
        });
        retriesLeft = action.fault.count - 1;
        retryKey = `${request.method} ${request.path}`;
        return;
      case "drift": {
        const now = emulator.getApp(RESOURCE_GROUP, app).traffic;
        theirs = driftOf(now, r.bystander);
        await emulator.setTraffic(RESOURCE_GROUP, app, theirs);
        return;
      }
      case "behaviour":
        await emulator.setRevisionBehaviour(RESOURCE_GROUP, app, r.candidate, action.behaviour);
        return;
      case "signal":
        if (pid !== undefined) process.kill(pid, action.signal);
        // A write that arrives as its sender dies lands after the death, not before.
        if (action.signal === "SIGKILL" && request) await mainClosed;
        return;
    }
  };

  const moment = plan.moment;
  const remove = emulator.onArmRequest((request) => {
    const key = `${request.method} ${request.path}`;
    if (retriesLeft > 0 && key === retryKey) {
      retriesLeft--;
      const action = plan.action as { kind: "arm"; fault: ArmFault };
      emulator.injectArmFault({
        ...action.fault,
        count: 1,
        match: { method: request.method, pathContains: request.path },
      });
      return;
    }
    if (applied || moment?.on !== "request") return;
    if (request.method !== moment.method || targetOf(request.path) !== moment.target) return;
    if (moment.afterFailure && !failed) return;
    if (moment.when && !moment.when(request, emulator)) return;
    const seen = (counts.get(key) ?? 0) + 1;
    counts.set(key, seen);
    if (seen !== moment.nth) return;
    return act(request);
  });

  const pending: Promise<unknown>[] = [];
  const onLine = (text: string) => {
    if (plan.failAtStep2 && !failed && STEP_LINE(2).test(text)) {
      failed = true;
      pending.push(emulator.setRevisionBehaviour(RESOURCE_GROUP, app, r.candidate, "http500"));
    }
    if (!applied && moment?.on === "line" && moment.pattern.test(text)) pending.push(act());
  };

  const runs: [string, RehearsalRun][] = [];
  try {
    const mainRun = runBundle(emulator, {
      inputs,
      job,
      onLine,
      onSpawn: (spawned) => (pid = spawned),
    });
    mainClosed = mainRun.catch(() => undefined);
    const main = await mainRun;
    await Promise.allSettled(pending);
    runs.push(["main", main]);
    if (plan.afterKill === "next-run" && main.signal === "SIGKILL") {
      const again = { ...job, attempt: 2 };
      const next = await runBundle(emulator, { inputs, job: again });
      runs.push(["next run", next]);
      runs.push([
        "next run's post",
        await runBundle(emulator, { inputs, job: again, entry: "dist/post.js", state: next.state }),
      ]);
    } else {
      runs.push([
        "post",
        await runBundle(emulator, { inputs, job, entry: "dist/post.js", state: main.state }),
      ]);
    }
  } finally {
    remove();
  }

  const violations: string[] = [];
  const view = emulator.getApp(RESOURCE_GROUP, app);
  if (!applied) violations.push("the fault was never applied: its moment never came");
  if (plan.action?.kind === "arm" && !emulator.armJournal().some((e) => e.fault)) {
    violations.push("no ARM call was answered by the injected fault");
  }
  if (plan.action?.kind === "signal" && plan.action.signal === "SIGKILL") {
    if (runs[0][1].signal !== "SIGKILL") violations.push("the main step was not killed");
  }
  if (plan.revisionFault) {
    const candidate = view.revisions.find((rev) => rev.name === r.candidate);
    if (candidate?.provisioningState !== "Failed") {
      violations.push("the candidate revision did not fail to provision");
    }
  }
  const result = [...runs].reverse().find(([, run]) => run.outputs.result)?.[1].outputs.result;
  for (const [name, run] of runs) {
    if (run.signal) continue;
    const success = ["promoted", "unchanged", "held"].includes(run.outputs.result ?? "");
    const isPost = name.endsWith("post");
    const expected = isPost ? 0 : success ? 0 : 1;
    if (run.exitCode !== expected) {
      const last = run.lines
        .map((l) => l.text)
        .filter((t) => t.startsWith("::error::"))
        .at(-1);
      violations.push(
        `${name} exited ${run.exitCode}${run.outputs.result ? ` with result ${run.outputs.result}` : ""}${last ? `: ${last.slice(9, 300)}` : ""}`,
      );
    }
  }
  const texts = runs.flatMap(([name, run]) => runTexts(run, name));
  const verdict = checkEndState({
    view,
    before: seededTraffic(app),
    promoted: promotedTraffic(app),
    candidate: r.candidate,
    retired: [r.main, r.second],
    promotionWritten: emulator
      .armJournal()
      .some(
        (e) =>
          e.method === "PATCH" &&
          e.status === 202 &&
          !e.fault &&
          sameTraffic(trafficOfPatch(e.body), promotedTraffic(app)),
      ),
    result,
    theirs,
    reportedDrift: texts.some(([, text]) => DRIFT_REPORTED.test(text)),
    othersTags: OTHERS_TAG,
    texts,
    writes: emulator.armJournal().filter((e) => e.method !== "GET"),
    secrets: [emulator.info.clientSecret],
  });
  violations.push(...verdict.violations);
  return {
    phase,
    fault,
    status: violations.length === 0 ? "consistent" : "inconsistent",
    violations,
    notes: verdict.notes,
    result,
    ended: verdict.ended,
    ms: Date.now() - started,
  };
}

/** Every cell of the matrix, row by row. */
export function allCells(): { phase: PhaseId; fault: FaultId }[] {
  return PHASES.flatMap(({ id: phase }) => FAULTS.map(({ id: fault }) => ({ phase, fault })));
}
