/**
 * Who holds the lease, on GitHub: no variable is unique to one matrix leg (every leg of a job has
 * the same GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT and GITHUB_JOB), so each main step makes an id of its
 * own; and a re-run of a job takes over the lease of its earlier attempt, which has ended.
 */
import type { Emulator } from "../../emulator/types.ts";
import {
  RESOURCE_GROUP,
  expectInvariants,
  image,
  runAction,
  seedApp,
  startWorld,
} from "./harness.ts";

let emulator: Emulator;
const FAST = {
  "step-wait": "2s",
  "check-interval": "200ms",
  "smoke-timeout": "5s",
  "readiness-timeout": "20s",
};

beforeAll(async () => {
  emulator = await startWorld();
});
afterAll(async () => {
  await emulator?.stop();
});

const job = (attempt: number) => ({
  GITHUB_RUN_ID: "777000111",
  GITHUB_RUN_ATTEMPT: String(attempt),
  GITHUB_JOB: "deploy",
});

test("two matrix legs of one job deploying the same app: one holds the lease, the other stops before any change", async () => {
  const app = "lease-matrix";
  await seedApp(emulator, app);
  const leg = (suffix: string) =>
    runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image(`healthy-${suffix}`),
        "revision-suffix": suffix,
        "traffic-steps": "50,100",
        ...FAST,
      },
      env: job(1),
    });
  const [a, b] = await Promise.all([leg("va"), leg("vb")]);
  const codes = [a, b].map((run) => run.outputs.result).sort();
  expect(codes).toEqual(["failed", "promoted"]);
  const loser = a.outputs.result === "failed" ? a : b;
  const winner = loser === a ? b : a;
  expect(loser.stdout).toMatch(/LeaseHeld|LeaseLost/);
  const revision = winner === a ? `${app}--va` : `${app}--vb`;
  const view = expectInvariants(emulator, app, winner, {
    traffic: [{ revisionName: revision, weight: 100, label: "blue" }],
  });
  // The losing leg left no extra revision running.
  const other = winner === a ? `${app}--vb` : `${app}--va`;
  expect(view.revisions.find((r) => r.name === other)?.active ?? false).toBe(false);
});

test("a re-run after attempt 1 was killed mid-shift takes its lease over at once and starts from the traffic it found", async () => {
  const app = "lease-rerun";
  const view = await seedApp(emulator, app);
  const inputs = {
    "container-app": app,
    image: image("healthy-v2"),
    "revision-suffix": "v2",
    "traffic-steps": "50,100",
    ...FAST,
    "step-wait": "20s",
  };
  const first = await runAction(emulator, {
    inputs,
    env: job(1),
    signalOn: { pattern: /^\[1\/2\]/, signal: "SIGKILL" },
  });
  expect(first.signal).toBe("SIGKILL");
  // Attempt 1 died with v2 at 50% and its lease live for minutes; no post step ran.
  expect(emulator.getApp(RESOURCE_GROUP, app).traffic.some((e) => e.weight === 50)).toBe(true);

  const second = await runAction(emulator, {
    inputs: { ...inputs, image: image("healthy-v3"), "revision-suffix": "v3", "step-wait": "1s" },
    env: job(2),
  });
  expect(second.exitCode).toBe(0);
  expect(second.stdout).toContain("earlier attempt of this job");
  expect(second.stdout).toContain("putting back the traffic it found");
  const final = expectInvariants(emulator, app, second, {
    traffic: [{ revisionName: `${app}--v3`, weight: 100, label: "blue" }],
  });
  // The dead run's candidate was retired, and the run started from the split before it.
  expect(final.revisions.find((r) => r.name === `${app}--v2`)?.active).toBe(false);
  expect(second.outputs["previous-revision"]).toBe(view.traffic[0].revisionName);
}, 90_000);
