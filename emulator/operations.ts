/**
 * Long-running operations of ARM writes: each runs `InProgress` for its duration and until what
 * it waits for has settled, then ends `Succeeded`, or `Failed` with the first failure's error.
 * The status resource carries `{id, name, status, startTime}` and `error` when failed, never an
 * `endTime` (none of the 987 recorded status polls has one).
 */
import { randomUUID } from "node:crypto";
import type { Scheduler } from "./scheduler.ts";
import type { Operation, ResourceStore } from "./store.ts";

export interface OperationError {
  code: string;
  message: string;
}

export class Operations {
  readonly #store: ResourceStore;
  readonly #scheduler: Scheduler;

  constructor(store: ResourceStore, scheduler: Scheduler) {
    this.#store = store;
    this.#scheduler = scheduler;
  }

  /**
   * Starts an operation on `resourceId` that lasts `durationMs` and until every one of `awaits`
   * has settled; one that settles with an error fails the operation. `onDone` runs once it ends.
   */
  start(
    resourceId: string,
    durationMs: number,
    awaits: Promise<OperationError | undefined>[],
    onDone: (operation: Operation) => void,
  ): Operation {
    const operation: Operation = {
      id: randomUUID(),
      resourceId,
      status: "InProgress",
      startTime: new Date().toISOString(),
    };
    this.#store.addOperation(operation);
    void Promise.all([this.#scheduler.delay(durationMs), ...awaits]).then(([, ...outcomes]) => {
      if (this.#scheduler.stopped) return;
      const error = outcomes.find((outcome) => outcome !== undefined);
      operation.status = error === undefined ? "Succeeded" : "Failed";
      if (error !== undefined) operation.error = error;
      onDone(operation);
    });
    return operation;
  }
}
