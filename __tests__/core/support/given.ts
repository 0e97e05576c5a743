/**
 * Apps as the operator verbs find them, each reached by running the engine itself, so that what
 * promote, reject and rollback read is what a deploy really leaves behind.
 */
import { deploy } from "../../../src/core/actions/deploy.ts";
import type { DeploymentReport } from "../../../src/core/types.ts";
import { engine, healthy, inputs } from "./engine.ts";
import type { FakeApps } from "./fakeApps.ts";

/** Three steps, each baked for a minute with a check round every 20 s. */
export const STEPPED = { "traffic-steps": "10,50,100", "step-wait": "1m", "check-interval": "20s" };

/** Deploys shop--v2 with auto-promote off, held at 50%; forgets the writes that took. */
export async function givenHeld(apps: FakeApps): Promise<DeploymentReport> {
  const { deps } = engine(apps, healthy);
  const report = await deploy(
    inputs({ ...STEPPED, "auto-promote": "false", "hold-at": "50" }),
    deps,
  );
  expect(report.result).toBe("held");
  apps.writes = [];
  return report;
}

/** Deploys and promotes shop--v2; forgets the writes that took. */
export async function givenPromoted(
  apps: FakeApps,
  given: Record<string, string> = {},
): Promise<DeploymentReport> {
  const { deps } = engine(apps, healthy);
  const report = await deploy(inputs(given), deps);
  expect(report.result).toBe("promoted");
  apps.writes = [];
  return report;
}
