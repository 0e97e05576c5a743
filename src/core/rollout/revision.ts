/**
 * Phase "Plan": what the new revision will be and every change its write makes, before any write.
 * Reads what the plan needs and nothing more — the environment's workload profiles when CPU or
 * memory may change, the app's secret values when the secrets array is to be written (a GET gives
 * no values, and a write replaces the whole array) — then prints the plan, revision scope and
 * application scope, in a dry run too.
 */
import { DeployFailure } from "../failure.ts";
import { revisionSuffixProblem } from "../inputs/names.ts";
import {
  describeResources,
  describePlan,
  PlanRefused,
  planCandidate,
  resourcesMayChange,
  secretsNeedValues,
  type CandidateSpec,
} from "../revision/plan.ts";
import { workloadProfileOf, type WorkloadProfile } from "../revision/resources.ts";
import type { RegistryEntry } from "../ports.ts";
import type { RolloutContext } from "./context.ts";
import type { AppSnapshot } from "./snapshot.ts";

/**
 * Plans the candidate from the app as found. `quiet`: the plan was printed already (the second
 * plan of a deploy that built its image, from a fresh read).
 */
export async function planRevision(
  ctx: RolloutContext,
  found: AppSnapshot,
  registries: RegistryEntry[] | undefined,
  options: { quiet?: boolean } = {},
): Promise<CandidateSpec> {
  const { apps, log, signal } = ctx.deps;
  const { inputs } = ctx;
  const { app } = found;
  const planApp = {
    name: app.name,
    activeRevisionsMode: app.activeRevisionsMode,
    template: app.template,
    configuration: app.configuration,
  };
  const [profile, secretValues] = await Promise.all([
    resourcesMayChange(inputs.revision) ? profileOf(ctx, found) : undefined,
    secretsNeedValues(planApp, inputs.revision) ? apps.listSecrets({ signal }) : undefined,
  ]);
  let spec: CandidateSpec;
  try {
    spec = planCandidate({
      app: planApp,
      active: found.revisions
        .filter((r) => r.active)
        .map((r) => ({ name: r.name, template: r.template })),
      // Before a build, the reference it will push stands for the digest it will be deployed by.
      image:
        inputs.image ??
        (inputs.build
          ? `${inputs.build.registry}/${inputs.build.imageName}:${inputs.build.tag}`
          : ""),
      containerName: inputs.containerName,
      revision: inputs.revision,
      registries,
      allowApplicationChanges: inputs.allowApplicationChanges,
      secretValues,
      profile,
    });
  } catch (error) {
    if (error instanceof PlanRefused) {
      throw new DeployFailure(error.message, { code: error.code, nextSteps: error.nextSteps });
    }
    throw error;
  }
  if (spec.fileSuffix !== undefined && inputs.revisionSuffix === undefined) {
    const problem = revisionSuffixProblem(spec.fileSuffix, app.name);
    if (problem) {
      throw new DeployFailure(
        `\`revision-template\`: properties.template.revisionSuffix "${spec.fileSuffix}" ${problem}.`,
        { code: "InvalidTemplate" },
      );
    }
  }
  ctx.report.changes = spec.changes;
  ctx.report.warnings = spec.warnings;
  ctx.report.addedSecrets = spec.addedSecrets;
  if (!options.quiet) {
    for (const line of describePlan(spec)) log.info(line);
    if (profile)
      log.info(`Size: ${describeResources(spec.template)} on the ${profile.name} workload profile`);
    const ignored = inputs.revision?.file?.ignored ?? [];
    if (ignored.length > 0) {
      log.info(
        `\`revision-template\`: ignored, as not a rollout's to change: ${ignored.join(", ")}`,
      );
    }
    for (const warning of spec.warnings) log.warning(warning);
  }
  return spec;
}

async function profileOf(ctx: RolloutContext, found: AppSnapshot): Promise<WorkloadProfile> {
  const { app } = found;
  const name = app.workloadProfileName;
  if (name === undefined || name.toLowerCase() === "consumption" || !app.environmentId) {
    return workloadProfileOf(name, []);
  }
  const profile = workloadProfileOf(
    name,
    await ctx.deps.apps.getWorkloadProfiles(app.environmentId),
  );
  if (profile.kind === "unknown") {
    ctx.deps.log.info(
      `The size of workload profile ${name}${profile.type ? ` (${profile.type})` : ""} is not known here; the service checks the revision's CPU and memory.`,
    );
  }
  return profile;
}
