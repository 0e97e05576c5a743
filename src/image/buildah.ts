/**
 * buildah and podman: the daemonless builders of the containers tools. Both log in with
 * `--password-stdin` into a private auth file, trust extra CAs through `--cert-dir`, and write the
 * pushed manifest's digest with `--digestfile`.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  labelAndArgFlags,
  runStep,
  taggedReference,
  type Builder,
  type BuilderContext,
} from "./builder.ts";

const DIGEST = /^sha256:[0-9a-f]{64}$/;

interface ContainersTool {
  command: "buildah" | "podman";
  /** Flags before the subcommand (buildah's storage selection). */
  globalFlags(context: BuilderContext): string[];
  buildCommand: string[];
  /** Flags of the build subcommand beyond tags, labels and build args. */
  buildFlags: string[];
}

function tlsFlags(context: BuilderContext): string[] {
  return context.request.certDir ? ["--cert-dir", context.request.certDir] : [];
}

function containersBuilder(tool: ContainersTool): Builder {
  return {
    name: tool.command,
    async buildAndPush(context: BuilderContext): Promise<string> {
      const { request } = context;
      const reference = taggedReference(request);
      const global = tool.globalFlags(context);
      const authFile = join(context.workDir, "auth.json");
      const auth: string[] = [];
      if (context.credentials) {
        await runStep(
          context,
          tool.command,
          [
            ...global,
            "login",
            "--authfile",
            authFile,
            ...tlsFlags(context),
            "--username",
            context.credentials.username,
            "--password-stdin",
            request.registry,
          ],
          {
            what: `${tool.command} login to ${request.registry}`,
            stdin: context.credentials.password,
          },
        );
        auth.push("--authfile", authFile);
      }
      await runStep(
        context,
        tool.command,
        [
          ...global,
          ...tool.buildCommand,
          ...tool.buildFlags,
          ...auth,
          ...tlsFlags(context),
          "--file",
          request.dockerfile,
          "--tag",
          reference,
          ...labelAndArgFlags(context),
          request.context,
        ],
        { what: `${tool.command} build of ${reference}` },
      );
      const digestFile = join(context.workDir, "digest");
      await runStep(
        context,
        tool.command,
        [
          ...global,
          "push",
          ...auth,
          ...tlsFlags(context),
          "--digestfile",
          digestFile,
          reference,
          `docker://${reference}`,
        ],
        { what: `${tool.command} push of ${reference}` },
      );
      const digest = (await readFile(digestFile, "utf8")).trim();
      if (!DIGEST.test(digest)) {
        throw new Error(
          `${tool.command} push wrote no manifest digest for ${reference} (got "${digest}").`,
        );
      }
      return digest;
    },
  };
}

/** `buildah --storage-driver vfs bud --isolation chroot`: works in unprivileged CI containers. */
export const buildahBuilder: Builder = containersBuilder({
  command: "buildah",
  globalFlags: (context) => [
    "--storage-driver",
    "vfs",
    ...(context.request.storage
      ? ["--root", context.request.storage.root, "--runroot", context.request.storage.runRoot]
      : []),
  ],
  buildCommand: ["bud"],
  buildFlags: ["--isolation", "chroot"],
});

export const podmanBuilder: Builder = containersBuilder({
  command: "podman",
  globalFlags: () => [],
  buildCommand: ["build"],
  buildFlags: [],
});
