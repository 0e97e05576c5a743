/**
 * Which builder builds: the one asked for, or for `auto` the first local one that can run here
 * (docker with a reachable daemon, podman, buildah), else a remote build in the registry when it is
 * an Azure Container Registry.
 */
import { isAcrLoginServer } from "./registry.ts";
import type { BuilderChoice, BuilderName, CommandRunner } from "./types.ts";

const PROBE_TIMEOUT_MS = 15_000;

/** Runs a probe command; true when it exits 0 within the timeout. */
async function probe(run: CommandRunner, command: string, args: string[]): Promise<boolean> {
  try {
    const result = await run.run(command, args, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    return result.exitCode === 0;
  } catch {
    return false;
  }
}

/** The local builders in order of preference, each with the command that shows it can build. */
const LOCAL_PROBES: { name: BuilderName; command: string; args: string[] }[] = [
  // `docker version` fails when the CLI is there but no daemon answers.
  { name: "docker", command: "docker", args: ["version", "--format", "{{.Server.Version}}"] },
  { name: "podman", command: "podman", args: ["--version"] },
  { name: "buildah", command: "buildah", args: ["--version"] },
];

export interface SelectedBuilder {
  name: BuilderName;
  /** Why this one, for the log. */
  reason: string;
}

export async function selectBuilder(
  choice: BuilderChoice,
  registry: string,
  run: CommandRunner,
): Promise<SelectedBuilder> {
  if (choice !== "auto") return { name: choice, reason: "asked for" };
  const skipped: string[] = [];
  for (const candidate of LOCAL_PROBES) {
    if (await probe(run, candidate.command, candidate.args)) {
      const before = skipped.length > 0 ? ` (${skipped.join("; ")})` : "";
      return { name: candidate.name, reason: `first local builder that works${before}` };
    }
    skipped.push(
      candidate.name === "docker"
        ? "docker: no CLI or no reachable daemon"
        : `${candidate.name}: not installed`,
    );
  }
  if (isAcrLoginServer(registry)) {
    return {
      name: "acr",
      reason: `no local builder (${skipped.join("; ")}), ${registry} is an Azure Container Registry`,
    };
  }
  throw new Error(
    `No image builder is available here (${skipped.join("; ")}) and ${registry} is not an Azure Container Registry, ` +
      "so a remote ACR build is not possible either. Install buildah or podman, start a docker daemon, or push to an Azure Container Registry.",
  );
}
