/**
 * The projection of a rollout onto Azure's clock, and of the same work done the way Microsoft's
 * blue-green documentation does it with the Azure CLI. Both are simulated over the azure timing
 * profile's own draws (the durations recorded on the service, emulator/timing.ts), the same draw
 * for the same piece of work on both sides, so that the ratio compares the flows and not the luck.
 */
import { createTiming } from "../../emulator/timing.ts";
import { DEFAULT_TIMING, pollGaps, type PollSchedule } from "../../src/core/timing.ts";

/** Assumed, not measured: the latency of one ARM request and of one token request from a runner. */
export const ASSUMED = { armMs: 150, tokenMs: 250 };
/** The Azure CLI's container app commands poll every 2 s (`POLLING_SECONDS` in its `_clients.py`). */
export const CLI_POLL_MS = 2_000;
/** Assumed when the Azure CLI cannot be run here: its start to a command's first request. */
export const ASSUMED_CLI_START_MS = 1_000;

/** What the benchmark measured of our own run, on the fast profile. */
export interface Measured {
  /** Overhead less polling lag: start, sign-in, reads, our own work, at the emulator's latency. */
  ownMs: number;
  roundTrips: number;
  tokenRequests: number;
  checkMs: number;
  extraWrites: number;
  /** Failure scenario: round trips from the failed check to the restore write, that write included. */
  restoreRoundTrips?: number;
}

export interface Work {
  verb: "deploy" | "rollback";
  /** Traffic steps; a failure scenario fails after `failAtStep - 1` steps baked. */
  steps: number;
  bakedSteps: number;
  stepWaitMs: number;
  checkIntervalMs: number;
  failAtStep?: number;
}

export interface Projection {
  floorMs: number;
  oursMs: number;
  /** Our polling lag: operations and readiness noticed late. */
  lagMs: number;
  /** ARM round trips and token requests at the assumed latencies. */
  latencyMs: number;
  peerMs: number;
  oursWrites: number;
  peerWrites: number;
  /** The documentation's commands for this work, in order. */
  peerCommands: string[];
  /** Failure scenario: from the failure to the previous traffic restored. */
  failure?: { oursMs: number; peerMs: number };
}

const DRAWS = 2_000;

/** Time from a PATCH's answer until its outcome is known, with our schedule and its result read. */
export function ourWriteKnown(
  durationMs: number,
  latencyMs: number,
  schedule: PollSchedule,
): number {
  const gap = pollGaps(schedule);
  let t = 0;
  for (;;) {
    t += gap();
    if (t + latencyMs / 2 >= durationMs) return t + 2 * latencyMs;
    t += latencyMs;
  }
}

/** When our readiness wait, starting at `start` (it reads at once), sees a revision ready at `readyAt`. */
export function ourReadyKnown(
  start: number,
  readyAt: number,
  latencyMs: number,
  schedule: PollSchedule,
): number {
  const gap = pollGaps(schedule);
  let t = start;
  for (;;) {
    if (t + latencyMs / 2 >= readyAt) return t + latencyMs;
    t += latencyMs + gap();
  }
}

/** The CLI's `poll_results`: reads the operation at once, then every 2 s after each answer. */
export function cliWriteKnown(durationMs: number, latencyMs: number): number {
  let t = 0;
  for (;;) {
    if (t + latencyMs / 2 >= durationMs) return t + latencyMs;
    t += latencyMs + CLI_POLL_MS;
  }
}

/** A script waiting for readiness with `az containerapp revision show` every 2 s, each a new process. */
export function cliReadyKnown(
  start: number,
  readyAt: number,
  latencyMs: number,
  cliStartMs: number,
): number {
  let t = start;
  for (;;) {
    t += cliStartMs;
    if (t + latencyMs / 2 >= readyAt) return t + latencyMs;
    t += latencyMs + CLI_POLL_MS;
  }
}

/** The documentation's commands for the work, with what each costs beyond starting the CLI. */
export function peerCommands(work: Work): { command: string; gets: number; write: boolean }[] {
  const shown = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  if (work.verb === "rollback") {
    return [
      { command: "az containerapp revision activate", gets: 0, write: false },
      { command: "az containerapp ingress traffic set (100% back)", gets: 1, write: true },
      { command: "az containerapp revision label swap", gets: 1, write: true },
      { command: "az containerapp revision deactivate", gets: 0, write: false },
    ];
  }
  const steps = work.failAtStep ?? work.steps;
  return [
    { command: "az containerapp update (new revision)", gets: 1, write: true },
    { command: "az containerapp revision label add (green)", gets: 1, write: true },
    ...shown(steps).map((i) => ({
      command: `az containerapp ingress traffic set (step ${i})`,
      gets: 1,
      write: true,
    })),
    ...(work.failAtStep
      ? [
          { command: "az containerapp ingress traffic set (back)", gets: 1, write: true },
          { command: "az containerapp revision deactivate (green)", gets: 0, write: false },
        ]
      : [
          { command: "az containerapp revision label swap", gets: 1, write: true },
          { command: "az containerapp revision deactivate (old)", gets: 0, write: false },
        ]),
  ];
}

