/**
 * The Action's main step as a function, so that the runner's entry (main.ts) and local runners
 * such as `@github/local-action` call the same code.
 */
import { errorMessage } from "../core/failure.ts";
import { GitHubHost } from "../hosts/github.ts";
import { runMain } from "../hosts/run.ts";
import { deploymentHooks } from "./deploymentHooks.ts";

/** Runs the main step; resolves to the exit code (the step is also marked failed on 1). */
export async function run(): Promise<number> {
  const cancel = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => cancel.abort(new Error(`received ${signal}`));
  process.on("SIGINT", onSignal).on("SIGTERM", onSignal);
  const host = new GitHubHost();
  try {
    return await runMain(
      host,
      cancel.signal,
      deploymentHooks(host, () => host.context()),
    );
  } catch (error) {
    host.setFailed(`The deployment stopped unexpectedly: ${errorMessage(error)}`);
    return 1;
  } finally {
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
  }
}
