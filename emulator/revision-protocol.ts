/** Messages on the IPC channel between the emulator and a revision process. */

/** Sent by the revision process. */
export type RevisionMessage =
  { type: "listening"; port: number } | { type: "behaviour-set"; behaviour: string };

/** Sent by the emulator. */
export type EmulatorMessage = { type: "set-behaviour"; behaviour: string };
