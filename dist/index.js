import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
import {
  GitHubHost,
  runMain
} from "./chunks/chunk-YDPQ3P6S.js";
import "./chunks/chunk-HANBNIMK.js";

// src/github/main.ts
var cancel = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => cancel.abort(new Error(`received ${signal}`)));
}
process.exitCode = await runMain(new GitHubHost(), cancel.signal);
