/**
 * Phase "Build image": when the deploy starts from source, the image is built and pushed after the
 * snapshot and before any write, and the revision runs exactly what was built, by digest.
 */
import { DeployFailure, errorCode, errorMessage } from "../failure.ts";
import { isAcrLoginServer } from "../naming.ts";
import type { AppState, RegistryEntry } from "../ports.ts";
import type { RolloutContext } from "./context.ts";

/**
 * Builds and pushes; sets the context's image to the pushed digest. Returns the registries entry
 * to add with the candidate when managed-identity pull is being set up.
 */
export async function buildImage(
  ctx: RolloutContext,
  app: AppState,
): Promise<RegistryEntry[] | undefined> {
  const { log, signal } = ctx.deps;
  const source = ctx.deps.image!;
  const build = ctx.inputs.build;
  const registries = build ? checkPullAccess(ctx, app, build.registry) : undefined;
  log.info(`Building ${source.describe()}`);
  try {
    const built = await source.build(signal);
    ctx.inputs.image = built.image;
    ctx.report.image = built.image;
    log.info(`Pushed ${built.image}`);
  } catch (error) {
    throw new DeployFailure(
      `The image build failed, so nothing was deployed: ${errorMessage(error)}`,
      {
        code: errorCode(error) ?? "BuildFailed",
        nextSteps: 'Fix the build (its output is in the "Build image" group above) and run again.',
        cause: error,
      },
    );
  }
  return registries;
}

/**
 * The app must be able to pull what is about to be built: checked before the build, so that a
 * missing registry entry fails fast and before any write. With registry-identity, the entry is
 * added in the same PATCH that creates the revision.
 */
function checkPullAccess(
  ctx: RolloutContext,
  app: AppState,
  registry: string,
): RegistryEntry[] | undefined {
  const { apps, log } = ctx.deps;
  const access = apps.describePullAccess(registry, ctx.inputs.registryIdentity);
  if (access.configured) {
    log.info(access.message);
    return undefined;
  }
  if (access.registries) {
    log.info(
      `${app.name} has no entry for ${registry}; adding managed-identity pull (${ctx.inputs.registryIdentity}) with the new revision.`,
    );
    return access.registries;
  }
  if (!isAcrLoginServer(registry)) {
    // Another registry may serve the image anonymously; only an ACR always needs a login.
    log.warning(`${access.message} This only works if ${registry} allows anonymous pulls.`);
    return undefined;
  }
  throw new DeployFailure(access.message, {
    code: "RegistryAccessMissing",
    nextSteps:
      "Give the app access to the registry (or set `registry-identity`), then run again. Nothing was built or changed.",
  });
}
