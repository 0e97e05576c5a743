import type { Clock } from "../../../src/core/clock.ts";

/**
 * A clock whose time moves only when the code under test sleeps (or a test moves it), so waits and
 * deadlines are exact and take no real time. Records every sleep.
 */
export class VirtualClock implements Clock {
  time: number;
  readonly sleeps: number[] = [];

  constructor(start = Date.parse("2026-11-27T10:00:00Z")) {
    this.time = start;
  }

  now = (): number => this.time;

  sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.time += ms;
    // Let other work that is due run, as a real timer would.
    await Promise.resolve();
    signal?.throwIfAborted();
  };
}
