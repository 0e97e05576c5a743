import { GitHubHost } from "../hosts/github.ts";
import { runPost } from "../hosts/run.ts";

process.exitCode = await runPost(new GitHubHost());
