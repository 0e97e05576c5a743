/**
 * How often the tool asks Azure whether something has finished. Azure sends no `Retry-After` on
 * its long-running operations (AZURE-RECORDED-FACTS.md: 0 of 305 PATCH 202s, 0 of 2,913 status
 * polls), so the cadence is ours: quick first polls so that a fast answer is seen at once, then
 * backing off so that a long wait does not hammer Resource Manager.
 */
export interface PollSchedule {
  /** Gap before the first poll after the request. */
  firstMs: number;
  /** Each gap is the previous one times this. */
  factor: number;
  /** The gap never grows past this. */
  maxMs: number;
}

export interface TimingProfile {
  /** Polls of a long-running write (PATCH of the app) until its operation ends. */
  operation: PollSchedule;
  /** Reads of a revision until it is ready. */
  readiness: PollSchedule;
}

/**
 * Against Azure: writes take 12–50 s and a new revision provisions for seconds to minutes. A gap of
 * at most 1 s notices the end within half a second on average — the lag is overhead of every
 * write, and with 2 s gaps (the Azure CLI's fixed cadence) it alone cost a 1-step rollout 2% of
 * its time (BENCHMARKS.md) — while one read a second stays far below Resource Manager's limits.
 */
export const DEFAULT_TIMING: TimingProfile = {
  operation: { firstMs: 200, factor: 1.5, maxMs: 1_000 },
  readiness: { firstMs: 250, factor: 1.5, maxMs: 1_000 },
};

/**
 * The profile with every gap multiplied by `scale`: a rehearsal against an emulator that runs
 * Azure's recorded durations at 1/20 of real time polls at 1/20 of the gaps too, so the overhead it
 * measures is the overhead a real run would have.
 */
export function scaleTiming(profile: TimingProfile, scale: number): TimingProfile {
  if (!(scale > 0) || scale === 1) return profile;
  const scaled = (s: PollSchedule): PollSchedule => ({
    firstMs: Math.max(1, Math.round(s.firstMs * scale)),
    factor: s.factor,
    maxMs: Math.max(1, Math.round(s.maxMs * scale)),
  });
  return { operation: scaled(profile.operation), readiness: scaled(profile.readiness) };
}

/** The gaps of a schedule, one after another: first, first × factor, … up to the maximum. */
export function pollGaps(schedule: PollSchedule): () => number {
  let gap = schedule.firstMs;
  return () => {
    const current = Math.min(gap, schedule.maxMs);
    gap = Math.min(gap * schedule.factor, schedule.maxMs);
    return Math.round(current);
  };
}

/** Environment variable that scales the poll cadence (rehearsals on a time-scaled emulator). */
export const TIME_SCALE_ENV = "ACA_BLUE_GREEN_TIME_SCALE";

/** The timing profile for this process: the default, scaled by `ACA_BLUE_GREEN_TIME_SCALE`. */
export function timingFromEnvironment(env: Record<string, string | undefined>): TimingProfile {
  const raw = env[TIME_SCALE_ENV];
  if (raw === undefined || raw === "") return DEFAULT_TIMING;
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale <= 0 || scale > 1) {
    throw new Error(
      `${TIME_SCALE_ENV} must be a number greater than 0 and at most 1, not "${raw}".`,
    );
  }
  return scaleTiming(DEFAULT_TIMING, scale);
}
