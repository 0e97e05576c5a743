/**
 * How long things take in the emulated service, as a timing profile:
 *
 * - `fast` (the default): short fixed delays, so a whole rollout runs in seconds;
 * - `azure`: the durations recorded on the real service (Azure CLI test recordings of
 *   Microsoft.App, 2024), sampled from a seeded generator so that a run is repeatable.
 *
 * A time scale multiplies every duration a profile yields (0.05 runs the azure profile at 1/20 of
 * real time). Durations set as options are wall-clock milliseconds and are not scaled.
 */
import { createHash } from "node:crypto";

export type TimingProfile = "fast" | "azure";

/** A write that creates a revision runs longer or shorter than one that only changes settings. */
export type WriteKind = "revision" | "configuration";

export interface TimingOptions {
  profile: TimingProfile;
  timeScale: number;
  seed: string;
  /** Fast profile: how long an operation runs. */
  operationDelayMs?: number;
  /** Fast profile: how long a revision whose process listens stays Activating. */
  provisioningDelayMs?: number;
  /** Fast profile: how long each replica beyond the first takes to be ready after the one before. */
  replicaStartDelayMs?: number;
  retireDelayMs?: number;
  operationExpiryMs?: number;
}

export interface Timing {
  readonly profile: TimingProfile;
  readonly timeScale: number;
  /** How long the operation of a write runs. */
  operationMs(kind: WriteKind): number;
  /**
   * How long a new revision stays Provisioning after its write, given how long the write's
   * operation runs; it also stays Provisioning until its process listens.
   */
  provisioningMs(operationMs: number): number;
  /** How long a revision whose process listens stays Activating (not ready) before Running. */
  activationMs(): number;
  /** How long each replica beyond the first takes to be ready after the one before it. */
  replicaStartMs(): number;
  /** Single mode: how long the previous revision stays Deprovisioning once the new one is ready. */
  retireDelayMs(): number;
  /** How long a write whose revision never gets ready runs before "Operation expired.". */
  operationExpiryMs(): number;
}

/** A duration drawn from `[minMs, maxMs]` with mean `meanMs` (see `sample`). */
interface Spread {
  minMs: number;
  meanMs: number;
  maxMs: number;
}

const fastDefaults = {
  operationDelayMs: 300,
  provisioningDelayMs: 300,
  retireDelayMs: 300,
  operationExpiryMs: 2_000,
};

/**
 * The azure profile. Operation durations run from a PATCH's 202 to its terminal status, by the
 * `date` headers of the recorded responses: traffic-only PATCHes 12–50 s (mean 25 s), PATCHes
 * with a template 6–50 s (mean 16 s). The revision stays Provisioning after its operation ended
 * (test_containerapp_ingress_traffic_e2e: still Provisioning / Processing after the PATCH's
 * operation had succeeded) and then Activating (test_container_app_mount_azurefile_e2e:
 * Provisioned / Activating / None once the operation had succeeded); how long each lasts is ours,
 * shaped after those few samples. In Single mode the previous revision stayed active about a
 * minute (test_containerapp_scale_revision_copy). "Operation expired." comes after the
 * `x-ms-async-operation-timeout: PT15M` every recorded PUT announces.
 */
const azure = {
  configurationWrite: { minMs: 12_000, meanMs: 25_000, maxMs: 50_000 },
  revisionWrite: { minMs: 6_000, meanMs: 16_000, maxMs: 50_000 },
  provisioningAfterOperation: { minMs: 0, meanMs: 8_000, maxMs: 20_000 },
  activation: { minMs: 2_000, meanMs: 5_000, maxMs: 12_000 },
  retireDelayMs: 60_000,
  operationExpiryMs: 15 * 60_000,
} satisfies Record<string, Spread | number>;

export function createTiming(options: TimingOptions): Timing {
  checkOptions(options);
  const { profile, timeScale } = options;
  const scaled = (ms: number) => Math.round(ms * timeScale);
  const uniform = seededUniform(options.seed);
  const draw = (spread: Spread) => scaled(sample(spread, uniform()));

  if (profile === "fast") {
    const given = (value: number | undefined, fallback: number) => value ?? scaled(fallback);
    return {
      profile,
      timeScale,
      operationMs: () => given(options.operationDelayMs, fastDefaults.operationDelayMs),
      provisioningMs: () => 0,
      activationMs: () => given(options.provisioningDelayMs, fastDefaults.provisioningDelayMs),
      replicaStartMs: () =>
        options.replicaStartDelayMs ??
        given(options.provisioningDelayMs, fastDefaults.provisioningDelayMs),
      retireDelayMs: () => given(options.retireDelayMs, fastDefaults.retireDelayMs),
      operationExpiryMs: () => given(options.operationExpiryMs, fastDefaults.operationExpiryMs),
    };
  }
  return {
    profile,
    timeScale,
    operationMs: (kind) =>
      draw(kind === "revision" ? azure.revisionWrite : azure.configurationWrite),
    provisioningMs: (operationMs) => operationMs + draw(azure.provisioningAfterOperation),
    activationMs: () => draw(azure.activation),
    // Each further replica starts as the first did: the same activation spread (the emulator's own).
    replicaStartMs: () => draw(azure.activation),
    retireDelayMs: () => options.retireDelayMs ?? scaled(azure.retireDelayMs),
    operationExpiryMs: () => options.operationExpiryMs ?? scaled(azure.operationExpiryMs),
  };
}

function checkOptions(options: TimingOptions): void {
  if (options.profile !== "fast" && options.profile !== "azure") {
    throw new Error(`timing must be "fast" or "azure", got ${String(options.profile)}.`);
  }
  if (!Number.isFinite(options.timeScale) || options.timeScale <= 0) {
    throw new Error(`timeScale must be a positive number, got ${String(options.timeScale)}.`);
  }
  for (const name of [
    "operationDelayMs",
    "provisioningDelayMs",
    "replicaStartDelayMs",
    "retireDelayMs",
    "operationExpiryMs",
  ] as const) {
    const value = options[name];
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
      throw new Error(`${name} must be a non-negative integer, got ${String(value)}.`);
    }
  }
  if (options.profile === "azure") {
    for (const name of [
      "operationDelayMs",
      "provisioningDelayMs",
      "replicaStartDelayMs",
    ] as const) {
      if (options[name] !== undefined) {
        throw new Error(
          `${name} sets the fast profile; the azure profile samples its own durations ` +
            "(scale them with timeScale).",
        );
      }
    }
  }
}

/**
 * A duration in `[minMs, maxMs]` with mean `meanMs`, from a uniform draw `u` in [0, 1): a Beta(1, b)
 * variate scaled to the range, whose density is highest at the minimum and falls towards a long
 * tail, as the recorded durations do (most writes are quick, a few take the longest).
 */
export function sample(spread: Spread, u: number): number {
  const { minMs, meanMs, maxMs } = spread;
  if (maxMs <= minMs) return minMs;
  const b = (maxMs - meanMs) / (meanMs - minMs);
  return minMs + (maxMs - minMs) * (1 - Math.pow(1 - u, 1 / b));
}

/** Uniform draws in [0, 1) that depend only on the seed and how many were drawn before. */
function seededUniform(seed: string): () => number {
  let counter = 0;
  return () => {
    const digest = createHash("sha256").update(`${seed}:${counter++}`).digest();
    return digest.readUIntBE(0, 6) / 2 ** 48;
  };
}
