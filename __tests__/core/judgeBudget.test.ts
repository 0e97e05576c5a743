/**
 * The judges over a whole rollout, on seeded simulated traffic: a healthy candidate (the same
 * distributions as the stable revision) fails fewer than 1% of rollouts once the budget is spent
 * across looks, steps and comparisons — and far more without that — while a candidate three times
 * slower is caught and one 5% slower is not.
 */
import bernoulli from "@stdlib/random-base-bernoulli";
import lognormal from "@stdlib/random-base-lognormal";
import { alphaPerLook, looksPerStep, lookOffsets } from "../../src/core/judge/budget.ts";
import {
  compareErrorRates,
  compareLatencies,
  compareWithCeiling,
} from "../../src/core/judge/compare.ts";

const SETTINGS = { minSamples: 30, margin: 0.02, ratio: 1.2, maxRate: 0.05 };

interface Rng {
  latency(): number;
  failed(): boolean;
}

function revision(seed: number, medianMs: number, errorRate: number): Rng {
  const latency = lognormal.factory(Math.log(medianMs), 0.5, { seed });
  const failed = bernoulli.factory(errorRate, { seed: seed + 7919 });
  return { latency: () => latency(), failed: () => failed() === 1 };
}

/**
 * One rollout of `steps` steps: at every look each revision has served `perLook` more requests;
 * the side-by-side comparisons and the production error ceiling are judged at the look's level.
 * Returns whether any look of any step failed.
 */
function rolloutFails(
  seed: number,
  options: { alpha: number; steps: number; candidateSlowdown?: number; floors?: boolean },
): boolean {
  const stable = revision(seed, 40, 0.01);
  const candidate = revision(seed + 1_000_003, 40 * (options.candidateSlowdown ?? 1), 0.01);
  const floors = options.floors ?? true;
  const settings = floors ? SETTINGS : { ...SETTINGS, margin: 0, ratio: 1 };
  const looks = lookOffsets(10_000, 0).length;
  const perLook = 12;
  for (let step = 0; step < options.steps; step++) {
    const c = { trials: 0, errors: 0, latencies: [] as number[] };
    const s = { trials: 0, errors: 0, latencies: [] as number[] };
    for (let look = 0; look < looks; look++) {
      for (let i = 0; i < perLook; i++) {
        for (const [side, rng] of [
          [c, candidate],
          [s, stable],
        ] as const) {
          side.trials++;
          if (rng.failed()) side.errors++;
          else side.latencies.push(rng.latency());
        }
      }
      const verdicts = [
        compareErrorRates(c, s, settings, options.alpha).verdict,
        compareLatencies(c.latencies, s.latencies, settings, options.alpha).verdict,
        compareWithCeiling(c, settings, options.alpha).verdict,
      ];
      if (verdicts.includes("fail")) return true;
    }
  }
  return false;
}

function failureRate(
  rollouts: number,
  options: Parameters<typeof rolloutFails>[1],
  firstSeed = 1,
): number {
  let failed = 0;
  for (let i = 0; i < rollouts; i++) if (rolloutFails(firstSeed + i * 31, options)) failed++;
  return failed / rollouts;
}

describe("the significance budget over a whole rollout", () => {
  const plan = { falseAlarmRate: 0.01, steps: 3, comparisons: 3, extends: false };
  const alpha = alphaPerLook(plan);

  test("is split over every look of every comparison of every step", () => {
    expect(looksPerStep(plan)).toBe(5);
    expect(alpha).toBeCloseTo(0.01 / (3 * 3 * 5), 12);
    expect(alphaPerLook({ ...plan, extends: true })).toBeCloseTo(0.01 / (3 * 3 * 10), 12);
  });

  test("a healthy candidate fails fewer than 1% of simulated rollouts, even without floors", () => {
    const rollouts = 250;
    expect(failureRate(rollouts, { alpha, steps: 3 })).toBeLessThan(0.01);
    expect(failureRate(rollouts, { alpha, steps: 3, floors: false })).toBeLessThan(0.01);
  });

  test("judging every look at the full 1% instead would fail far more healthy rollouts", () => {
    // The simulation can tell: without spending the budget, false alarms pile up over the looks.
    expect(failureRate(250, { alpha: 0.01, steps: 3, floors: false })).toBeGreaterThan(0.02);
  });
});

describe("latency comparison on seeded latencies", () => {
  const alpha = alphaPerLook({ falseAlarmRate: 0.01, steps: 3, comparisons: 3, extends: true });

  test("a candidate three times slower than stable is caught", () => {
    expect(failureRate(50, { alpha, steps: 1, candidateSlowdown: 3 }, 500)).toBe(1);
  });

  test("a candidate 5% slower is not, however many rollouts", () => {
    expect(failureRate(200, { alpha, steps: 3, candidateSlowdown: 1.05 }, 900)).toBe(0);
  });
});
