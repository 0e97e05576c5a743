import { mainStep } from "./steps.ts";

// A CommonJS bundle has no top-level await.
void mainStep().then((exitCode) => {
  process.exitCode = exitCode;
});
