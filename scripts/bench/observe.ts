/**
 * Watches an app inside the emulator, in the benchmark's own process, and keeps every change of
 * what Azure would report: the app's provisioning state (a write's operation running or done), its
 * traffic, and each revision's state. From these the benchmark knows when an operation really
 * ended and when a revision really became ready, to compare with when the Action noticed.
 */
import type { Emulator } from "../../emulator/index.ts";
import type { TrafficEntry } from "../../emulator/types.ts";

export interface AppChange {
  time: number;
  provisioningState: string;
  traffic: TrafficEntry[];
  /** Revision name → "provisioning/running/health/active". */
  revisions: Record<string, string>;
  /** The app's answer as a reader would get it (traffic, tags, states), to compare two reads. */
  appKey: string;
}

export interface Watch {
  stop(): AppChange[];
}

export function watchApp(
  emulator: Emulator,
  resourceGroup: string,
  app: string,
  everyMs = 5,
): Watch {
  const changes: AppChange[] = [];
  let lastKey = "";
  const sample = () => {
    const view = emulator.getApp(resourceGroup, app);
    const revisions = Object.fromEntries(
      view.revisions.map((r) => [
        r.name,
        `${r.provisioningState}/${r.runningState}/${r.healthState}/${r.active ? "active" : "inactive"}`,
      ]),
    );
    const appKey = JSON.stringify([
      view.provisioningState,
      view.traffic,
      view.tags,
      view.latestRevisionName,
      view.latestReadyRevisionName,
      view.activeRevisionsMode,
    ]);
    const key = JSON.stringify([appKey, revisions]);
    if (key === lastKey) return;
    lastKey = key;
    changes.push({
      time: Date.now(),
      provisioningState: view.provisioningState,
      traffic: view.traffic,
      revisions,
      appKey,
    });
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return changes;
    },
  };
}

/** Whether a revision state string reads ready (Provisioned, Running, Healthy, active). */
export function readsReady(state: string | undefined): boolean {
  if (!state) return false;
  const [provisioning, running, health, active] = state.toLowerCase().split("/");
  return (
    provisioning === "provisioned" &&
    running === "running" &&
    health === "healthy" &&
    active === "active"
  );
}
