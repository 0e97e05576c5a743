import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import {
  GitHubHost,
  errorMessage,
  runPost
} from "./chunks/chunk-3BB2FI4I.js";
import "./chunks/chunk-HANBNIMK.js";

// src/github/post.ts
var host = new GitHubHost();
var exitCode;
try {
  exitCode = await runPost(host);
} catch (error) {
  host.setFailed(
    `Restoring the app after an interrupted deployment failed: ${errorMessage(error)}`
  );
  exitCode = 1;
}
process.exit(exitCode);
