/**
 * The engine with its edges replaced by plain values: the in-memory app, the virtual clock, a
 * probe that answers what the test says, a state store that keeps the run's journal, and inputs
 * read through the real validation.
 */
import type { HttpProbe } from "../../../src/core/checks/run.ts";
import { readInputs } from "../../../src/core/inputs/validate.ts";
import type { EngineDeps, Log, StateStore } from "../../../src/core/ports.ts";
import { DEFAULT_TIMING } from "../../../src/core/timing.ts";
import type { Inputs } from "../../../src/core/types.ts";
import type { FakeApps } from "./fakeApps.ts";
import { VirtualClock } from "./virtualClock.ts";

export const silent: Log = {
  debug() {},
  info() {},
  warning() {},
  error() {},
  group: (_title, fn) => fn(),
};

/** The host's per-job state, in memory. */
export class MemoryState implements StateStore {
  readonly values = new Map<string, string>();
  save(key: string, value: string): void {
    this.values.set(key, value);
  }
  load(key: string): string | undefined {
    return this.values.get(key);
  }
}

/** Validated inputs for app `shop` deploying `registry.test/shop:2` as `shop--v2`, plus `given`. */
export function inputs(given: Record<string, string>): Inputs {
  const parsed = readInputs(
    (name) =>
      ({
        "subscription-id": "00000000-0000-0000-0000-000000000001",
        "resource-group": "rg",
        "container-app": "shop",
        image: "registry.test/shop:2",
        "revision-suffix": "v2",
        ...given,
      })[name],
  );
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join("; "));
  return parsed.inputs;
}

let runs = 0;

/**
 * The engine's deps for one run against `apps`. Runs on the same app share its clock, so that a
 * later run sees the time an earlier one spent; each run has its own id.
 */
export function engine(apps: FakeApps, probe: HttpProbe, extra: Partial<EngineDeps> = {}) {
  const clock = apps.clock instanceof VirtualClock ? apps.clock : new VirtualClock();
  apps.clock = clock;
  const state = new MemoryState();
  runs += 1;
  const deps: EngineDeps = {
    apps,
    probe,
    clock,
    log: silent,
    state,
    run: { runId: `test:${runs}`, holder: `test run ${runs}` },
    timing: {
      operation: DEFAULT_TIMING.operation,
      readiness: { firstMs: 500, factor: 1.5, maxMs: 5_000 },
    },
    ...extra,
  };
  return { deps, clock, state };
}

export const healthy: HttpProbe = {
  send: async () => ({ status: 200, headers: {}, body: "ok", latencyMs: 5 }),
};

/** A probe that answers as `healthy` and calls `onRequest` with the request's number (from 1) first. */
export function probeWith(onRequest: (request: number) => void): HttpProbe & { sent(): number } {
  let sent = 0;
  return {
    sent: () => sent,
    send: async (request) => {
      onRequest(++sent);
      return healthy.send(request);
    },
  };
}
