import { GitHubHost } from "../hosts/github.ts";
import { runMain } from "../hosts/run.ts";

const cancel = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => cancel.abort(new Error(`received ${signal}`)));
}

process.exitCode = await runMain(new GitHubHost(), cancel.signal);
