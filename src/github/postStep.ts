/**
 * The Action's post step as a function, called by the runner's entry (post.ts) and by local
 * runners such as `@github/local-action`.
 */
import { errorMessage } from "../core/failure.ts";
import { GitHubHost } from "../hosts/github.ts";
import { runPost } from "../hosts/run.ts";

/** Runs the post step; resolves to the exit code (the step is also marked failed on 1). */
export async function run(): Promise<number> {
  const host = new GitHubHost();
  try {
    return await runPost(host);
  } catch (error) {
    host.setFailed(
      `Restoring the app after an interrupted deployment failed: ${errorMessage(error)}`,
    );
    return 1;
  }
}
