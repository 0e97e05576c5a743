/**
 * A held deployment, as promote and reject find it: they act only on the state that was held, so
 * traffic changed since is someone else's, and they stop without changing anything.
 */
import { DeployFailure } from "../failure.ts";
import type { AppState } from "../ports.ts";
import { formatTraffic } from "../report/format.ts";
import { decodeHeldTags, heldTagsOf, userTags, type HeldDeployment } from "../tags.ts";
import { sameTraffic } from "../traffic/plan.ts";
import type { RolloutContext } from "./context.ts";
import { takeSnapshot, type AppSnapshot } from "./snapshot.ts";

/** Phase "Snapshot" of promote and reject: the app, and the deployment held on it. */
export async function takeHeldSnapshot(
  ctx: RolloutContext,
  verb: "promote" | "reject",
): Promise<{ snapshot: AppSnapshot; held: HeldDeployment }> {
  const { snapshot, held } = await ctx.phase("Snapshot", async () => {
    const snapshot = await takeSnapshot(ctx);
    return { snapshot, held: requireHeld(snapshot, verb) };
  });
  ctx.report.candidate = held.candidate;
  ctx.report.image = held.image;
  return { snapshot, held };
}

/**
 * Starts the journal of a run that finishes a held deployment. A reject goes back to the traffic
 * the held deploy found, and retires its candidate. A promote that fails or is cancelled goes back
 * to the held split and keeps the held record, so that the operator can promote or reject again.
 */
export function startHeldJournal(
  ctx: RolloutContext,
  held: HeldDeployment,
  found: AppState,
  verb: "promote" | "reject",
) {
  return ctx.startJournal(
    verb === "reject"
      ? {
          candidate: held.candidate,
          createdCandidate: held.createdCandidate,
          keepFailedRevision: ctx.inputs.keepFailedRevision,
          before: held.before,
          tags: userTags(found.tags),
        }
      : {
          candidate: held.candidate,
          createdCandidate: false,
          keepFailedRevision: true,
          before: held.traffic,
          tags: { ...userTags(found.tags), ...heldTagsOf(found.tags) },
        },
  );
}

/** The held deployment recorded on the app, while the app still routes what was held. */
function requireHeld(snapshot: AppSnapshot, verb: "promote" | "reject"): HeldDeployment {
  const { app, traffic } = snapshot;
  const held = decodeHeldTags(app.tags);
  if (!held) {
    throw new DeployFailure(`${app.name} has no held deployment to ${verb}.`, {
      code: "NothingHeld",
      nextSteps:
        verb === "promote"
          ? "Deploy with `auto-promote: false` first, or use `action: deploy`."
          : "There is nothing to reject; the app was not changed.",
    });
  }
  if (!sameTraffic(traffic, held.traffic)) {
    throw new DeployFailure(
      `The traffic of ${app.name} changed since the deployment of ${held.candidate} was held: expected ${formatTraffic(held.traffic)}, found ${formatTraffic(traffic)}. Nothing was changed.`,
      {
        code: "HeldStateChanged",
        nextSteps:
          "Check who changed the traffic; set it back to the held split, or reject and deploy again.",
      },
    );
  }
  return held;
}
