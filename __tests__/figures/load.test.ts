/**
 * Zero downtime under a steady load on the app's public URL: no failed request during a healthy
 * stepped deploy, none once a failed deploy has restored the traffic.
 */
import { runLoadFigures } from "../../scripts/figures/load.ts";

test("a healthy deploy and a restored failed deploy fail no request", async () => {
  const [healthy, failing, restored] = await runLoadFigures();
  expect(healthy).toMatchObject({ failed: 0, exitCode: 0, result: "promoted" });
  expect(healthy.requests).toBeGreaterThan(50);
  // The failing window is real: the candidate's share met its errors until the checks caught them.
  expect(failing.result).toBe("rolled-back");
  expect(restored).toMatchObject({ failed: 0, result: "rolled-back" });
  expect(restored.requests).toBeGreaterThan(20);
}, 90_000);
