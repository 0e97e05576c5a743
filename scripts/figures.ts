/**
 * `npm run figures`: the reliability figures of docs/reliability.md, measured again — the whole
 * fault matrix, zero downtime under load, secrets on every path, the input fuzz (1,000+ cases
 * through the bundle) — and docs/role.json regenerated. `npm run figures -- matrix load` runs only
 * those figures and leaves the other sections as they were. Runs the committed bundles: run
 * `npm run bundle` first after changing src. Exits 1 when a figure misses its goal.
 *
 * FIGURES_CONCURRENCY (default 3) sets how many matrix cells and fuzz cases run at once.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem, type } from "node:os";
import { join } from "node:path";
import { format, resolveConfig } from "prettier";
import { checkInProcess, checkThroughBundle, fuzzCases } from "./figures/fuzz.ts";
import { runLoadFigures } from "./figures/load.ts";
import { allCells, runCell, type CellResult } from "./figures/matrix.ts";
import {
  renderFuzz,
  renderLoad,
  renderMatrix,
  renderRole,
  renderRun,
  renderSecrets,
  replaceSection,
  sectionBody,
  type Section,
} from "./figures/render.ts";
import { roleJson } from "./figures/role.ts";
import { leaks, runSecretScenarios } from "./figures/secrets.ts";
import { ROOT, pool } from "./figures/world.ts";

const ALL: Section[] = ["matrix", "load", "secrets", "fuzz", "role"];
const DOC = join(ROOT, "docs/reliability.md");
const FUZZ_SEED = 20_241;
const FUZZ_IN_PROCESS = 2_000;
const FUZZ_BUNDLE = 1_000;

async function main(): Promise<number> {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((a) => !ALL.includes(a as Section));
  if (unknown.length > 0) {
    console.error(`Unknown figure ${unknown.join(", ")}; choose from ${ALL.join(", ")}.`);
    return 2;
  }
  const sections = asked.length > 0 ? (asked as Section[]) : ALL;
  const concurrency = Number(process.env.FIGURES_CONCURRENCY ?? 3);
  let document = readFileSync(DOC, "utf8");
  const missed: string[] = [];
  const cpu = cpus();
  const machine = `${type()} ${release()}, ${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const runs: Parameters<typeof renderRun>[1] = [];
  const timed = (section: Section, started: number) =>
    runs.push({
      section,
      date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      machine,
      minutes: (Date.now() - started) / 60_000,
    });

  if (sections.includes("matrix")) {
    const started = Date.now();
    let done = 0;
    const cells = allCells();
    const results: CellResult[] = await pool(cells, concurrency, async ({ phase, fault }) => {
      const result = await runCell(phase, fault);
      done++;
      console.log(
        `[${done}/${cells.length}] ${phase} × ${fault}: ${result.status}${result.status === "inconsistent" ? ` — ${result.violations.join("; ")}` : ""}`,
      );
      return result;
    });
    document = replaceSection(document, "matrix", renderMatrix(results));
    timed("matrix", started);
    const bad = results.filter((r) => r.status === "inconsistent").length;
    if (bad > 0) missed.push(`${bad} inconsistent matrix cells`);
  }
  if (sections.includes("load")) {
    const started = Date.now();
    const figures = await runLoadFigures();
    for (const f of figures) console.log(`load: ${f.scenario}: ${f.failed}/${f.requests} failed`);
    document = replaceSection(document, "load", renderLoad(figures));
    timed("load", started);
    for (const f of figures) {
      if (f.goal !== undefined && f.failed > f.goal)
        missed.push(`${f.failed} failed requests: ${f.scenario}`);
    }
  }
  if (sections.includes("secrets")) {
    const started = Date.now();
    const results = await runSecretScenarios();
    document = replaceSection(document, "secrets", renderSecrets(results));
    timed("secrets", started);
    const found = leaks(results);
    for (const leak of found) console.log(`secrets: ${leak}`);
    missed.push(...found);
  }
  if (sections.includes("fuzz")) {
    const started = Date.now();
    const cases = fuzzCases(FUZZ_IN_PROCESS, FUZZ_SEED);
    const inProcess = cases.map(checkInProcess);
    const bundled = await checkThroughBundle(
      fuzzCases(FUZZ_BUNDLE, FUZZ_SEED + 1_000),
      concurrency,
    );
    const figures = {
      seed: FUZZ_SEED,
      inProcess,
      bundle: bundled.outcomes,
      armCalls: bundled.armCalls,
    };
    document = replaceSection(document, "fuzz", renderFuzz(figures));
    timed("fuzz", started);
    const notRefused = [...inProcess, ...bundled.outcomes].filter((o) => !o.refused).length;
    console.log(
      `fuzz: ${notRefused} of ${inProcess.length + bundled.outcomes.length} not refused; ${bundled.armCalls} ARM calls`,
    );
    if (notRefused > 0) missed.push(`${notRefused} invalid inputs not refused naming the input`);
    if (bundled.armCalls > 0) missed.push(`${bundled.armCalls} ARM calls on invalid input`);
  }
  if (sections.includes("role")) {
    const started = Date.now();
    writeFileSync(join(ROOT, "docs/role.json"), roleJson());
    document = replaceSection(document, "role", renderRole());
    timed("role", started);
  }

  document = replaceSection(document, "run", renderRun(sectionBody(document, "run"), runs));
  // Formatted as the repository formats Markdown, so that the format check passes on it.
  writeFileSync(DOC, await format(document, { ...(await resolveConfig(DOC)), filepath: DOC }));
  console.log(`docs/reliability.md updated (${sections.join(", ")}).`);
  for (const miss of missed) console.error(`Missed: ${miss}`);
  return missed.length > 0 ? 1 : 0;
}

process.exit(await main());
