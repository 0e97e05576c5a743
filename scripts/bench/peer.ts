/**
 * The Azure CLI's own start on this machine: how long `az` takes from its process start to the
 * moment a command would send its first request. Measured with a command that stops right there
 * (no account is signed in, so it ends with "Please run 'az login'" before any request), so the
 * figure is a lower bound: a signed-in command also reads its token cache first.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface CliStart {
  /** Median of the runs after the first (which builds the CLI's command index). */
  ms: number;
  version: string;
  runs: number[];
}

export function measureCliStart(runs = 8): CliStart | undefined {
  const config = mkdtempSync(join(tmpdir(), "bench-az-"));
  const env = {
    ...process.env,
    AZURE_CONFIG_DIR: config,
    AZURE_CORE_COLLECT_TELEMETRY: "false",
    AZURE_CORE_NO_COLOR: "true",
  };
  try {
    const version = spawnSync("az", ["version", "--output", "json"], { env, encoding: "utf8" });
    if (version.error || version.status !== 0) return undefined;
    const parsed = JSON.parse(version.stdout) as Record<string, string>;
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      // Container Instances' show: Debian's azure-cli has no containerapp module (an extension).
      const run = spawnSync("az", ["container", "show", "-n", "bench", "-g", "bench"], {
        env,
        encoding: "utf8",
      });
      times.push(Math.round(performance.now() - started));
      if (!/az login/.test(run.stderr)) {
        throw new Error(`az container show did not stop at the sign-in check:\n${run.stderr}`);
      }
    }
    const measured = times.slice(1).sort((a, b) => a - b);
    return {
      ms: measured[Math.floor(measured.length / 2)],
      version: parsed["azure-cli"] ?? "unknown",
      runs: times,
    };
  } finally {
    rmSync(config, { recursive: true, force: true });
  }
}
