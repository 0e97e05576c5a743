/**
 * The task's two steps. The entries only start one of them, so that both share one bundle.
 */
import { errorMessage } from "../core/failure.ts";
import { AzurePipelinesHost } from "../hosts/azurePipelines.ts";
import { runMain, runPost } from "../hosts/run.ts";
import { recordHooks } from "./rolloutRecords.ts";

/** The main step; resolves to the process exit code. */
export async function mainStep(): Promise<number> {
  const host = new AzurePipelinesHost();
  // The agent sends SIGINT, then SIGTERM, when the job is cancelled or times out: the engine
  // then restores the snapshot before the step ends.
  const cancel = new AbortController();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => cancel.abort(new Error(`received ${signal}`)));
  }
  try {
    const exitCode = await runMain(
      host,
      cancel.signal,
      recordHooks(host, () => host.context()),
    );
    host.complete(exitCode);
    return exitCode;
  } catch (error) {
    host.setFailed(`The deployment stopped unexpectedly: ${errorMessage(error)}`);
    return 1;
  }
}

/**
 * The post-job step, which the agent always runs: when the main step was killed while traffic was
 * shifted, it puts the app back from the journal saved in the task variables.
 */
export async function postStep(): Promise<number> {
  const host = new AzurePipelinesHost();
  try {
    return await runPost(host);
  } catch (error) {
    host.setFailed(`Restoring the app after the deployment failed: ${errorMessage(error)}`);
    return 1;
  }
}
