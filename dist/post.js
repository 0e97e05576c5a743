import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import {
  GitHubHost,
  runPost
} from "./chunks/chunk-4FZRHM7P.js";
import "./chunks/chunk-HANBNIMK.js";

// src/github/post.ts
process.exitCode = await runPost(new GitHubHost());
