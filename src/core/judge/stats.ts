/**
 * The tests the judges decide with, on plain numbers: Fisher's exact test and the binomial test
 * for error counts, the Mann–Whitney U test and the Hodges–Lehmann ratio for latencies, and
 * sample quantiles. The distributions come from stdlib; the rank statistic is written here (no
 * maintained library has it) and checked against R's `wilcox.test` in the unit tests.
 */
import betainc from "@stdlib/math-base-special-betainc";
import hypergeometricPmf from "@stdlib/stats-base-dists-hypergeometric-pmf";
import normalCdf from "@stdlib/stats-base-dists-normal-cdf";

/** Successes (here: errors) out of trials. */
export interface Counts {
  trials: number;
  errors: number;
}

/**
 * One-sided Fisher's exact test that the candidate's error rate is higher than the stable
 * revision's: P(X ≥ candidate.errors) where X, the candidate's share of all errors, is
 * hypergeometric given the table's margins. Valid when the stable revision has no errors at all,
 * which a two-proportion z-test is not. Equals R's `fisher.test(matrix, alternative = "greater")`
 * on the table [[candidate errors, candidate ok], [stable errors, stable ok]].
 */
export function fisherGreater(candidate: Counts, stable: Counts): number {
  const total = candidate.trials + stable.trials;
  const errors = candidate.errors + stable.errors;
  const drawn = candidate.trials;
  if (total === 0 || errors === 0) return 1;
  // The upper tail summed term by term keeps its precision when it is tiny (1 - cdf would not).
  const highest = Math.min(errors, drawn);
  let p = 0;
  for (let x = candidate.errors; x <= highest; x++) p += hypergeometricPmf(x, total, errors, drawn);
  return Math.min(1, p);
}

/**
 * One-sided exact binomial test that the true error rate is above `rate`: P(X ≥ errors) for
 * X ~ Binomial(trials, rate), through the regularised incomplete beta function
 * (P(X ≥ k) = I_rate(k, n - k + 1)). Equals R's `binom.test(x, n, p, alternative = "greater")`.
 */
export function binomialGreater(counts: Counts, rate: number): number {
  const { trials, errors } = counts;
  if (errors <= 0) return 1;
  if (errors > trials) return 0;
  if (rate <= 0) return 0;
  if (rate >= 1) return 1;
  return betainc(rate, errors, trials - errors + 1);
}

export interface MannWhitneyResult {
  /** R's W: the Mann–Whitney U of the first sample (its rank sum minus n1(n1+1)/2). */
  u: number;
  /** One-sided p-value for "the first sample tends to be larger". */
  pValue: number;
  /** Whether the exact distribution was used (no ties, both samples under 50), as R does. */
  exact: boolean;
}

/**
 * One-sided Mann–Whitney U (Wilcoxon rank-sum) test that `x` tends to be larger than `y`, as R's
 * `wilcox.test(x, y, alternative = "greater")` computes it: the exact distribution when both
 * samples have fewer than 50 values and there are no ties, else the normal approximation with
 * the tie correction of the variance and a continuity correction of 0.5. `exact` and `correct`
 * override those choices as R's arguments of the same names do.
 */
export function mannWhitneyGreater(
  x: readonly number[],
  y: readonly number[],
  options: { exact?: boolean; correct?: boolean } = {},
): MannWhitneyResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) return { u: 0, pValue: 1, exact: false };
  const { ranks, tieSizes } = rank([...x, ...y]);
  let rankSum = 0;
  for (let i = 0; i < n1; i++) rankSum += ranks[i];
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const ties = tieSizes.some((size) => size > 1);
  if (options.exact ?? (n1 < 50 && n2 < 50 && !ties)) {
    return { u, pValue: exactUpperTail(u, n1, n2), exact: true };
  }
  const n = n1 + n2;
  const tieTerm = tieSizes.reduce((sum, t) => sum + (t * t * t - t), 0);
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { u, pValue: 1, exact: false };
  const correction = (options.correct ?? true) ? 0.5 : 0;
  const z = (u - (n1 * n2) / 2 - correction) / Math.sqrt(variance);
  return { u, pValue: normalCdf(-z, 0, 1), exact: false };
}

