import { mainStep } from "./steps.ts";

// A CommonJS bundle has no top-level await. Exit as soon as the work is done: a request the
// Azure SDK gave up on after a dropped connection can keep its timeout timer alive for a minute.
void mainStep().then((exitCode) => process.exit(exitCode));
