/**
 * The statistics the judges decide with, against values R publishes in the examples of its own
 * help pages (R 4.x, package stats):
 * - `?wilcox.test`: Hollander & Wolfe (1973, p. 69f), permeability constants of the human
 *   chorioamnion, x = at term, y = 12-26 weeks: `wilcox.test(x, y, alternative = "g")` gives
 *   W = 35, p-value = 0.1272 (exact); with `exact = FALSE, correct = FALSE` p-value = 0.1103;
 *   `conf.int = TRUE` estimates the difference in location as 0.305.
 * - `?fisher.test`: Fisher's tea tasting, `fisher.test(TeaTasting, alternative = "greater")`
 *   gives p-value = 0.2429; Fisher's twin convictions (Dizygotic 2/15, Monozygotic 10/3),
 *   `fisher.test(Convictions, alternative = "less")` gives p-value = 0.0004652.
 * - `?quantile`: type 7 (the default) interpolates between order statistics.
 */
import {
  fisherGreater,
  binomialGreater,
  hodgesLehmannRatio,
  mannWhitneyGreater,
  quantile,
} from "../../src/core/judge/stats.ts";

const atTerm = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
const earlier = [1.15, 0.88, 0.9, 0.74, 1.21];

describe("Mann–Whitney U, as R's wilcox.test", () => {
  test("exact one-sided p-value of the Hollander & Wolfe example: W = 35, p = 0.1272", () => {
    const result = mannWhitneyGreater(atTerm, earlier);
    expect(result.u).toBe(35);
    expect(result.exact).toBe(true);
    expect(result.pValue).toBeCloseTo(0.1272, 4);
  });

  test("large-sample approximation without continuity correction: p = 0.1103", () => {
    const result = mannWhitneyGreater(atTerm, earlier, { exact: false, correct: false });
    expect(result.u).toBe(35);
    expect(result.pValue).toBeCloseTo(0.1103, 4);
  });

  test("ties use midranks and the tie-corrected variance, with the 0.5 continuity correction", () => {
    const x = [3, 3, 4, 5, 5, 5];
    const y = [1, 2, 3, 3, 4];
    // Ranks of the pooled 11 values: 1, 2, 4.5 x4 (3s), 7.5 x2 (4s), 10 x3 (5s).
    const rankSum = 4.5 + 4.5 + 7.5 + 10 + 10 + 10;
    const u = rankSum - (6 * 7) / 2;
    const tieTerm = (4 ** 3 - 4 + 2 ** 3 - 2 + 3 ** 3 - 3) / (11 * 10);
    const sigma = Math.sqrt(((6 * 5) / 12) * (12 - tieTerm));
    const z = (u - 15 - 0.5) / sigma;
    const result = mannWhitneyGreater(x, y);
    expect(result.exact).toBe(false);
    expect(result.u).toBe(u);
    expect(result.pValue).toBeCloseTo(upperNormal(z), 6);
  });
});

describe("Hodges–Lehmann", () => {
  test("the median of the pairwise differences of the Hollander & Wolfe example is 0.305", () => {
    // The ratio of the exponentials is the exponential of the shift.
    const ratio = hodgesLehmannRatio(atTerm.map(Math.exp), earlier.map(Math.exp));
    expect(Math.log(ratio)).toBeCloseTo(0.305, 6);
  });

  test("a candidate three times slower has a ratio of 3", () => {
    const stable = [10, 12, 15, 20, 11, 13];
    expect(
      hodgesLehmannRatio(
        stable.map((v) => v * 3),
        stable,
      ),
    ).toBeCloseTo(3, 9);
  });
});

describe("Fisher's exact test, one-sided, as R's fisher.test", () => {
  test("the lady tasting tea: p = 0.2429", () => {
    // TeaTasting = matrix(c(3, 1, 1, 3), nrow = 2): 3 of 4 right, 1 of 4 wrong.
    expect(fisherGreater({ trials: 4, errors: 3 }, { trials: 4, errors: 1 })).toBeCloseTo(
      0.2429,
      4,
    );
  });

  test("the twin convictions: p = 0.0004652 ('less' for dizygotic is 'greater' for monozygotic)", () => {
    const monozygotic = { trials: 13, errors: 10 };
    const dizygotic = { trials: 17, errors: 2 };
    expect(fisherGreater(monozygotic, dizygotic)).toBeCloseTo(0.0004652, 7);
  });

  test("it stays valid when the stable revision has no errors at all", () => {
    // All 20 errors fell on the candidate's side of 200 requests: C(100,20) / C(200,20).
    let expected = 1;
    for (let i = 0; i < 20; i++) expected *= (100 - i) / (200 - i);
    const p = fisherGreater({ trials: 100, errors: 20 }, { trials: 100, errors: 0 });
    expect(p).toBeGreaterThan(0);
    expect(p / expected).toBeCloseTo(1, 9);
  });

  test("no errors on either side is no evidence", () => {
    expect(fisherGreater({ trials: 50, errors: 0 }, { trials: 50, errors: 0 })).toBe(1);
  });
});

describe("the exact binomial test, one-sided", () => {
  test("P(X >= n) = p^n and P(X >= 1) = 1 - (1 - p)^n", () => {
    expect(binomialGreater({ trials: 10, errors: 10 }, 0.5)).toBeCloseTo(0.5 ** 10, 12);
    expect(binomialGreater({ trials: 30, errors: 1 }, 0.05)).toBeCloseTo(1 - 0.95 ** 30, 12);
  });

  test("a middle term equals the sum of the binomial probabilities", () => {
    // P(X >= 3 | n = 8, p = 0.2) = 1 - sum_{k<3} C(8,k) 0.2^k 0.8^(8-k).
    const below = [1, 8, 28].reduce((sum, c, k) => sum + c * 0.2 ** k * 0.8 ** (8 - k), 0);
    expect(binomialGreater({ trials: 8, errors: 3 }, 0.2)).toBeCloseTo(1 - below, 12);
  });
});

describe("quantiles, as R's quantile(type = 7)", () => {
  test("quantile(1:10, c(0.5, 0.95, 0.99)) = 5.5, 9.55, 9.91", () => {
    const values = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
    expect(quantile(values, 0.5)).toBeCloseTo(5.5, 12);
    expect(quantile(values, 0.95)).toBeCloseTo(9.55, 12);
    expect(quantile(values, 0.99)).toBeCloseTo(9.91, 12);
  });
});

/** P(Z >= z) for a standard normal Z, by Simpson's rule on its density: independent of stdlib. */
function upperNormal(z: number): number {
  const steps = 200_000;
  const top = 12;
  const h = (top - z) / steps;
  let sum = 0;
  for (let i = 0; i <= steps; i++) {
    const t = z + i * h;
    const weight = i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2;
    sum += weight * Math.exp((-t * t) / 2);
  }
  return ((h / 3) * sum) / Math.sqrt(2 * Math.PI);
}
