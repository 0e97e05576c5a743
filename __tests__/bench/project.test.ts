import {
  CLI_POLL_MS,
  cliWriteKnown,
  ourReadyKnown,
  ourWriteKnown,
  peerCommands,
  project,
  type Measured,
  type Work,
} from "../../scripts/bench/project.ts";

const schedule = { firstMs: 200, factor: 1.5, maxMs: 2_000 };
const measured: Measured = {
  ownMs: 300,
  roundTrips: 10,
  tokenRequests: 3,
  checkMs: 20,
  extraWrites: 0,
};
const work = (steps: number): Work => ({
  verb: "deploy",
  steps,
  bakedSteps: steps,
  stepWaitMs: 60_000,
  checkIntervalMs: 10_000,
});

describe("bench projection", () => {
  it("sees a write end at the first poll after it, then reads the result", () => {
    // Polls at 200, 500, 950, 1625 ms: the 1000 ms write is seen at 1625, its result at once.
    expect(ourWriteKnown(1_000, 0, schedule)).toBe(1_625);
    // Each poll takes 100 ms: polls at 200, 600, 1150; seen at 1250, the result read by 1350.
    expect(ourWriteKnown(1_000, 100, schedule)).toBe(1_350);
  });

  it("reads a revision at once, then after each gap", () => {
    expect(ourReadyKnown(0, 0, 0, schedule)).toBe(0);
    expect(ourReadyKnown(0, 300, 0, schedule)).toBe(500);
  });

  it("polls like the Azure CLI: at once, then every 2 s", () => {
    expect(cliWriteKnown(0, 0)).toBe(0);
    expect(cliWriteKnown(3_000, 0)).toBe(2 * CLI_POLL_MS);
  });

  it("counts the documentation's writes: N + 3 for a deploy, 2 for a rollback", () => {
    expect(peerCommands(work(3)).filter((c) => c.write)).toHaveLength(6);
    expect(peerCommands(work(1)).filter((c) => c.write)).toHaveLength(4);
    const rollback: Work = { ...work(1), verb: "rollback", bakedSteps: 0 };
    expect(peerCommands(rollback).filter((c) => c.write)).toHaveLength(2);
  });

  it("adds our measured work and the assumed latencies to the floor, and nothing else", () => {
    const base = project(work(1), measured, 2, 400);
    const slower = project(work(1), { ...measured, ownMs: 1_300 }, 2, 400);
    expect(slower.oursMs - base.oursMs).toBeCloseTo(1_000, 6);
    expect(slower.floorMs).toBe(base.floorMs);
    expect(base.oursMs - base.floorMs).toBeCloseTo(base.lagMs + 300 + base.latencyMs, 6);
    // The floor holds the bake, the checks and writes of Azure's recorded durations.
    expect(base.floorMs).toBeGreaterThan(60_000 + 20 + 6_000 + 12_000);
    // Two writes fewer and no process per command: ours is the faster flow.
    expect(base.oursMs).toBeLessThan(base.peerMs);
  });
});
