/**
 * The gates of a rollout: checked before the first write (`prepareGates`: every gate can read its
 * data), then run during each step's bake (`bakeWithGates`, the hook of `bakeStep`). While the
 * smoke checks keep running, the side-by-side judge sends its request mix and the judges look at
 * every fifth of the bake: a failing gate ends the step at once; at the end of the bake the
 * production gates wait for their window to be complete, and a gate that still lacks data extends
 * the bake (up to `max-bake-extension`) before `inconclusive` decides.
 */
import { LOOKS_PER_BAKE, alphaPerLook, lookOffsets, looksPerStep } from "../judge/budget.ts";
import { compareErrorRates, compareLatencies, formatP, worstVerdict } from "../judge/compare.ts";
import {
  GATE_COMPARISONS,
  type ComparisonVerdict,
  type StepGates,
  type Verdict,
} from "../judge/types.ts";
import { DeployFailure, errorMessage } from "../failure.ts";
import { revisionUrl } from "../naming.ts";
import { formatDuration, formatShortDuration } from "../report/format.ts";
import { weightsByRevision } from "../traffic/plan.ts";
import type { CheckRound, GateInputs, StepRecord, TrafficWeight } from "../types.ts";
import type { RolloutContext } from "./context.ts";
import { latencySummary, lookAtHttpLogs, lookAtRequests, verdict } from "./productionGates.ts";
import { SideBySideTraffic } from "./sideBySide.ts";

/** The gates of one run, as checked before its first write. */
export interface GateSession {
  inputs: GateInputs;
  /** The revision the candidate is compared with: the one that served production before. */
  stable: string;
  stableUrl: string;
  environmentId?: string;
  /** The significance level of every comparison at every look. */
  alpha: number;
}

/** A step whose gates lacked data to the end, stopped as a held deployment (`inconclusive: hold`). */
export class HeldByGates extends DeployFailure {
  readonly step: number;
  readonly traffic: TrafficWeight[];

  constructor(message: string, step: number, traffic: TrafficWeight[]) {
    super(message, { code: "GateInconclusive" });
    this.name = "HeldByGates";
    this.step = step;
    this.traffic = traffic;
  }
}

/** How far back the checks before the first write read, to prove that the data can be read. */
const PROBE_WINDOW_MS = 5 * 60_000;

/**
 * Phase "Gates": before any write, the stable revision to compare with must be known and each
 * production gate must be able to read its data; the budget of each look is set. A gate that
 * cannot work fails the run here, naming `gates`, with nothing changed.
 */
