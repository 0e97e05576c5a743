import { errorMessage } from "../core/failure.ts";
import { GitHubHost } from "../hosts/github.ts";
import { runMain } from "../hosts/run.ts";
import { deploymentHooks } from "./deploymentHooks.ts";

const cancel = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => cancel.abort(new Error(`received ${signal}`)));
}

const host = new GitHubHost();
let exitCode: number;
try {
  exitCode = await runMain(
    host,
    cancel.signal,
    deploymentHooks(host, () => host.context()),
  );
} catch (error) {
  host.setFailed(`The deployment stopped unexpectedly: ${errorMessage(error)}`);
  exitCode = 1;
}
// Leave as soon as the work is done: a request the Azure SDK gave up on after a dropped
// connection can keep its timeout timer, and so the process, alive for another minute.
process.exit(exitCode);
