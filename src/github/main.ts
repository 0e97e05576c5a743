import { run } from "./mainStep.ts";

// Leave as soon as the work is done: a request the Azure SDK gave up on after a dropped
// connection can keep its timeout timer, and so the process, alive for another minute.
process.exit(await run());
