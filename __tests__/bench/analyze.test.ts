import type { ArmJournalEntry } from "../../emulator/types.ts";
import {
  analyzeRun,
  callKind,
  findDuplicates,
  unionLength,
  writeKind,
  type HookLine,
  type OutputLine,
  type RequestLine,
  type RunRecord,
} from "../../scripts/bench/analyze.ts";
import type { AppChange } from "../../scripts/bench/observe.ts";

const ARM = "127.0.0.1:1000";
const IDENTITY = "127.0.0.1:2000";
const APP = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.App/containerApps/web";
const STATUS =
  "/subscriptions/s/providers/Microsoft.App/locations/westeurope/containerappOperationStatuses/op";
const RESULT =
  "/subscriptions/s/providers/Microsoft.App/locations/westeurope/containerappOperationResults/op";

const get = (path: string, start: number, end = start + 5, host = ARM): RequestLine => ({
  type: "request",
  method: "GET",
  host,
  path,
  start,
  end,
  status: 200,
});
const line = (text: string, time: number): OutputLine => ({ type: "line", text, time });
const change = (
  time: number,
  provisioningState: string,
  candidate: string,
  appKey = provisioningState,
): AppChange => ({
  time,
  provisioningState,
  traffic: [],
  revisions: { "web--v1": "Provisioned/Running/Healthy/active", "web--v2": candidate },
  appKey,
});
const entry = (time: number, method: string, path: string, body?: unknown): ArmJournalEntry => ({
  time,
  method,
  path,
  status: method === "PATCH" ? 202 : 200,
  ...(body ? { body } : {}),
});

describe("bench analysis", () => {
  it("names ARM calls by what they ask", () => {
    expect(callKind("GET", APP)).toBe("GET app");
    expect(callKind("PATCH", APP)).toBe("PATCH app");
    expect(callKind("GET", `${APP}/revisions`)).toBe("GET revision list");
    expect(callKind("GET", `${APP}/revisions/web--v2`)).toBe("GET revision");
    expect(callKind("POST", `${APP}/revisions/web--v1/deactivate`)).toBe("POST deactivate");
    expect(callKind("GET", STATUS)).toBe("GET operation status");
    expect(callKind("GET", RESULT)).toBe("GET operation result");
    expect(callKind("GET", "/metadata/endpoints")).toBe("GET cloud metadata");
  });

  it("tells a template write from a traffic write and a tags write", () => {
    expect(writeKind({ properties: { template: {}, configuration: {} } })).toBe("template");
    expect(writeKind({ properties: { configuration: { ingress: { traffic: [] } } } })).toBe(
      "traffic",
    );
    expect(writeKind({ tags: { a: "b" } })).toBe("tags");
  });

  it("adds up overlapping intervals once", () => {
    expect(
      unionLength([
        [0, 10],
        [5, 20],
        [30, 40],
        [35, 36],
      ]),
    ).toBe(30);
    expect(unionLength([])).toBe(0);
  });

  it("splits a deploy into its floor, its polling lag and its own time", () => {
    const template = { properties: { template: {}, configuration: { ingress: { traffic: [] } } } };
    const traffic = { properties: { configuration: { ingress: { traffic: [] } } } };
    const hook: HookLine[] = [
      line("::group::Create revision", 90),
      get(STATUS, 450, 460),
      get(RESULT, 462, 465),
      line("::group::Readiness", 466),
      get(`${APP}/revisions/web--v2`, 610, 615),
      line("::group::Smoke checks", 616),
      get("/", 620, 630, "web---green.example.test"),
      line("::group::Traffic shift", 640),
      get(STATUS, 1100, 1110),
      get(RESULT, 1112, 1115),
    ];
    const run: RunRecord = {
      spawnAt: 0,
      exitAt: 2_000,
      journal: [entry(100, "PATCH", APP, template), entry(700, "PATCH", APP, traffic)],
      hook,
      changes: [
        change(0, "Succeeded", "none"),
        change(105, "InProgress", "Provisioning/Processing/None/active"),
        change(400, "Succeeded", "Provisioning/Processing/None/active"),
        change(600, "Succeeded", "Provisioned/Running/Healthy/active"),
        change(705, "InProgress", "Provisioned/Running/Healthy/active"),
        change(1_000, "Succeeded", "Provisioned/Running/Healthy/active"),
      ],
      armHost: ARM,
      identityHost: IDENTITY,
      revision: "web--v2",
      leaseWrite: false,
      bakeMs: 500,
      peakRssMb: 100,
    };
    const figures = analyzeRun(run);
    // Create write and provisioning 100–600, the smoke round 620–630, the step 700–1000, bake.
    expect(figures.floorMs).toBe(500 + 10 + 300 + 500);
    expect(figures.wallMs).toBe(2_000);
    expect(figures.writes).toEqual(["template", "traffic"]);
    expect(figures.operationLagMs).toEqual([60, 110]);
    expect(figures.readinessLagMs).toEqual([15]);
    // The create write's end was seen while the revision still provisioned: no overhead.
    expect(figures.lagMs).toBe(15 + 110);
    expect(figures.ownMs).toBe(2_000 - 1_310 - 125);
    expect(figures.checkMs).toBe(10);
    expect(figures.readsByPhase["Create revision"]).toEqual({
      "operation status": 1,
      "operation result": 1,
    });
  });

  it("flags a read whose answer the run already held, and no read that followed a change", () => {
    const lines = [line("::group::Promote", 0)];
    const changes = [change(0, "Succeeded", "x", "a")];
    const arm = [get(RESULT, 10, 15), get(APP, 17, 20), get(APP, 400, 405)];
    expect(findDuplicates(arm, [], lines, changes)).toEqual([
      "Promote: app read 2 ms after operation result answered it",
    ]);
    const changed = [change(0, "Succeeded", "x", "a"), change(16, "Succeeded", "x", "b")];
    expect(findDuplicates(arm, [], lines, changed)).toEqual([]);
    // A check between the two reads: the second one is a check of what the first answered.
    expect(findDuplicates(arm, [get("/", 16, 17, "web.example.test")], lines, changes)).toEqual([]);
    // The same read twice in parallel.
    expect(findDuplicates([get(APP, 10, 20), get(APP, 11, 21)], [], lines, changes)).toHaveLength(
      1,
    );
  });
});
