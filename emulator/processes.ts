/**
 * Runs each active revision as a real local process (revision-app.ts), so ingress traffic, health
 * and crashes are real rather than simulated.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { behaviourNames, parseBehaviour } from "./behaviour.ts";
import { RevisionExitError, type RevisionProcess, type StartRevisionOptions } from "./contracts.ts";
import type { EmulatorMessage, RevisionMessage } from "./revision-protocol.ts";

const revisionApp = fileURLToPath(new URL("./revision-app.ts", import.meta.url));
/** A healthy start takes well under a second; this only bounds a process that hangs. */
const startTimeoutMs = 15_000;
/** How long a stopping process may take to exit on SIGTERM before it is killed. */
const stopGraceMs = 2_000;
/** Enough of stderr to explain a crash without holding a chatty process's output. */
const stderrLimit = 4_096;

export async function startRevisionProcess(opts: StartRevisionOptions): Promise<RevisionProcess> {
  const { app, revision, image } = opts;
  // The template's variables and nothing of the emulator's own: NODE_OPTIONS meant for the
  // emulator (test runners, loaders) must not change how the app starts.
  const child = spawn(process.execPath, [revisionApp, app, revision, image], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...opts.env },
  });

  let stderr = "";
  // Line by line, as a container runtime collects a container's console output.
  const collect = (stream: "stdout" | "stderr", from: Readable | null) => {
    if (!from) return;
    createInterface({ input: from, crlfDelay: Infinity }).on("line", (line) => {
      if (stream === "stderr") stderr = `${stderr}${line}\n`.slice(-stderrLimit);
      opts.output?.(stream, line);
    });
  };
  collect("stdout", child.stdout);
  collect("stderr", child.stderr);

  let exitCode: number | null = null;
  let exited = false;
  const exitListeners: Array<(code: number | null) => void> = [];
  const exit = new Promise<void>((resolve) => {
    child.once("close", (code) => {
      exited = true;
      exitCode = code;
      resolve();
      for (const listener of exitListeners.splice(0)) listener(code);
    });
  });
  // Spawn and signal failures also surface as "close" or through the start deadline; an unhandled
  // "error" event would take the whole emulator down.
  child.on("error", (error) => {
    stderr = (stderr + `\n${error.message}`).slice(-stderrLimit);
  });

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`Revision ${revision} (image ${image}) did not start listening in time.`));
    }, startTimeoutMs);
    child.on("message", (message: RevisionMessage) => {
      if (message.type !== "listening") return;
      clearTimeout(timer);
      resolve(message.port);
    });
    void exit.then(() => {
      clearTimeout(timer);
      const detail = stderr.trim().split("\n").join(" / ") || "no output";
      reject(
        new RevisionExitError(
          `Revision ${revision} (image ${image}) exited with code ${exitCode} before listening: ${detail}`,
          exitCode,
        ),
      );
    });
  });

  async function setBehaviour(behaviour: string): Promise<void> {
    if (!parseBehaviour(behaviour)) {
      throw new Error(`Unknown revision behaviour "${behaviour}"; use one of: ${behaviourNames}.`);
    }
    if (exited) throw new Error(`Revision ${revision} is not running (exit code ${exitCode}).`);
    const applied = new Promise<void>((resolve, reject) => {
      const onMessage = (message: RevisionMessage) => {
        if (message.type !== "behaviour-set") return;
        child.off("message", onMessage);
        resolve();
      };
      child.on("message", onMessage);
      void exit.then(() => {
        child.off("message", onMessage);
        // Switching to "crash" is answered by the crash itself.
        if (behaviour === "crash") resolve();
        else reject(new Error(`Revision ${revision} exited before taking behaviour ${behaviour}.`));
      });
    });
    const message: EmulatorMessage = { type: "set-behaviour", behaviour };
    child.send(message);
    await applied;
  }

  async function stop(): Promise<void> {
    if (exited) return;
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), stopGraceMs);
    await exit;
    clearTimeout(killer);
  }

  return {
    port,
    get exited() {
      return exited;
    },
    setBehaviour,
    onExit(listener) {
      if (exited) queueMicrotask(() => listener(exitCode));
      else exitListeners.push(listener);
    },
    stop,
  };
}