/** Midranks (1-based) of `values`, and the size of each group of equal values. */
function rank(values: readonly number[]): { ranks: number[]; tieSizes: number[] } {
  const order = values.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
  const ranks = new Array<number>(values.length);
  const tieSizes: number[] = [];
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && order[end].value === order[start].value) end++;
    const midrank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k].index] = midrank;
    tieSizes.push(end - start);
    start = end;
  }
  return { ranks, tieSizes };
}

/**
 * P(U ≥ u) under the null hypothesis, from the exact distribution of U: the number of ways to
 * choose n1 of the ranks 1..n1+n2 for each value of U, counted by dynamic programming. The
 * distributions of the last few sample sizes are kept: the looks of a bake ask for the same ones.
 */
function exactUpperTail(u: number, n1: number, n2: number): number {
  const counts = exactCounts(n1, n2);
  let total = 0;
  let upper = 0;
  const threshold = Math.ceil(u - 1e-9);
  for (let s = 0; s < counts.length; s++) {
    total += counts[s];
    if (s >= threshold) upper += counts[s];
  }
  return Math.min(1, upper / total);
}

const exactCache = new Map<string, Float64Array>();
const EXACT_CACHE_SIZE = 32;

function exactCounts(n1: number, n2: number): Float64Array {
  const key = `${n1}x${n2}`;
  const cached = exactCache.get(key);
  if (cached) return cached;
  const maxU = n1 * n2;
  // ways[j][s]: ways to choose j of the ranks seen so far with U-contribution s, where choosing
  // rank r as the j-th smallest of the chosen adds r - j.
  const ways = Array.from({ length: n1 + 1 }, () => new Float64Array(maxU + 1));
  ways[0][0] = 1;
  for (let r = 1; r <= n1 + n2; r++) {
    // Downwards, so that row j - 1 still holds the counts before rank r was considered.
    for (let j = Math.min(r, n1); j >= 1; j--) {
      const add = r - j;
      if (add > n2) continue;
      const from = ways[j - 1];
      const to = ways[j];
      for (let s = maxU - add; s >= 0; s--) if (from[s] !== 0) to[s + add] += from[s];
    }
  }
  if (exactCache.size >= EXACT_CACHE_SIZE) exactCache.delete(exactCache.keys().next().value!);
  exactCache.set(key, ways[n1]);
  return ways[n1];
}

/** Latencies below this count as this much: the ingress logs durations in whole milliseconds. */
const LATENCY_FLOOR_MS = 1;

/**
 * The Hodges–Lehmann estimate of how many times larger `x` is than `y`: the median of every
 * pairwise ratio x_i / y_j (the exponent of the Hodges–Lehmann shift of the logarithms). 1 means
 * no difference; 1.2 means x is typically 20% larger.
 */
export function hodgesLehmannRatio(x: readonly number[], y: readonly number[]): number {
  if (x.length === 0 || y.length === 0) return Number.NaN;
  const ratios = new Float64Array(x.length * y.length);
  let k = 0;
  for (const a of x) {
    const top = Math.max(a, LATENCY_FLOOR_MS);
    for (const b of y) ratios[k++] = top / Math.max(b, LATENCY_FLOOR_MS);
  }
  ratios.sort();
  const mid = ratios.length >> 1;
  // Of an even count, the geometric mean of the middle two: the exponent of the shift of the logs.
  return ratios.length % 2 === 1 ? ratios[mid] : Math.sqrt(ratios[mid - 1] * ratios[mid]);
}

/** The `q` quantile (0-1) of `values`, as R's default `quantile(type = 7)` interpolates it. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const h = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}