export async function prepareGates(
  ctx: RolloutContext,
  target: { appName: string; fqdn: string; environmentId?: string; stable?: string; steps: number },
): Promise<void> {
  const inputs = ctx.inputs.gates;
  if (!inputs) return;
  const { clock, log, monitor, signal } = ctx.deps;
  const nextSteps = "Fix the cause or change `gates`; nothing was changed.";
  const unavailable = (message: string) =>
    new DeployFailure(`\`gates\`: ${message}`, { code: "GateUnavailable", nextSteps });
  if (!target.stable) {
    throw unavailable(
      `there is no stable revision to compare the new revision with: ${target.appName} serves no other revision.`,
    );
  }
  const production = inputs.gates.filter((gate) => gate !== "side-by-side");
  if (production.length > 0 && !monitor) {
    throw unavailable(
      `${production.join(" and ")} need Azure Monitor, which this run cannot reach.`,
    );
  }
  const now = clock.now();
  const probe = { from: now - PROBE_WINDOW_MS, to: now };
  if (monitor && inputs.gates.includes("production-errors")) {
    try {
      await monitor.requestsByMinute(probe, [target.stable], { signal });
    } catch (error) {
      throw unavailable(
        `production-errors cannot read the Requests metric of ${target.appName}: ${errorMessage(error)} The identity needs Monitoring Reader on the app.`,
      );
    }
  }
  if (monitor && inputs.gates.includes("production-latency")) {
    const environmentId = target.environmentId ?? "";
    let destination;
    try {
      destination = await monitor.httpLogsDestination(environmentId, { signal });
    } catch (error) {
      throw unavailable(
        `production-latency cannot read the diagnostic settings of the app's environment: ${errorMessage(error)}`,
      );
    }
    if (destination.problem) throw unavailable(`production-latency: ${destination.problem}`);
    try {
      await monitor.httpLogs(environmentId, probe, [target.stable], { signal });
    } catch (error) {
      throw unavailable(
        `production-latency cannot query ContainerAppHTTPLogs on the app's environment: ${errorMessage(error)} The identity needs Log Analytics Reader on the workspace.`,
      );
    }
    log.info(
      `HTTP logs of the environment go to workspace ${destination.workspaceId ?? "(unknown)"}${destination.customerId ? ` (customer id ${destination.customerId})` : ""}`,
    );
  }
  const comparisons = inputs.gates.reduce((sum, gate) => sum + GATE_COMPARISONS[gate].length, 0);
  const plan = {
    falseAlarmRate: inputs.falseAlarmRate,
    steps: target.steps,
    comparisons,
    extends: inputs.maxExtensionMs > 0,
  };
  const alpha = alphaPerLook(plan);
  ctx.gates = {
    inputs,
    stable: target.stable,
    stableUrl: revisionUrl(target.fqdn, target.appName, target.stable),
    ...(target.environmentId && { environmentId: target.environmentId }),
    alpha,
  };
  log.info(
    `Gates: ${inputs.gates.join(", ")}, against ${target.stable}. Each comparison at each look needs p < ${formatP(alpha)}: a false-alarm rate of ${percentText(inputs.falseAlarmRate)} over ${plan.steps} step(s) × ${comparisons} comparison(s) × ${looksPerStep(plan)} look(s).`,
  );
  if (production.length > 0) {
    log.info(
      `Production gates read late data: each step waits up to \`ingestion-allowance\` (${formatShortDuration(inputs.ingestionAllowanceMs)}) after its bake for its window to be complete.`,
    );
  }
}

type Bake = (durationMs: number, signal?: AbortSignal) => Promise<CheckRound | undefined>;

/**
 * The bake of one step with its gates: `bake` keeps the smoke checks running for a while and
 * returns a failing round. Returns the failing round of checks, if any; throws when a gate fails,
 * or lacks data to the end and `inconclusive` is not `pass`.
 */
export async function bakeWithGates(
  ctx: RolloutContext,
  record: StepRecord,
  candidateUrl: string,
  bake: Bake,
): Promise<CheckRound | undefined> {
  const session = ctx.gates;
  if (!session) return bake(ctx.inputs.stepWaitMs, ctx.deps.signal);
  return new StepGatesRun(ctx, session, record, candidateUrl).run(bake);
}