export function project(
  work: Work,
  measured: Measured,
  oursWrites: number,
  cliStartMs: number,
  schedule = DEFAULT_TIMING,
): Projection {
  const L = ASSUMED.armMs;
  const latencyMs = measured.roundTrips * L + measured.tokenRequests * ASSUMED.tokenMs;
  const commands = peerCommands(work);
  const sums = { floor: 0, ours: 0, lag: 0, peer: 0, failOurs: 0, failPeer: 0 };
  for (let i = 0; i < DRAWS; i++) {
    const timing = createTiming({ profile: "azure", timeScale: 1, seed: `projection-${i}` });
    const configurationWrite = () => timing.operationMs("configuration");
    const steps = Array.from({ length: work.failAtStep ?? work.steps }, configurationWrite);
    const baked = work.bakedSteps * work.stepWaitMs;
    let floor = measured.checkMs + baked + steps.reduce((a, b) => a + b, 0);
    let lag = steps.reduce((sum, d) => sum + ourWriteKnown(d, L, schedule.operation) - d, 0);
    let peer = ASSUMED.tokenMs;
    // One CLI command: the process start, then its requests (a read and the write, or one POST).
    const command = (requests: number) => cliStartMs + requests * L;
    if (work.verb === "deploy") {
      const template = timing.operationMs("revision");
      const ready = timing.provisioningMs(template) + timing.activationMs();
      floor += ready;
      const written = ourWriteKnown(template, L, schedule.operation);
      lag += ourReadyKnown(written, ready, L, schedule.readiness) - ready;
      peer += command(2);
      const peerReady = peer + ready;
      peer += cliWriteKnown(template, L);
      peer += command(2) + cliWriteKnown(configurationWrite(), L);
      peer = cliReadyKnown(peer, peerReady, L, cliStartMs);
    } else {
      const lease = configurationWrite();
      const ready = timing.provisioningMs(0) + timing.activationMs();
      floor += lease + ready;
      lag += ourWriteKnown(lease, L, schedule.operation) - lease;
      lag += ourReadyKnown(0, ready, L, schedule.readiness) - ready;
      peer += command(1);
      peer = cliReadyKnown(peer, peer + ready, L, cliStartMs);
    }
    peer += measured.checkMs;
    steps.forEach((d, step) => {
      peer += command(2) + cliWriteKnown(d, L) + (step < work.bakedSteps ? work.stepWaitMs : 0);
    });
    if (work.failAtStep) {
      // The failure comes at a random moment of the failing step's bake; checks find it at the
      // next round.
      const detect = work.checkIntervalMs / 2 + measured.checkMs;
      const restore = configurationWrite();
      floor += restore;
      sums.failOurs += detect + (measured.restoreRoundTrips ?? 1) * L + restore;
      sums.failPeer += detect + command(2) + restore;
      peer += detect + command(2) + cliWriteKnown(restore, L) + command(1);
      lag += detect + ourWriteKnown(restore, L, schedule.operation) - restore;
    } else {
      const swap = configurationWrite();
      peer += command(2) + cliWriteKnown(swap, L) + command(1);
    }
    const extra = measured.extraWrites * configurationWrite();
    sums.floor += floor;
    sums.lag += lag;
    sums.ours += floor + lag + measured.ownMs + latencyMs + extra;
    sums.peer += peer;
  }
  const mean = (sum: number) => sum / DRAWS;
  return {
    floorMs: mean(sums.floor),
    oursMs: mean(sums.ours),
    lagMs: mean(sums.lag),
    latencyMs,
    peerMs: mean(sums.peer),
    oursWrites,
    peerWrites: commands.filter((c) => c.write).length,
    peerCommands: commands.map((c) => c.command),
    ...(work.failAtStep
      ? { failure: { oursMs: mean(sums.failOurs), peerMs: mean(sums.failPeer) } }
      : {}),
  };
}
