import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import {
  GitHubHost,
  errorMessage,
  runPost
} from "./chunks/chunk-ZSL5TMUO.js";
import "./chunks/chunk-HANBNIMK.js";

// src/github/postStep.ts
async function run() {
  const host = new GitHubHost();
  try {
    return await runPost(host);
  } catch (error) {
    host.setFailed(
      `Restoring the app after an interrupted deployment failed: ${errorMessage(error)}`
    );
    return 1;
  }
}

// src/github/post.ts
process.exit(await run());
