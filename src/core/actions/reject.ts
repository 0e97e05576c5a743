import type { EngineDeps } from "../ports.ts";
import { RolloutContext } from "../rollout/context.ts";
import { takeLease } from "../rollout/lease.ts";
import { recover, restore } from "../rollout/recover.ts";
import { startHeldJournal, takeHeldSnapshot } from "../rollout/held.ts";
import type { DeploymentReport, Inputs } from "../types.ts";

/**
 * `action: reject`: puts back the traffic the held deployment found (weights and labels), removes
 * the held record, and deactivates the candidate it created. Refuses when the app no longer
 * routes what was held: that change is someone else's.
 */
export async function reject(inputs: Inputs, deps: EngineDeps): Promise<DeploymentReport> {
  const ctx = new RolloutContext(inputs, deps);
  try {
    const { snapshot, held } = await takeHeldSnapshot(ctx, "reject");
    startHeldJournal(ctx, held, snapshot.app, "reject");
    await ctx.phase("Lease", () => takeLease(ctx, snapshot.app, 0));
    const restored = await restore(ctx);
    return ctx.finish(
      "rolled-back",
      `The held deployment of ${held.candidate} was rejected; the traffic it found is back.`,
      restored,
    );
  } catch (error) {
    return recover(ctx, error, { restoredResult: () => "failed" });
  }
}
