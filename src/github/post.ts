import { run } from "./postStep.ts";

// As in the main step: do not wait for timers of requests that were given up on.
process.exit(await run());
