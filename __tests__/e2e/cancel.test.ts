/**
 * Cancellation as a CI agent does it — SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s after that —
 * while a write takes longer than that window (on Azure, 12–50 s). The main step hands the restore
 * over cleanly and exits; the post step finishes it and writes the summary and `result`.
 */
import { startEmulator } from "../../emulator/index.ts";
import type { Emulator } from "../../emulator/types.ts";
import { expectInvariants, image, runAction, seedApp } from "./harness.ts";

/** Every write takes this long: longer than the hand-over window of a cancelled run (5 s). */
const WRITE_MS = 7_000;
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ provisioningDelayMs: 150, operationDelayMs: WRITE_MS });
});
afterAll(async () => {
  await emulator?.stop();
});

/** Sends the agent's cancel sequence to `pid`: SIGINT now, SIGTERM at 7.5 s, SIGKILL at 10 s. */
function cancelLikeTheAgent(pid: number): () => void {
  const send = (signal: NodeJS.Signals) => {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone: the step exited by itself, which is the point.
    }
  };
  send("SIGINT");
  const timers = [
    setTimeout(() => send("SIGTERM"), 7_500),
    setTimeout(() => send("SIGKILL"), 10_000),
  ];
  return () => timers.forEach(clearTimeout);
}

test("a deploy cancelled mid-shift hands its restore to the post step, which restores and reports", async () => {
  const app = "cancel-handover";
  const view = await seedApp(emulator, app);
  const inputs = {
    "container-app": app,
    image: image("healthy"),
    "revision-suffix": "v2",
    "traffic-steps": "50,100",
    "step-wait": "30s",
    "check-interval": "500ms",
    "smoke-timeout": "10s",
    "readiness-timeout": "60s",
  };
  let pid = 0;
  let stop: (() => void) | undefined;
  let cancelledAt = 0;
  const main = await runAction(emulator, {
    inputs,
    onSpawn: (spawned) => (pid = spawned),
    onLine: (text) => {
      if (!stop && text.startsWith("[1/2]")) {
        cancelledAt = Date.now();
        stop = cancelLikeTheAgent(pid);
      }
    },
  });
  stop?.();
  // The main step left by itself, before the agent's SIGTERM, having handed the restore over.
  expect(main.signal).toBeNull();
  expect(main.exitCode).toBe(1);
  expect(Date.now() - cancelledAt).toBeLessThan(7_500);
  expect(main.stdout).toContain("handed over to the post step");
  expect(main.outputs.result).toBe("failed");

  const post = await runAction(emulator, { inputs, entry: "dist/post.js", state: main.state });
  expect(post.exitCode).toBe(0);
  expect(post.stdout).toContain("Traffic restored");
  // The step that finished the restore writes the summary and the result.
  expect(post.outputs.result).toBe("rolled-back");
  expect(post.summary).toMatch(/post step put back the traffic/);
  const final = expectInvariants(emulator, app, post, { traffic: view.traffic });
  expect(final.revisions.find((r) => r.name === `${app}--v2`)?.active).toBe(false);
}, 120_000);
