import { errorMessage } from "../core/failure.ts";
import { GitHubHost } from "../hosts/github.ts";
import { runPost } from "../hosts/run.ts";

const host = new GitHubHost();
let exitCode: number;
try {
  exitCode = await runPost(host);
} catch (error) {
  host.setFailed(
    `Restoring the app after an interrupted deployment failed: ${errorMessage(error)}`,
  );
  exitCode = 1;
}
// As in the main step: do not wait for timers of requests that were given up on.
process.exit(exitCode);
