/**
 * BENCHMARKS.md: the machine, the date, every figure with its spread, and each target met or not.
 * Pure: it renders the results it is given.
 */
import type { RunFigures } from "./analyze.ts";
import { ASSUMED, CLI_POLL_MS, ASSUMED_CLI_START_MS, type Projection } from "./project.ts";
import type { CliStart } from "./peer.ts";
import type { Scenario, ScenarioId } from "./scenarios.ts";
import { countSpread, seconds, secondsSpread, spread } from "./stats.ts";

export interface ProfileRuns {
  label: string;
  profile: "fast" | "azure";
  timeScale: number;
  runs: Map<ScenarioId, RunFigures[]>;
}

export interface Target {
  figure: string;
  target: string;
  value: string;
  met: boolean;
  /** What causes a miss, when the benchmark can tell. */
  cause?: string;
}

export interface Results {
  date: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; os: string };
  runsPerScenario: number;
  scenarios: Scenario[];
  profiles: ProfileRuns[];
  coldStartMs: number[];
  bundles: { file: string; bytes: number }[];
  cli?: CliStart;
  cliNote: string;
  projections: Map<ScenarioId, Projection>;
  targets: Target[];
}

const pct = (part: number, whole: number) =>
  whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : "n/a";

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export function renderReport(r: Results): string {
  const out: string[] = [];
  const missed = r.targets.filter((t) => !t.met);
  out.push(
    "# Benchmarks",
    "",
    `Written by \`npm run bench\` on ${r.date}: ${r.machine.cpus} CPUs (${r.machine.cpuModel}), ` +
      `${r.machine.memoryGiB} GiB of memory, Node ${r.machine.node}, ${r.machine.os}. ` +
      `Each scenario ran ${r.runsPerScenario} ${r.runsPerScenario === 1 ? "time" : "times"} on each timing profile of the emulator; figures ` +
      "are medians with (min–max). The Action's real bundle (`dist/index.js`) ran each time, " +
      "against the emulator on this machine.",
    "",
    missed.length === 0
      ? "**Every target is met.**"
      : `**${missed.length} of ${r.targets.length} targets missed:** ${missed.map((t) => t.figure).join("; ")}.`,
    "",
    "## Targets",
    "",
    table(
      ["Figure", "Target", "Measured", "Met"],
      r.targets.map((t) => [t.figure, t.target, t.value, t.met ? "yes" : "**no**"]),
    ),
  );
  const causes = r.targets.filter((t) => !t.met && t.cause);
  if (causes.length > 0) {
    out.push("", "What causes each miss:", "");
    for (const t of causes) out.push(`- ${t.figure}: ${t.cause}`);
  }

  out.push(
    "",
    "## On Azure's clock: projection and the Azure CLI side by side",
    "",
    "The same work projected onto the durations recorded on the service (the emulator's azure " +
      "profile: traffic-only write 12–50 s, mean 25 s; write with a template 6–50 s, mean 16 s; a new " +
      "revision provisions 0–20 s after its write, then activates 2–12 s), averaged over 2,000 draws " +
      "of that profile, with the inputs' default bake (`step-wait: 60s`, `check-interval: 10s`). " +
      "**Floor** = the run's long-running writes (N + 1), provisioning, bakes and checks. **Ours** = " +
      "floor + our own work as measured on the fast profile + ARM round trips and token requests at " +
      `the assumed latencies + polling lag with our schedule (\`src/core/timing.ts\`). **Azure CLI** = ` +
      "the flow of Microsoft's blue-green documentation for Container Apps (below), each command a " +
      `process of its own, polling every ${CLI_POLL_MS / 1000} s, on the same draws.`,
    "",
    table(
      [
        "Scenario",
        "Floor",
        "Ours",
        "Overhead",
        "Azure CLI",
        "Ours / CLI",
        "Long-running writes (ours / CLI)",
      ],
      r.scenarios.map((s) => {
        const p = r.projections.get(s.id)!;
        const overhead = p.oursMs - p.floorMs;
        return [
          s.title,
          `${seconds(p.floorMs, 1)} s`,
          `${seconds(p.oursMs, 1)} s`,
          `${seconds(overhead, 1)} s (${pct(overhead, p.floorMs)})`,
          `${seconds(p.peerMs, 1)} s`,
          (p.oursMs / p.peerMs).toFixed(3),
          `${p.oursWrites} / ${p.peerWrites}`,
        ];
      }),
    ),
    "",
    "Where our projected overhead goes:",
    "",
    table(
      [
        "Scenario",
        "Own work (measured)",
        `ARM round trips × ${ASSUMED.armMs} ms`,
        `Token requests × ${ASSUMED.tokenMs} ms`,
        "Polling lag",
      ],
      r.scenarios.map((s) => {
        const p = r.projections.get(s.id)!;
        const fast = figuresOf(r, "fast", s.id);
        return [
          s.title,
          `${seconds(spread(fast.map((f) => f.ownMs)).median)} s`,
          `${countSpread(spread(fast.map((f) => f.roundTrips)))} = ${seconds(spread(fast.map((f) => f.roundTrips)).median * ASSUMED.armMs)} s`,
          `${countSpread(spread(fast.map((f) => f.tokenRequests)))} = ${seconds(spread(fast.map((f) => f.tokenRequests)).median * ASSUMED.tokenMs)} s`,
          `${seconds(p.lagMs)} s`,
        ];
      }),
    ),
  );
  const failure = r.scenarios.find((s) => r.projections.get(s.id)?.failure);
  if (failure) {
    const f = r.projections.get(failure.id)!.failure!;
    out.push(
      "",
      `${failure.title}, from the failure to the previous traffic restored (the restore's write ` +
        `done; the failure at a random moment of a bake, found by the next check round): ours ` +
        `${seconds(f.oursMs, 1)} s, Azure CLI ${seconds(f.peerMs, 1)} s (ratio ${(f.oursMs / f.peerMs).toFixed(3)}). ` +
        "Its polling lag above includes that wait for the next check round (half the check " +
        "interval on average).",
    );
  }
  out.push(
    "",
    "### The Azure CLI's flow",
    "",
    "From [Blue-Green Deployment in Azure Container Apps](https://learn.microsoft.com/azure/container-apps/blue-green-deployment): " +
      "`az containerapp update` creates the revision, `az containerapp revision label add` gives it " +
      "its label, `az containerapp ingress traffic set` sets each step, `az containerapp revision " +
      "label swap` moves the production label, `az containerapp revision deactivate` retires the " +
      "old revision. Each write is a long-running PATCH the CLI polls every 2 s; each command reads " +
      "the app first. To reach the same end state as ours (the production label on the serving " +
      "revision), the commands per scenario are:",
    "",
    table(
      ["Scenario", "Commands"],
      r.scenarios.map((s) => [s.title, r.projections.get(s.id)!.peerCommands.join("; ")]),
    ),
    "",
    r.cli
      ? `The CLI's start, measured here: azure-cli ${r.cli.version} (Debian's package), ` +
          `\`az container show\` with no account signed in, which stops at its sign-in check just ` +
          `before a command's first request: ${r.cli.ms} ms (median of runs ${r.cli.runs.slice(1).join(", ")} ms; ` +
          `the first, ${r.cli.runs[0]} ms, built its command index). A lower bound: a signed-in ` +
          `command reads its token cache too. ${r.cliNote}`
      : `The CLI could not be run here (${r.cliNote}); its start is **assumed** to be ${ASSUMED_CLI_START_MS} ms.`,
  );

  for (const profile of r.profiles) {
    out.push(
      "",
      `## Measured on the ${profile.label}`,
      "",
      profile.profile === "fast"
        ? "Writes end after 300 ms, a revision is ready 300 ms after its process listens; bakes " +
            "of 1 s with checks every 250 ms."
        : `The recorded durations at ${profile.timeScale} of real time, and the inputs' default ` +
            `bake and check interval at the same scale (the bundle polls at that scale too). Our ` +
            `fixed costs (process start, each request) do not shrink with the scale, so the ` +
            `overhead % here is larger than on Azure.`,
      "",
      table(
        [
          "Scenario",
          "Wall",
          "Floor",
          "Overhead",
          "Overhead %",
          "Long-running writes",
          "ARM calls",
          "Peak RSS",
        ],
        r.scenarios.map((s) => {
          const runs = profile.runs.get(s.id) ?? [];
          const over = runs.map((f) => (100 * f.overheadMs) / f.floorMs);
          return [
            s.title,
            `${secondsSpread(spread(runs.map((f) => f.wallMs)))} s`,
            `${secondsSpread(spread(runs.map((f) => f.floorMs)))} s`,
            `${secondsSpread(spread(runs.map((f) => f.overheadMs)))} s`,
            `${countSpread(spread(over), 1)}`,
            countSpread(spread(runs.map((f) => f.writes.length))),
            countSpread(spread(runs.map((f) => total(f.calls)))),
            `${countSpread(spread(runs.map((f) => f.peakRssMb)))} MB`,
          ];
        }),
      ),
    );
    const lags = [...profile.runs.values()].flat();
    const opLag = spread(lags.flatMap((f) => f.operationLagMs));
    const readyLag = spread(lags.flatMap((f) => f.readinessLagMs));
    const scale = (ms: number) =>
      profile.timeScale === 1 ? "" : `, ${seconds(ms / profile.timeScale)} s at Azure's scale`;
    out.push(
      "",
      `Operation end noticed after ${countSpread(opLag)} ms${scale(opLag.median)}; revision ` +
        `readiness noticed after ${countSpread(readyLag)} ms${scale(readyLag.median)}.`,
    );
    const fail = (profile.runs.get("failure-2") ?? []).map((f) => f.failure).filter(Boolean);
    if (fail.length > 0) {
      const at = (pick: (x: NonNullable<RunFigures["failure"]>) => number) =>
        `${secondsSpread(spread(fail.map((x) => pick(x!))))} s`;
      out.push(
        "",
        `Failure at step 2: found by the checks ${at((x) => x.detectedMs)}, restore write sent ` +
          `${at((x) => x.restoreWriteMs)}, traffic restored ${at((x) => x.restoredMs)} after the ` +
          `revision started failing (the restore's own operation: ${at((x) => x.restoreOperationMs)}).`,
      );
    }
  }

  out.push("", "## ARM calls by kind", "", "Per run, median (fast profile / azure profile).", "");
  const kinds = [
    ...new Set(
      r.profiles.flatMap((p) => [...p.runs.values()].flat().flatMap((f) => Object.keys(f.calls))),
    ),
  ].sort();
  out.push(
    table(
      ["Call", ...r.scenarios.map((s) => s.title)],
      kinds.map((kind) => [
        kind,
        ...r.scenarios.map((s) =>
          r.profiles
            .map((p) => spread((p.runs.get(s.id) ?? []).map((f) => f.calls[kind] ?? 0)).median)
            .join(" / "),
        ),
      ]),
    ),
    "",
    "## Reads per phase",
    "",
    "ARM reads (GET) per run on the fast profile, median, by the Action's log group they fell in. " +
      "A read is flagged as a duplicate when the run already held its answer: an earlier call " +
      "returned the same resource (a read of the same path, or the result of a write's operation, " +
      "which is the app), nothing was written or checked in between, the resource did not change " +
      "in between (watched every 5 ms), and the second read began within 50 ms of the first " +
      "answer (a poll waits 200 ms or more).",
    "",
  );
  const fastRuns = r.profiles.find((p) => p.profile === "fast");
  const phaseRows: string[][] = [];
  for (const s of r.scenarios) {
    const runs = fastRuns?.runs.get(s.id) ?? [];
    const phases = [...new Set(runs.flatMap((f) => Object.keys(f.readsByPhase)))];
    for (const phase of phases) {
      const kindsHere = [...new Set(runs.flatMap((f) => Object.keys(f.readsByPhase[phase] ?? {})))];
      const cells = kindsHere.map(
        (k) => `${k} ${spread(runs.map((f) => f.readsByPhase[phase]?.[k] ?? 0)).median}`,
      );
      phaseRows.push([s.title, phase, cells.join(", ")]);
    }
    const dups = [...new Set(runs.flatMap((f) => f.duplicates))];
    phaseRows.push([s.title, "**duplicates**", dups.length ? dups.join("; ") : "none"]);
  }
  out.push(table(["Scenario", "Phase", "Reads"], phaseRows));

  const cold = spread(r.coldStartMs);
  out.push(
    "",
    "## Start and bundles",
    "",
    `Cold start of \`node dist/index.js\`, from its spawn to the emulator's first ARM journal entry ` +
      `(\`action: status\`, ${r.coldStartMs.length} runs, no hook loaded): ${countSpread(cold)} ms.`,
    "",
    table(
      ["File", "Size"],
      r.bundles.map((b) => [`\`${b.file}\``, `${(b.bytes / 1024).toFixed(1)} KiB`]),
    ),
    "",
    "## How it is measured",
    "",
    "- **Wall**: from the bundle's spawn to its exit. **Floor**: the union of the intervals in " +
      "which Azure was working for the run — each long-running write of the floor (the candidate's, " +
      "each step's, a restore's, an operator verb's lease) from its 202 to the end of its " +
      "operation, the candidate from its write (or activation) to ready, the passing smoke round — " +
      "plus the bakes asked for (for the failure, the failing step's bake until the failure). " +
      "Operation ends and readiness come from the emulator's state, watched every 5 ms in the " +
      "benchmark's process; the writes' times from its ARM journal. **Overhead** = wall − floor.",
    "- **Long-running writes** count the PATCH and PUT entries of the ARM journal; **ARM calls** " +
      "every entry. Token requests, check requests and the phase of each call come from a hook " +
      "loaded into the bundle (`scripts/bench/hook.ts`, `node:diagnostics_channel`).",
    "- **Polling lag**: from an operation's end (or the revision's readiness) to the answer of the " +
      "Action's first poll after it. Lag hidden behind other work of Azure's is not overhead.",
    `- **Assumed** (not measured): ${ASSUMED.armMs} ms per ARM request and ${ASSUMED.tokenMs} ms ` +
      "per token request from a runner; ARM calls in flight together count once; the Azure CLI " +
      "makes one token request per flow (it caches tokens across processes) and reads the app " +
      "before each write; a script waits for readiness with `az containerapp revision show` every " +
      "2 s. Deactivation is a synchronous POST, counted as one ARM round trip.",
    "- Not part of `.ci/run`: `npm run bench` after `npm run bundle` (`BENCH_RUNS` sets the runs " +
      "per scenario, default 3). It exits 1 when a target is missed.",
  );
  return `${out.join("\n")}\n`;
}

function figuresOf(r: Results, profile: "fast" | "azure", id: ScenarioId): RunFigures[] {
  return r.profiles.find((p) => p.profile === profile)?.runs.get(id) ?? [];
}

function total(calls: Record<string, number>): number {
  return Object.values(calls).reduce((a, b) => a + b, 0);
}
