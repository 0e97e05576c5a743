import type { CredentialSource } from "../azure/credentials.ts";
import type { Log, RunContext, StateStore } from "../core/ports.ts";
import type { Inputs } from "../core/types.ts";

/**
 * What a CI system gives the tool: inputs, outputs, logs, masking, a summary, per-job state,
 * identity, and cancellation. One implementation per platform; the engine never sees which.
 */
export interface Host extends Log {
  readonly platform: "github" | "azure-pipelines";
  /** Raw text of an input, by its schema (kebab-case) name; undefined when not given. */
  getInput(name: string): string | undefined;
  /**
   * The input's name as users of this platform write it (`traffic-steps` / `trafficSteps`). Every
   * message the host prints has the inputs it names in code spans spelled the same way.
   */
  inputName(name: string): string;
  setOutput(name: string, value: string): void;
  /** Registers a value the platform must mask in every log. */
  setSecret(value: string): void;
  /** Every value registered with setSecret, for masking text the platform does not (diagnostics). */
  secrets(): readonly string[];
  writeSummary(markdown: string): Promise<void>;
  /** Marks the step failed with a message; the process exits non-zero. */
  setFailed(message: string): void;
  readonly state: StateStore;
  context(): RunContext;
  /** How this platform authenticates to Azure for these inputs. */
  credentialSource(inputs: Inputs): Promise<CredentialSource>;
}