class StepGatesRun {
  readonly #ctx: RolloutContext;
  readonly #session: GateSession;
  readonly #record: StepRecord;
  readonly #stop = new AbortController();
  readonly #signal: AbortSignal;
  readonly #traffic?: SideBySideTraffic;
  readonly #report: StepGates = {
    verdict: "inconclusive",
    reason: "",
    looks: 0,
    extendedMs: 0,
    waitedMs: 0,
    comparisons: [],
  };
  #start = 0;

  constructor(ctx: RolloutContext, session: GateSession, record: StepRecord, candidateUrl: string) {
    this.#ctx = ctx;
    this.#session = session;
    this.#record = record;
    const outer = ctx.deps.signal;
    this.#signal = outer ? AbortSignal.any([outer, this.#stop.signal]) : this.#stop.signal;
    const { sideBySide, gates } = session.inputs;
    if (gates.includes("side-by-side")) {
      this.#traffic = new SideBySideTraffic({
        probe: ctx.deps.probe,
        clock: ctx.deps.clock,
        requests: sideBySide.requests,
        candidateUrl,
        stableUrl: session.stableUrl,
        ratePerSecond: sideBySide.ratePerSecond,
        budget: sideBySide.budget,
        warmUp: sideBySide.warmUp,
      });
    }
    record.gates = this.#report;
  }

  async run(bake: Bake): Promise<CheckRound | undefined> {
    const { clock } = this.#ctx.deps;
    const { inputs } = this.#session;
    const bakeMs = this.#ctx.inputs.stepWaitMs;
    this.#start = clock.now();
    const offsets = lookOffsets(bakeMs, inputs.maxExtensionMs);
    const bakeEnd = this.#start + bakeMs;
    const pauses = new AbortController();
    this.#traffic?.start(this.#signal);
    try {
      // The smoke checks run for the whole bake while the looks happen beside them.
      const baking = bake(bakeMs, this.#signal).then(
        (round) => ({ round }),
        (error: unknown) => ({ error }),
      );
      let ended: { round?: CheckRound; error?: unknown } | undefined;
      void baking.then((outcome) => (ended = outcome));
      for (let index = 0; index < LOOKS_PER_BAKE - 1; index++) {
        const pause = clock
          .sleep(Math.max(0, this.#start + offsets[index] - clock.now()), pauses.signal)
          .catch(() => undefined);
        await Promise.race([pause, baking]);
        if (ended) break;
        const verdicts = await this.#look();
        if (worstVerdict(verdicts.map((v) => v.verdict)) === "fail") {
          this.#stop.abort();
          await baking;
          return this.#fail(verdicts);
        }
      }
      const baked = await baking;
      if ("error" in baked) throw baked.error;
      if (baked.round) return this.#checksFailed(baked.round);
      const waited = await this.#waitForCompleteData(bake, bakeEnd);
      if (waited) return this.#checksFailed(waited);
      for (let index = LOOKS_PER_BAKE - 1; index < offsets.length; index++) {
        if (index >= LOOKS_PER_BAKE) {
          this.#report.extendedMs = offsets[index] - bakeMs;
          const failed = await this.#bakeUntil(bake, this.#start + offsets[index]);
          if (failed) return this.#checksFailed(failed);
        }
        const verdicts = await this.#look();
        const overall = worstVerdict(verdicts.map((v) => v.verdict));
        if (overall === "fail") return this.#fail(verdicts);
        if (overall !== "inconclusive") return this.#pass(verdicts);
      }
      return this.#inconclusive(this.#report.comparisons);
    } finally {
      pauses.abort();
      this.#stop.abort();
      await this.#traffic?.stopped();
      this.#report.requestsSent = this.#traffic?.sent;
    }
  }

  /** The smoke checks failed the step before the gates had their say. */
  #checksFailed(round: CheckRound): CheckRound {
    this.#settle("skipped", "not judged to the end: the smoke checks failed the step first");
    return round;
  }

  /** Keeps the smoke checks running until `until`. */
  async #bakeUntil(bake: Bake, until: number): Promise<CheckRound | undefined> {
    const left = until - this.#ctx.deps.clock.now();
    return bake(Math.max(0, left), this.#signal);
  }

  /**
   * At the end of the bake: production data arrive late, so the smoke checks keep running until a
   * later minute of the stable revision shows the window is complete, or the allowance has passed.
   */
  async #waitForCompleteData(bake: Bake, bakeEnd: number): Promise<CheckRound | undefined> {
    const { inputs } = this.#session;
    const production = inputs.gates.some((gate) => gate !== "side-by-side");
    if (!production) return undefined;
    const { clock, log } = this.#ctx.deps;
    const began = clock.now();
    const deadline = bakeEnd + inputs.ingestionAllowanceMs;
    const gap = Math.max(250, Math.min(5_000, inputs.ingestionAllowanceMs / 10));
    let logged = false;
    for (;;) {
      const completeTo = await this.#productionCompleteTo();
      if (completeTo >= bakeEnd || clock.now() >= deadline) break;
      if (!logged) {
        log.info(
          `Waiting up to ${formatDuration(deadline - clock.now())} for the production data of step ${this.#record.index} to arrive (complete to ${formatDuration(Math.max(0, completeTo - this.#start))} of ${formatDuration(bakeEnd - this.#start)})`,
        );
        logged = true;
      }
      const failed = await bake(Math.min(gap, Math.max(0, deadline - clock.now())), this.#signal);
      if (failed) return failed;
    }
    this.#report.waitedMs = clock.now() - began;
    return undefined;
  }

  /** Until when every production gate's data are complete now. */
  async #productionCompleteTo(): Promise<number> {
    const looks = await this.#productionLooks();
    return Math.min(...looks.map((look) => look.completeTo));
  }

  async #productionLooks(): Promise<{ verdicts: ComparisonVerdict[]; completeTo: number }[]> {
    const { inputs, stable, alpha, environmentId } = this.#session;
    const { monitor, clock } = this.#ctx.deps;
    if (!monitor) return [];
    const look = {
      monitor,
      candidate: this.#candidate(),
      stable,
      stableServes: (weightsByRevision(this.#record.traffic).get(stable) ?? 0) > 0,
      stepStart: this.#start,
      now: clock.now(),
      allowanceMs: inputs.ingestionAllowanceMs,
      alpha,
      settings: inputs.judge,
      ...(environmentId && { environmentId }),
      signal: this.#signal,
    };
    const looks: Promise<{ verdicts: ComparisonVerdict[]; completeTo: number }>[] = [];
    if (inputs.gates.includes("production-errors")) {
      looks.push(this.#guard("production-errors", () => lookAtRequests(look), look.now));
    }
    if (inputs.gates.includes("production-latency")) {
      looks.push(this.#guard("production-latency", () => lookAtHttpLogs(look), look.now));
    }
    return Promise.all(looks);
  }

  /** A query that fails leaves its comparisons without data for this look: never a pass. */
  async #guard(
    gate: "production-errors" | "production-latency",
    read: () => Promise<{ verdicts: ComparisonVerdict[]; completeTo: number }>,
    now: number,
  ): Promise<{ verdicts: ComparisonVerdict[]; completeTo: number }> {
    try {
      return await read();
    } catch (error) {
      if (this.#signal.aborted) throw error;
      const reason = `its data could not be read: ${errorMessage(error)}`;
      this.#ctx.deps.log.warning(`Gate ${gate}: ${reason}`);
      return {
        completeTo: now - this.#session.inputs.ingestionAllowanceMs,
        verdicts: GATE_COMPARISONS[gate].map((comparison) => ({
          comparison,
          verdict: "inconclusive" as Verdict,
          reason,
          alpha: this.#session.alpha,
          candidate: { revision: this.#candidate(), samples: 0 },
        })),
      };
    }
  }

  /** Every gate's comparisons on the data so far; logged, and kept in the step's record. */
  async #look(): Promise<ComparisonVerdict[]> {
    const verdicts = [...this.#sideBySideVerdicts()];
    for (const look of await this.#productionLooks()) verdicts.push(...look.verdicts);
    this.#report.looks++;
    this.#report.comparisons = verdicts;
    const { log, clock } = this.#ctx.deps;
    const at = formatDuration(clock.now() - this.#start);
    log.info(
      `Gates, step ${this.#record.index}, look ${this.#report.looks} at ${at}: ${verdicts.map((v) => `${v.comparison} ${v.verdict}`).join(", ")}`,
    );
    return verdicts;
  }

  #sideBySideVerdicts(): ComparisonVerdict[] {
    if (!this.#traffic) return [];
    const { alpha, stable, inputs } = this.#session;
    const { candidate, stable: baseline } = this.#traffic.samples();
    const candidateSide = latencySummary(
      this.#candidate(),
      candidate.trials,
      candidate.errors,
      candidate.latencies,
    );
    const stableSide = latencySummary(stable, baseline.trials, baseline.errors, baseline.latencies);
    const settings = inputs.judge;
    return [
      verdict(
        "side-by-side errors",
        compareErrorRates(
          candidate,
          baseline,
          { minSamples: settings.minSamples, margin: settings.errorRateMargin },
          alpha,
        ),
        alpha,
        candidateSide,
        stableSide,
      ),
      verdict(
        "side-by-side latency",
        compareLatencies(
          candidate.latencies,
          baseline.latencies,
          { minSamples: settings.minSamples, ratio: settings.latencyRatio },
          alpha,
        ),
        alpha,
        candidateSide,
        stableSide,
      ),
    ];
  }

  #candidate(): string {
    return this.#ctx.report.candidate ?? "";
  }

  #fail(verdicts: ComparisonVerdict[]): never {
    const failed = verdicts.filter((v) => v.verdict === "fail");
    const reason = failed.map((v) => `${v.comparison}: ${v.reason}`).join("; ");
    this.#settle("fail", reason);
    this.#logVerdicts(verdicts);
    this.#record.failure = `gates failed: ${failed.map((v) => v.comparison).join(", ")}`;
    throw new DeployFailure(
      `Gates failed at step ${this.#record.index} (${this.#record.weight}% to ${this.#candidate()}): ${reason}.`,
      {
        code: "GateFailed",
        nextSteps: "The previous traffic was restored; fix the release and deploy again.",
      },
    );
  }

  #pass(verdicts: ComparisonVerdict[]): undefined {
    const passed = verdicts.filter((v) => v.verdict === "pass").map((v) => v.comparison);
    this.#settle("pass", `${passed.join(", ") || "nothing to compare"} passed`);
    this.#logVerdicts(verdicts);
    return undefined;
  }

  #inconclusive(verdicts: ComparisonVerdict[]): undefined {
    const { inconclusive, maxExtensionMs } = this.#session.inputs;
    const lacking = verdicts.filter((v) => v.verdict === "inconclusive");
    const why = lacking.map((v) => `${v.comparison}: ${v.reason}`).join("; ");
    const extended =
      maxExtensionMs > 0
        ? ` after extending the bake by ${formatShortDuration(maxExtensionMs)}`
        : "";
    this.#logVerdicts(verdicts);
    const step = `step ${this.#record.index} (${this.#record.weight}% to ${this.#candidate()})`;
    if (inconclusive === "pass") {
      this.#settle(
        "inconclusive",
        `too little data${extended}; passed as \`inconclusive: pass\` says: ${why}`,
      );
      this.#ctx.deps.log.warning(
        `Gates of ${step} had too little data${extended}; going on as \`inconclusive: pass\` says: ${why}`,
      );
      return undefined;
    }
    this.#settle("inconclusive", `too little data${extended}: ${why}`);
    this.#record.failure = `gates inconclusive: too little data for ${lacking.map((v) => v.comparison).join(", ")}`;
    const message = `Gates of ${step} had too little data${extended}: ${why}.`;
    if (inconclusive === "hold") {
      throw new HeldByGates(message, this.#record.index, this.#record.traffic);
    }
    throw new DeployFailure(message, {
      code: "GateInconclusive",
      nextSteps:
        "The previous traffic was restored. Send the new revision traffic while it bakes, lower `min-samples` / `min-requests`, allow a longer `max-bake-extension`, or set `inconclusive`.",
    });
  }

  #settle(result: Verdict, reason: string): void {
    this.#report.verdict = result;
    this.#report.reason = reason;
  }

  #logVerdicts(verdicts: ComparisonVerdict[]): void {
    const { log } = this.#ctx.deps;
    for (const v of verdicts) log.info(`  ${v.comparison}: ${v.verdict}, ${v.reason}`);
  }
}

function percentText(fraction: number): string {
  const value = fraction * 100;
  return `${Number.isInteger(value) ? value : value.toFixed(2)}%`;
}
