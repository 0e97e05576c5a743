/**
 * The emulator's own waits: timers that stop with it, and the work in flight (revision processes
 * starting or stopping) that stopping must wait for, so nothing outlives `stop()`.
 */
export class Scheduler {
  /** Each pending timer with the resolve of its delay. */
  readonly #timers = new Map<NodeJS.Timeout, () => void>();
  readonly #pending = new Set<Promise<unknown>>();
  #stopped = false;

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Resolves after `ms`, or at once when the emulator stops: check `stopped` after it. */
  delay(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.set(timer, resolve);
    });
  }

  /** Remembers work that `stop()` must wait for. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.#pending.add(promise);
    void promise.finally(() => this.#pending.delete(promise)).catch(() => undefined);
    return promise;
  }

  /** Cancels every timer, then waits for the tracked work (`beforeWait` may add more). */
  async stop(beforeWait: () => void = () => undefined): Promise<void> {
    this.#stopped = true;
    for (const [timer, resolve] of this.#timers) {
      clearTimeout(timer);
      resolve();
    }
    this.#timers.clear();
    beforeWait();
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }
}
