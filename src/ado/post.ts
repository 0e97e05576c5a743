import { postStep } from "./steps.ts";

// A CommonJS bundle has no top-level await; exit as the main step does.
void postStep().then((exitCode) => process.exit(exitCode));
