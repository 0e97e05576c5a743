/**
 * docker: needs a reachable daemon. `docker push` prints the manifest digest; when it does not
 * (some storage drivers and plugins print other progress), the registry is asked with HEAD.
 */
import {
  labelAndArgFlags,
  runStep,
  taggedReference,
  type Builder,
  type BuilderContext,
} from "./builder.ts";
import { resolveManifestDigest } from "./registry.ts";

const PUSHED_DIGEST = /digest: (sha256:[0-9a-f]{64})/;

export const dockerBuilder: Builder = {
  name: "docker",
  async buildAndPush(context: BuilderContext): Promise<string> {
    const { request } = context;
    const reference = taggedReference(request);
    if (context.credentials) {
      await runStep(
        context,
        "docker",
        ["login", "--username", context.credentials.username, "--password-stdin", request.registry],
        { what: `docker login to ${request.registry}`, stdin: context.credentials.password },
      );
    }
    try {
      await runStep(
        context,
        "docker",
        [
          "build",
          "--file",
          request.dockerfile,
          "--tag",
          reference,
          ...labelAndArgFlags(context),
          request.context,
        ],
        { what: `docker build of ${reference}` },
      );
      let digest: string | undefined;
      await runStep(context, "docker", ["push", reference], {
        what: `docker push of ${reference}`,
        onLine: (line) => {
          digest = PUSHED_DIGEST.exec(line)?.[1] ?? digest;
        },
      });
      return (
        digest ??
        (await resolveManifestDigest({
          registry: request.registry,
          repository: request.imageName,
          reference: request.tag,
          credentials: context.credentials,
          fetch: context.fetch,
        }))
      );
    } finally {
      // The login lives in the user's docker config: do not leave a registry token behind there.
      if (context.credentials) {
        await runStep(context, "docker", ["logout", request.registry], {
          what: `docker logout from ${request.registry}`,
        }).catch((error: Error) => context.log.error(error.message));
      }
    }
  },
};
