import { GitHubHost } from "../hosts/github.ts";
import { runMain } from "../hosts/run.ts";
import { deploymentHooks } from "./deploymentHooks.ts";

const cancel = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => cancel.abort(new Error(`received ${signal}`)));
}

const host = new GitHubHost();
process.exitCode = await runMain(host, cancel.signal, deploymentHooks(host));
