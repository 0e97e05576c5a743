/**
 * The four keys of DORA over one window of a rollout history: deployment frequency, lead time
 * for changes, change failure rate and failed deployment recovery time. Pure.
 */
import { appKey, type History, type Rollout, type RollbackRun } from "./history.ts";
import { median, percentile } from "./stats.ts";

const DAY_MS = 86_400_000;

/** A span of time, `from` inclusive, `to` exclusive, in epoch ms. */
export interface TimeWindow {
  from: number;
  to: number;
}

/** A commit a rollout released, with the time it was committed. */
export interface ReleasedCommit {
  sha: string;
  committedAt: number;
}

/** Why a rollout counts as a change failure. */
export type FailureKind = "rolled-back" | "failed-after-traffic" | "rolled-back-later";

export interface ChangeFailure {
  rollout: Rollout;
  kind: FailureKind;
  /** When production was healthy again; absent while it is not (as far as the records tell). */
  recoveredAt?: number;
  /** The rollback run that ended it, for a failure found by a later rollback. */
  rollback?: RollbackRun;
}

export interface Keys {
  window: TimeWindow;
  /** Rollouts that started in the window. */
  rollouts: Rollout[];
  deploymentFrequency: { promoted: Rollout[]; perDay: number; perWeek: number };
  leadTime: {
    /** One lead time per released commit, in ms, with the rollout that released it. */
    samples: { rollout: Rollout; commit: ReleasedCommit; leadTimeMs: number }[];
    medianMs?: number;
    p90Ms?: number;
  };
  changeFailureRate: {
    /** Rollouts that sent production traffic to their revision: the denominator. */
    reachedTraffic: Rollout[];
    failures: ChangeFailure[];
    /** 0..1; undefined when no rollout reached traffic. */
    rate?: number;
  };
  recoveryTime: {
    /** Each recovered failure with the time from its first production traffic to recovery. */
    samples: { failure: ChangeFailure; recoveryMs: number }[];
    unrecovered: ChangeFailure[];
    medianMs?: number;
  };
}

/**
 * The keys of the rollouts that started in `window`. `commits` holds, by rollout id, the commits
 * each promoted rollout released since the previous promoted rollout of its app.
 */
export function computeKeys(
  history: History,
  window: TimeWindow,
  commits: ReadonlyMap<string, readonly ReleasedCommit[]>,
): Keys {
  const rollouts = history.rollouts.filter(
    (r) => r.startedAt >= window.from && r.startedAt < window.to,
  );
  const days = (window.to - window.from) / DAY_MS;

  const promoted = rollouts.filter((r) => r.outcome === "promoted" && r.promotedAt !== undefined);
  const perDay = days > 0 ? promoted.length / days : 0;

  const samples = promoted.flatMap((rollout) =>
    (commits.get(rollout.id) ?? []).map((commit) => ({
      rollout,
      commit,
      // A committer clock ahead of the deploy's is not a negative lead time.
      leadTimeMs: Math.max(0, (rollout.promotedAt as number) - commit.committedAt),
    })),
  );
  const leads = samples.map((sample) => sample.leadTimeMs);

  const reachedTraffic = rollouts.filter((r) => r.firstTrafficAt !== undefined);
  const failures = reachedTraffic
    .map((rollout) => changeFailure(rollout, history))
    .filter((failure): failure is ChangeFailure => failure !== undefined);
  const recovered = failures
    .filter((failure) => failure.recoveredAt !== undefined)
    .map((failure) => ({
      failure,
      recoveryMs: Math.max(
        0,
        (failure.recoveredAt as number) - (failure.rollout.firstTrafficAt as number),
      ),
    }));

  return {
    window,
    rollouts,
    deploymentFrequency: { promoted, perDay, perWeek: perDay * 7 },
    leadTime: { samples, medianMs: median(leads), p90Ms: percentile(leads, 90) },
    changeFailureRate: {
      reachedTraffic,
      failures,
      ...(reachedTraffic.length > 0 && { rate: failures.length / reachedTraffic.length }),
    },
    recoveryTime: {
      samples: recovered,
      unrecovered: failures.filter((failure) => failure.recoveredAt === undefined),
      medianMs: median(recovered.map((sample) => sample.recoveryMs)),
    },
  };
}

/**
 * Pairs each promoted rollout with the promoted rollout of the same app before it: the commits
 * between their two commits are what it released.
 */
export function releasePairs(history: History): { head: Rollout; base: Rollout }[] {
  const last = new Map<string, Rollout>();
  const pairs: { head: Rollout; base: Rollout }[] = [];
  const promoted = history.rollouts
    .filter((r) => r.outcome === "promoted" && r.promotedAt !== undefined)
    .sort((a, b) => (a.promotedAt as number) - (b.promotedAt as number));
  for (const rollout of promoted) {
    const key = appKey(rollout);
    const base = last.get(key);
    if (base && base.commit && rollout.commit && base.commit !== rollout.commit) {
      pairs.push({ head: rollout, base });
    }
    last.set(key, rollout);
  }
  return pairs;
}

/**
 * A rollout that reached traffic is a change failure when its own run rolled it back, when it
 * failed after traffic, or when a rollback run of its app followed before the next rollout
 * reached traffic. A rollout that failed before any traffic is not one: users never met it.
 */
function changeFailure(rollout: Rollout, history: History): ChangeFailure | undefined {
  const started = rollout.firstTrafficAt as number;
  const later = history.rollouts.filter(
    (other) =>
      appKey(other) === appKey(rollout) &&
      other !== rollout &&
      other.firstTrafficAt !== undefined &&
      other.firstTrafficAt > started,
  );
  const nextTraffic = Math.min(...later.map((other) => other.firstTrafficAt as number));
  const healthyAfter = (moment: number) =>
    Math.min(
      ...history.rollbacks
        .filter((r) => appKey(r) === appKey(rollout) && r.at >= moment)
        .map((r) => r.at),
      ...history.rollouts
        .filter(
          (r) =>
            appKey(r) === appKey(rollout) &&
            r.outcome === "promoted" &&
            (r.promotedAt as number) >= moment,
        )
        .map((r) => r.promotedAt as number),
    );
  if (rollout.outcome === "rolled-back") {
    return { rollout, kind: "rolled-back", recoveredAt: rollout.endedAt };
  }
  if (rollout.outcome === "failed") {
    // The run could not put the traffic back: production is healthy again at the next promotion.
    const at = healthyAfter(rollout.endedAt);
    return {
      rollout,
      kind: "failed-after-traffic",
      ...(Number.isFinite(at) && { recoveredAt: at }),
    };
  }
  const rollback = history.rollbacks.find(
    (r) => appKey(r) === appKey(rollout) && r.at > started && r.at < nextTraffic,
  );
  if (rollback) return { rollout, kind: "rolled-back-later", recoveredAt: rollback.at, rollback };
  return undefined;
}
