/**
 * `npm run local-action [-- <env file>]`: runs the Action's main step and then its post step
 * from source under @github/local-action, with the inputs and environment of `.env` (see
 * .env.example), and prints the outputs.
 *
 * The file's variables are put in the environment the runner starts with, over what the shell
 * has: Node reads some of them (NODE_EXTRA_CA_CERTS) only when a process starts, too early for
 * local-action's own loading of the file.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseEnv } from "node:util";

const ROOT = resolve(import.meta.dirname, "..");
const envFile = resolve(process.argv[2] ?? join(ROOT, ".env"));
if (!existsSync(envFile)) {
  console.error(
    `${envFile} does not exist: copy .env.example to .env and fill it in (its comments say how).`,
  );
  process.exit(2);
}
const localAction = join(ROOT, "node_modules", "@github", "local-action", "bin", "local-action.js");
const result = spawnSync(
  process.execPath,
  [localAction, ROOT, "src/github/mainStep.ts", envFile, "--post", "src/github/postStep.ts"],
  {
    cwd: ROOT,
    stdio: "inherit",
    env: { ...process.env, ...parseEnv(readFileSync(envFile, "utf8")) },
  },
);
process.exit(result.status ?? 1);
