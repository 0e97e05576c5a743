import { spawn } from "node:child_process";
import type { CommandRunner, RunOptions, RunResult } from "./types.ts";

const TAIL_LINES = 40;
const STDOUT_LIMIT = 1024 * 1024;

/** Splits a byte stream into lines, holding back a partial last line until more arrives. */
function lineSplitter(emit: (line: string) => void): { push(chunk: string): void; end(): void } {
  let pending = "";
  return {
    push(chunk) {
      pending += chunk;
      const lines = pending.split(/\r?\n|\r/);
      pending = lines.pop() ?? "";
      for (const line of lines) emit(line);
    },
    end() {
      if (pending !== "") emit(pending);
      pending = "";
    },
  };
}

/** Runs programs as child processes, streaming their output line by line. */
export const spawnRunner: CommandRunner = {
  run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return new Promise<RunResult>((resolve, reject) => {
      const child = spawn(command, args, {
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        stdio: ["pipe", "pipe", "pipe"],
        signal: options.signal,
      });
      const tail: string[] = [];
      let stdout = "";
      const onLine = (line: string) => {
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
        options.onLine?.(line);
      };
      const out = lineSplitter(onLine);
      const err = lineSplitter(onLine);
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        if (stdout.length < STDOUT_LIMIT) stdout += chunk;
        out.push(chunk);
      });
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => err.push(chunk));
      // A program that exits without reading its input must not crash the run with EPIPE.
      child.stdin.on("error", () => undefined);
      child.stdin.end(options.stdin ?? "");
      child.on("error", reject);
      child.on("close", (code, signal) => {
        out.end();
        err.end();
        resolve({ exitCode: code ?? (signal ? 128 : 1), stdout, tail });
      });
    });
  },
};

/** Whether an error from `CommandRunner.run` means the program is not installed. */
export function isNotInstalled(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}
