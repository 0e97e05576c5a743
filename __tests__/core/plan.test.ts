import {
  planRollout,
  sameTraffic,
  scaleBase,
  withoutRevisions,
} from "../../src/core/traffic/plan.ts";
import type { TrafficWeight } from "../../src/core/types.ts";

const labels = { candidate: "green", production: "blue", previous: "previous" };
const sum = (t: TrafficWeight[]) => t.reduce((a, e) => a + e.weight, 0);

describe("planRollout", () => {
  test("a single production revision: candidate rises 10, 50, 100 and takes the production label", () => {
    const plan = planRollout({
      initial: [{ revisionName: "app--v1", weight: 100, label: "blue" }],
      candidate: "app--v2",
      steps: [10, 50, 100],
      labels,
      retireAtOnce: false,
    });
    expect(plan.create).toEqual([
      { revisionName: "app--v1", weight: 100, label: "blue" },
      { revisionName: "app--v2", weight: 0, label: "green" },
    ]);
    expect(plan.steps[0]).toEqual([
      { revisionName: "app--v1", weight: 90, label: "blue" },
      { revisionName: "app--v2", weight: 10, label: "green" },
    ]);
    expect(plan.steps[2]).toEqual([
      { revisionName: "app--v2", weight: 100, label: "blue" },
      { revisionName: "app--v1", weight: 0, label: "previous" },
    ]);
    expect(plan.previousProduction).toBe("app--v1");
    expect(plan.retiring).toEqual(["app--v1"]);
    for (const step of [plan.create, ...plan.steps]) expect(sum(step)).toBe(100);
  });

  test("a three-way split keeps its proportions and custom labels while the candidate grows", () => {
    const initial = [
      { revisionName: "app--a", weight: 50, label: "stable" },
      { revisionName: "app--b", weight: 30, label: "canary" },
      { revisionName: "app--c", weight: 20 },
    ];
    const plan = planRollout({
      initial,
      candidate: "app--d",
      steps: [25, 100],
      labels,
      retireAtOnce: false,
    });
    expect(plan.steps[0]).toEqual([
      { revisionName: "app--a", weight: 38, label: "stable" },
      { revisionName: "app--b", weight: 22, label: "canary" },
      { revisionName: "app--c", weight: 15 },
      { revisionName: "app--d", weight: 25, label: "green" },
    ]);
    expect(sum(plan.steps[0])).toBe(100);
    expect(plan.previousProduction).toBe("app--a");
    expect(plan.retiring).toEqual(["app--a", "app--b", "app--c"]);
  });

  test("retiring at once drops the old revisions from the final traffic", () => {
    const plan = planRollout({
      initial: [{ revisionName: "app--v1", weight: 100, label: "blue" }],
      candidate: "app--v2",
      steps: [100],
      labels,
      retireAtOnce: true,
    });
    expect(plan.steps).toEqual([[{ revisionName: "app--v2", weight: 100, label: "blue" }]]);
  });

  test("a stale candidate label on another revision is removed so labels stay unique", () => {
    const plan = planRollout({
      initial: [
        { revisionName: "app--v1", weight: 100, label: "blue" },
        { revisionName: "app--v0", weight: 0, label: "green" },
      ],
      candidate: "app--v2",
      steps: [100],
      labels,
      retireAtOnce: false,
    });
    expect(plan.create.filter((e) => e.label === "green")).toEqual([
      { revisionName: "app--v2", weight: 0, label: "green" },
    ]);
  });

  test("withoutRevisions keeps weighted entries", () => {
    const traffic = [
      { revisionName: "app--v2", weight: 100, label: "blue" },
      { revisionName: "app--v1", weight: 0, label: "previous" },
    ];
    expect(withoutRevisions(traffic, ["app--v1"])).toEqual([traffic[0]]);
  });
});

test("scaleBase always sums exactly to the requested total", () => {
  const base = [
    { revisionName: "a", weight: 33 },
    { revisionName: "b", weight: 33 },
    { revisionName: "c", weight: 34 },
  ];
  for (let total = 0; total <= 100; total++) expect(sum(scaleBase(base, total))).toBe(total);
});

test("sameTraffic ignores order and unlabelled zero entries", () => {
  expect(
    sameTraffic(
      [
        { revisionName: "a", weight: 60 },
        { revisionName: "b", weight: 40, label: "x" },
        { revisionName: "c", weight: 0 },
      ],
      [
        { revisionName: "b", weight: 40, label: "x" },
        { revisionName: "a", weight: 60 },
      ],
    ),
  ).toBe(true);
  expect(
    sameTraffic(
      [{ revisionName: "a", weight: 100 }],
      [{ revisionName: "a", weight: 100, label: "x" }],
    ),
  ).toBe(false);
});
