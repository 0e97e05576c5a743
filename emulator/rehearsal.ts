/**
 * Runs the Action's bundle the way the GitHub runner does — INPUT_* variables, the GITHUB_OUTPUT,
 * GITHUB_STATE and GITHUB_STEP_SUMMARY files, OIDC variables — against the emulator, and puts load
 * on an app's public URL. The demo, the end-to-end tests and users rehearsing a workflow use it.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProxyAgent, fetch } from "undici";
import type { EmulatorInfo } from "./types.ts";

export interface RehearsalOptions {
  /** Path of the bundle to run (dist/index.js or dist/post.js). */
  entry: string;
  /** Inputs by their action.yml names; the emulator's connection inputs are added. */
  inputs: Record<string, string>;
  /** Extra environment; undefined removes a variable. */
  env?: Record<string, string | undefined>;
  /** GITHUB_STATE of an earlier main step, given to a post step as STATE_* variables. */
  state?: Record<string, string>;
  /** Called with every stdout line as it arrives. */
  onLine?: (text: string) => void;
  /** Send a signal to the process once a stdout line matches. */
  signalOn?: { pattern: RegExp; signal: NodeJS.Signals };
  /** Called with the process id once the bundle is started. */
  onSpawn?: (pid: number) => void;
  /** Node binary; defaults to the one running this code. */
  node?: string;
}

export interface RehearsalRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Each stdout line with the time it arrived. */
  lines: { time: number; text: string }[];
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
}

/** Inputs that point the Action at the emulator with OIDC (workload identity federation). */
export function emulatorInputs(info: EmulatorInfo): Record<string, string> {
  return {
    "subscription-id": info.subscriptionId,
    "client-id": info.clientId,
    "tenant-id": info.tenantId,
    environment: "Custom",
    "arm-endpoint": info.arm,
    "authority-host": info.authorityHost,
  };
}

export async function runActionBundle(
  info: EmulatorInfo,
  options: RehearsalOptions,
): Promise<RehearsalRun> {
  const dir = mkdtempSync(join(tmpdir(), "aca-bg-run-"));
  const files = {
    GITHUB_OUTPUT: join(dir, "output"),
    GITHUB_STATE: join(dir, "state"),
    GITHUB_STEP_SUMMARY: join(dir, "summary"),
    GITHUB_ENV: join(dir, "env"),
    GITHUB_PATH: join(dir, "path"),
  };
  for (const file of Object.values(files)) writeFileSync(file, "");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? dir,
    ...files,
    GITHUB_ACTIONS: "true",
    GITHUB_RUN_ID: String(randomBytes(4).readUInt32BE()),
    GITHUB_RUN_ATTEMPT: "1",
    GITHUB_REPOSITORY: "contoso/shop",
    GITHUB_WORKFLOW: "Deploy",
    GITHUB_ACTOR: "octocat",
    GITHUB_SHA: randomBytes(20).toString("hex"),
    GITHUB_SERVER_URL: "https://github.com",
    RUNNER_TEMP: dir,
    ACTIONS_ID_TOKEN_REQUEST_URL: info.githubOidcUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: info.githubOidcToken,
    NODE_EXTRA_CA_CERTS: info.caFile,
    HTTPS_PROXY: info.proxy,
    // As the emulator's banner says: loopback (ARM, Entra ID, the log streams) directly, app
    // hostnames through the proxy.
    NO_PROXY: "127.0.0.1,localhost",
  };
  // A time-scaled emulator: the tool polls at the same scale (src/core/timing.ts reads this), so
  // that its polling lag stays in proportion to the durations it waits for.
  const { timeScale } = info.timing;
  if (timeScale > 0 && timeScale < 1) env.ACA_BLUE_GREEN_TIME_SCALE = String(timeScale);
  for (const [name, value] of Object.entries(options.state ?? {})) env[`STATE_${name}`] = value;
  for (const [name, value] of Object.entries({ ...emulatorInputs(info), ...options.inputs })) {
    env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] = value;
  }
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }

  const run = await runProcess(options.node ?? process.execPath, [options.entry], {
    cwd: dir,
    env,
    onLine: options.onLine,
    signalOn: options.signalOn,
    onSpawn: options.onSpawn,
  });
  const result: RehearsalRun = {
    ...run,
    outputs: parseFileCommands(readFileSync(files.GITHUB_OUTPUT, "utf8")),
    state: parseFileCommands(readFileSync(files.GITHUB_STATE, "utf8")),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, "utf8"),
  };
  rmSync(dir, { recursive: true, force: true });
  return result;
}

