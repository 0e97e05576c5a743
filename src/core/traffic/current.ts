import type { AppState } from "../ports.ts";
import type { TrafficWeight } from "../types.ts";
import { resolveTraffic } from "./resolve.ts";

/** The app's traffic, every entry pinned to a revision name. */
export function currentTraffic(app: AppState): TrafficWeight[] {
  // `latestRevision: true` follows the latest *ready* revision (AZURE-RECORDED-FACTS.md), not the
  // latest created: a Single-mode app keeps serving its old revision while a new one starts.
  return resolveTraffic(
    app.ingress?.traffic ?? [],
    app.latestReadyRevisionName ?? app.latestRevisionName,
  );
}
