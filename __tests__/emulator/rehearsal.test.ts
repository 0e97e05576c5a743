import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator, type Emulator } from "../../emulator/index.ts";
import { runActionBundle } from "../../emulator/rehearsal.ts";

/** A stand-in entry that prints the poll cadence's scale the bundle would read. */
function printScaleEntry(dir: string): string {
  const entry = join(dir, "print-scale.mjs");
  writeFileSync(
    entry,
    "console.log(`scale=${process.env.ACA_BLUE_GREEN_TIME_SCALE ?? 'unset'}`);\n",
  );
  return entry;
}

describe("runActionBundle", () => {
  let dir: string;
  const emulators: Emulator[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "rehearsal-test-"));
  });
  afterAll(async () => {
    await Promise.all(emulators.map((e) => e.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("scales the bundle's polling with a time-scaled emulator", async () => {
    const emulator = await startEmulator({ timing: "azure", timeScale: 0.05 });
    emulators.push(emulator);
    const run = await runActionBundle(emulator.info, { entry: printScaleEntry(dir), inputs: {} });
    expect(run.stdout.trim()).toBe("scale=0.05");
  });

  it("leaves the polling alone at real time", async () => {
    const emulator = await startEmulator();
    emulators.push(emulator);
    const run = await runActionBundle(emulator.info, { entry: printScaleEntry(dir), inputs: {} });
    expect(run.stdout.trim()).toBe("scale=unset");
  });
});
