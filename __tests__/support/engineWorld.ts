/**
 * The engine's edges as plain values, for tests of what happens inside a bake (with the in-memory
 * app of __tests__/core/support): a clock on which time moves only when every task is waiting, jumping to the
 * earliest wake-up — so concurrent waits (the checks, the looks, the side-by-side traffic) keep
 * their order without any real time passing.
 */
import type { Clock } from "../../src/core/clock.ts";
import type { HttpProbe } from "../../src/core/checks/run.ts";
import type { ContainerAppsPort, EngineDeps, Log } from "../../src/core/ports.ts";
import { DEFAULT_TIMING } from "../../src/core/timing.ts";

interface Timer {
  at: number;
  seq: number;
  wake: () => void;
}

export class EventClock implements Clock {
  time = Date.parse("2026-11-27T10:00:30Z");
  #timers: Timer[] = [];
  #seq = 0;
  #scheduled = false;

  now = () => this.time;

  sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const timer: Timer = { at: this.time + Math.max(0, ms), seq: this.#seq++, wake: resolve };
      const onAbort = () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal?.reason);
      };
      timer.wake = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#timers.push(timer);
      this.#schedule();
    });

  /** Fires the earliest timer once everything else has run (setImmediate follows the microtasks). */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#timers.shift();
      if (!next) return;
      this.time = Math.max(this.time, next.at);
      next.wake();
      if (this.#timers.length > 0) this.#schedule();
    });
  }
}

/** A log that keeps its lines, for assertions. */
export function recordingLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug() {},
    info: (message) => void lines.push(message),
    warning: (message) => void lines.push(`warning: ${message}`),
    error: (message) => void lines.push(`error: ${message}`),
    group: (_title, fn) => fn(),
  };
}

export function engineDeps(
  apps: ContainerAppsPort,
  probe: HttpProbe,
  extra: Partial<EngineDeps> = {},
): EngineDeps & { clock: EventClock; log: ReturnType<typeof recordingLog> } {
  return {
    apps,
    probe,
    clock: new EventClock(),
    log: recordingLog(),
    state: { save() {}, load: () => undefined },
    run: { runId: "test:1", holder: "the test run" },
    timing: DEFAULT_TIMING,
    ...extra,
  } as EngineDeps & { clock: EventClock; log: ReturnType<typeof recordingLog> };
}