export interface ProcessRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Each stdout line with the time it arrived. */
  lines: { time: number; text: string }[];
}

/**
 * Runs a program to its end, collecting its output line by line as it arrives, so that callers
 * can react to progress (or send it a signal when a line matches) and time what happened.
 */
export async function runProcess(
  command: string,
  args: string[],
  options: Pick<RehearsalOptions, "onLine" | "signalOn" | "onSpawn"> & {
    cwd: string;
    env: Record<string, string>;
  },
): Promise<ProcessRun> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  const lines: ProcessRun["lines"] = [];
  let stdout = "";
  let stderr = "";
  let pending = "";
  let signalled = false;
  const onText = (text: string) => {
    lines.push({ time: Date.now(), text });
    options.onLine?.(text);
    if (!signalled && options.signalOn?.pattern.test(text)) {
      signalled = true;
      child.kill(options.signalOn.signal);
    }
  };
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    const parts = pending.split("\n");
    pending = parts.pop() ?? "";
    parts.forEach(onText);
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) =>
    child.on("close", (code, sig) => done([code, sig])),
  );
  if (pending) onText(pending);
  return { exitCode, signal, stdout, stderr, lines };
}

/** Parses the `name<<delimiter` blocks @actions/core appends to GITHUB_OUTPUT and GITHUB_STATE. */
export function parseFileCommands(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i]);
    if (!match) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== match[2]; i++) value.push(lines[i]);
    values[match[1]] = value.join("\n");
  }
  return values;
}

export interface Load {
  /** Requests sent so far. */
  readonly sent: number;
  stop(): Promise<void>;
}

/**
 * Requests `https://<host>/` through the emulator's proxy, one at a time with a pause between,
 * until stopped or `maxRequests` were sent. Bounded, and only ever aimed at the emulator.
 */
export function startLoad(
  info: EmulatorInfo,
  host: string,
  options: { intervalMs?: number; maxRequests?: number } = {},
): Load {
  const { intervalMs = 20, maxRequests = 3000 } = options;
  const agent = new ProxyAgent({
    uri: info.proxy,
    requestTls: { ca: readFileSync(info.caFile, "utf8") },
  });
  let stopped = false;
  let sent = 0;
  const done = (async () => {
    while (!stopped && sent < maxRequests) {
      sent++;
      try {
        const response = await fetch(`https://${host}/`, { dispatcher: agent });
        await response.arrayBuffer();
      } catch {
        // Failed requests are in the emulator's ingress journal, which is what callers read.
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    get sent() {
      return sent;
    },
    async stop() {
      stopped = true;
      await done;
      await agent.close();
    },
  };
}

/**
 * The traffic steps of a run, each from its first progress line (`[2/3] 50% …`, printed once the
 * weights are in place) to its last one (printed when its bake ends) or to the end of the run.
 */
export function stepWindows(run: RehearsalRun): { title: string; from: number; to: number }[] {
  const steps = new Map<string, { title: string; from: number; to: number }>();
  const end = run.lines.at(-1)?.time ?? Date.now();
  for (const line of run.lines) {
    const match = /^(\[(\d+)\/\d+\] \d+%)/.exec(line.text);
    if (!match) continue;
    const step = steps.get(match[2]);
    if (step) step.to = line.time;
    else steps.set(match[2], { title: match[1], from: line.time, to: end });
  }
  return [...steps.values()];
}
