/**
 * CPU and memory as Container Apps accepts them, checked before any write. The CPU and memory of
 * all the containers of a revision add up to its replica's size:
 *
 * - on the Consumption profile the total must be one of the documented combinations: 0.25 vCPU
 *   with 0.5Gi, then steps of 0.25 vCPU with memory twice the CPU, up to 4 vCPU with 8Gi
 *   (learn.microsoft.com/azure/container-apps/workload-profiles-overview, "Consumption: 0.25-4
 *   vCPU, 0.5-8 GiB per replica"; the service's ContainerAppInvalidResourceTotal lists the same
 *   combinations — older material stops at 2 vCPU / 4Gi);
 * - on a dedicated profile a replica must fit on one node of the profile's size (same page); the
 *   service keeps part of each node for itself, so a total close to the size may still fail, and
 *   then the service's own error is what the run reports.
 *
 * Pure; no I/O.
 */
import { memoryGiB, type RevisionTemplate } from "./model.ts";

/** The service's default when a container gives no resources. */
export const DEFAULT_RESOURCES = { cpu: 0.5, memory: "1Gi" } as const;

const CONSUMPTION_MAX_CPU = 4;
const CPU_STEP = 0.25;

/** vCPU and memory (GiB) of one node of each dedicated workload profile type, as documented. */
export const DEDICATED_SIZES: Readonly<Record<string, { cores: number; memoryGiB: number }>> = {
  D4: { cores: 4, memoryGiB: 16 },
  D8: { cores: 8, memoryGiB: 32 },
  D16: { cores: 16, memoryGiB: 64 },
  D32: { cores: 32, memoryGiB: 128 },
  E4: { cores: 4, memoryGiB: 32 },
  E8: { cores: 8, memoryGiB: 64 },
  E16: { cores: 16, memoryGiB: 128 },
  E32: { cores: 32, memoryGiB: 256 },
  "NC24-A100": { cores: 24, memoryGiB: 220 },
  "NC48-A100": { cores: 48, memoryGiB: 440 },
  "NC96-A100": { cores: 96, memoryGiB: 880 },
};

/** Where the revision runs, as far as its size limits go. */
export type WorkloadProfile =
  | { kind: "consumption"; name: string }
  | { kind: "dedicated"; name: string; type: string; cores: number; memoryGiB: number }
  /** A profile whose size this tool does not know: the service checks it. */
  | { kind: "unknown"; name: string; type?: string };

/** The profile named `name` among an environment's workload profiles. */
export function workloadProfileOf(
  name: string | undefined,
  profiles: { name: string; workloadProfileType: string }[],
): WorkloadProfile {
  if (name === undefined || name === "" || name.toLowerCase() === "consumption") {
    return { kind: "consumption", name: name || "Consumption" };
  }
  const found = profiles.find((profile) => profile.name.toLowerCase() === name.toLowerCase());
  if (!found) return { kind: "unknown", name };
  const type = found.workloadProfileType;
  if (type.toLowerCase().startsWith("consumption")) return { kind: "consumption", name };
  const size = Object.entries(DEDICATED_SIZES).find(
    ([known]) => known.toLowerCase() === type.toLowerCase(),
  );
  return size
    ? { kind: "dedicated", name, type: size[0], ...size[1] }
    : { kind: "unknown", name, type };
}

export interface ResourceTotal {
  cpu: number;
  memoryGiB: number;
  /** Each container's share, e.g. `web 0.5 vCPU / 1Gi`. */
  parts: string[];
}

/** The CPU and memory of all the template's containers, with the service's defaults filled in. */
export function resourceTotal(template: RevisionTemplate): ResourceTotal {
  let cpu = 0;
  let memory = 0;
  const parts: string[] = [];
  for (const container of template.containers) {
    const c = container.resources?.cpu ?? DEFAULT_RESOURCES.cpu;
    const m = memoryGiB(container.resources?.memory ?? DEFAULT_RESOURCES.memory) ?? 0;
    cpu += c;
    memory += m;
    parts.push(`${container.name} ${c} vCPU / ${m}Gi`);
  }
  // Two decimals at most on each side: round away the binary fractions of the sums.
  return { cpu: round(cpu), memoryGiB: round(memory), parts };
}

/** Why the template's total does not fit the profile, or undefined when it does (or is unknown). */
export function resourceProblem(
  template: RevisionTemplate,
  profile: WorkloadProfile,
): string | undefined {
  const total = resourceTotal(template);
  const asked = `${total.cpu} vCPU and ${total.memoryGiB}Gi in all (${total.parts.join(", ")})`;
  if (profile.kind === "consumption") {
    const steps = total.cpu / CPU_STEP;
    const valid =
      Math.abs(steps - Math.round(steps)) < 1e-9 &&
      total.cpu >= CPU_STEP &&
      total.cpu <= CONSUMPTION_MAX_CPU &&
      Math.abs(total.memoryGiB - 2 * total.cpu) < 1e-9;
    if (valid) return undefined;
    return `the revision's containers ask for ${asked}; on the ${profile.name} workload profile the total must be one of ${consumptionCombinations()}: memory twice the CPU, in steps of 0.25 vCPU`;
  }
  if (profile.kind === "dedicated") {
    if (total.cpu <= profile.cores && total.memoryGiB <= profile.memoryGiB) return undefined;
    return `the revision's containers ask for ${asked}, more than a node of the ${profile.name} workload profile (${profile.type}: ${profile.cores} vCPU, ${profile.memoryGiB}Gi) holds`;
  }
  return undefined;
}

/** `0.25 vCPU / 0.5Gi, 0.5 / 1Gi, …, 4 / 8Gi`. */
function consumptionCombinations(): string {
  return `0.25 vCPU / 0.5Gi, 0.5 / 1Gi, 0.75 / 1.5Gi, … ${CONSUMPTION_MAX_CPU} / ${2 * CONSUMPTION_MAX_CPU}Gi`;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
