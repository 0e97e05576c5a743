/**
 * `action: insights` on any host: read the tool's records of the apps through the platform's
 * history, fetch the commits each promotion released, compute the keys, and publish the summary
 * and the `insights` output. Reads only; Azure is never called.
 */
import { systemClock, type Clock } from "../core/clock.ts";
import { errorMessage } from "../core/failure.ts";
import { buildHistory } from "../core/insights/history.ts";
import { buildInsights } from "../core/insights/insights.ts";
import { releasePairs, type ReleasedCommit } from "../core/insights/keys.ts";
import type { RolloutHistory } from "../core/insights/source.ts";
import { duration, renderInsightsSummary } from "../core/report/insights.ts";
import type { Inputs } from "../core/types.ts";
import type { Host } from "./host.ts";

/** Commit lookups in flight at once: enough to be quick, few enough for API rate limits. */
const PARALLEL_LOOKUPS = 4;

export async function runInsights(
  host: Host,
  inputs: Inputs,
  openHistory: ((inputs: Inputs) => RolloutHistory) | undefined,
  clock: Clock = systemClock,
): Promise<number> {
  const { apps, windowMs } = inputs.insights ?? { apps: [inputs.containerApp], windowMs: 0 };
  const refs = apps.map((app) => ({ app, resourceGroup: inputs.resourceGroup }));
  if (!openHistory) {
    host.setFailed("action: insights is not available on this platform.");
    return 1;
  }
  let history: RolloutHistory;
  try {
    history = openHistory(inputs);
  } catch (error) {
    host.setFailed(`Cannot read the deploy history: ${errorMessage(error)}`);
    return 1;
  }
  const now = clock.now();
  // The window and the one before it, for the trend.
  const since = now - 2 * windowMs;
  host.info(`Reading ${history.description} since ${new Date(since).toISOString()}`);
  let records;
  try {
    records = await host.group("Read the deploy history", () => history.records(refs, since));
  } catch (error) {
    host.setFailed(`Reading ${history.description} failed: ${errorMessage(error)}`);
    return 1;
  }
  host.info(`${records.length} records of ${apps.join(", ")}`);
  const rollouts = buildHistory(records);
  const pairs = releasePairs(rollouts).filter((pair) => pair.head.startedAt >= since);
  const commits = new Map<string, ReleasedCommit[]>();
  await host.group("Read the released commits", async () => {
    for (let i = 0; i < pairs.length; i += PARALLEL_LOOKUPS) {
      await Promise.all(
        pairs.slice(i, i + PARALLEL_LOOKUPS).map(async ({ base, head }) => {
          try {
            commits.set(head.id, await history.commitsBetween(base, head));
          } catch (error) {
            host.warning(
              `The commits released by ${head.revision ?? head.id} are not counted in the lead time: ${errorMessage(error)}`,
            );
          }
        }),
      );
    }
  });
  const report = buildInsights({
    history: rollouts,
    commits,
    now,
    windowMs,
    apps: refs,
    source: history.description,
  });
  const f = report.deploymentFrequency;
  host.info(
    `Deployment frequency: ${f.deploys} promoted deploys (${(f.perWeek ?? 0).toFixed(1)} per week)`,
  );
  if (report.leadTime.value !== undefined) {
    host.info(
      `Lead time for changes: median ${duration(report.leadTime.value)} over ${report.leadTime.commits} commits`,
    );
  }
  const c = report.changeFailureRate;
  host.info(
    `Change failure rate: ${c.failures} of ${c.reachedTraffic} rollouts that reached traffic`,
  );
  if (report.recoveryTime.value !== undefined) {
    host.info(`Failed deployment recovery time: median ${duration(report.recoveryTime.value)}`);
  }
  host.setOutput("insights", JSON.stringify(report));
  try {
    await host.writeSummary(renderInsightsSummary(report));
  } catch (error) {
    host.warning(`Could not write the job summary: ${errorMessage(error)}`);
  }
  return 0;
}
