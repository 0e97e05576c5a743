/**
 * Generated invalid inputs (seeded): refused in process with a message naming the input, and
 * through the real bundle with no ARM call at all. `npm run figures` runs 1,000 through the bundle.
 */
import {
  VALID_BASE,
  checkInProcess,
  checkThroughBundle,
  fuzzCases,
} from "../../scripts/figures/fuzz.ts";
import { readInputs } from "../../src/core/inputs/validate.ts";

test("the valid base the cases break is valid", () => {
  expect(readInputs((name) => VALID_BASE[name]).ok).toBe(true);
});

test("1,000 generated invalid inputs are each refused naming the input", () => {
  // The alias bomb in smoke-checks among them: an input error, not a parser crash.
  const cases = fuzzCases(1_000, 7);
  expect(cases.length).toBeGreaterThan(950);
  expect(new Set(cases.map((c) => c.input)).size).toBeGreaterThan(30);
  const notRefused = cases.map(checkInProcess).filter((o) => !o.refused);
  expect(notRefused.map((o) => [o.case.values, o.message])).toEqual([]);
});

test("invalid inputs through the bundle are refused naming the input, with no ARM call", async () => {
  const cases = fuzzCases(40, 99);
  const { outcomes, armCalls } = await checkThroughBundle(cases, 2);
  expect(outcomes.filter((o) => !o.refused).map((o) => [o.case.values, o.message])).toEqual([]);
  expect(armCalls).toBe(0);
}, 90_000);
