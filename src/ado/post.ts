import { postStep } from "./steps.ts";

// A CommonJS bundle has no top-level await.
void postStep().then((exitCode) => {
  process.exitCode = exitCode;
});
