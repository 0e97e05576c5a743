/**
 * A representative slice of the fault matrix (docs/reliability.md; `npm run figures` runs all of
 * it): two cells per phase, every fault in at least one row, each a real run of the Action bundle
 * and its post step against its own emulator. Any inconsistent cell fails, with what the invariant
 * check saw.
 */
import {
  FAULTS,
  PHASES,
  runCell,
  type FaultId,
  type PhaseId,
} from "../../scripts/figures/matrix.ts";

const SLICE: [PhaseId, FaultId[]][] = [
  ["snapshot", ["503", "sigterm"]],
  ["create", ["failed-lro", "revision-failed"]],
  ["readiness", ["hang", "revision-failed"]],
  ["smoke", ["smoke-failure", "drift"]],
  ["step-1", ["429", "kill-post"]],
  ["step-2", ["reset", "drift", "kill-next"]],
  ["promotion", ["lock-conflict", "kill-next"]],
  ["deactivation-1", ["kill-post", "500", "sigterm"]],
  ["deactivation-2", ["kill-post", "lock-conflict"]],
  ["restore", ["failed-lro", "kill-post"]],
  ["restore-deactivation", ["429", "sigterm"]],
];

test("the slice covers every phase and every fault", () => {
  expect(SLICE.map(([phase]) => phase)).toEqual(PHASES.map((p) => p.id));
  expect(new Set(SLICE.flatMap(([, faults]) => faults))).toEqual(new Set(FAULTS.map((f) => f.id)));
});

describe.each(SLICE)("Given a rollout faulted in phase %s", (phase, faults) => {
  test(`with ${faults.join(" and ")}, the end state meets the invariants`, async () => {
    const results = await Promise.all(faults.map((fault) => runCell(phase, fault)));
    for (const result of results) {
      expect({ cell: `${phase} × ${result.fault}`, violations: result.violations }).toEqual({
        cell: `${phase} × ${result.fault}`,
        violations: [],
      });
      expect(result.status).toBe("consistent");
    }
  }, 120_000);
});
