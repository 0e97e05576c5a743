/**
 * Turns a failed build's output into an error that names the failing step and shows the builder's
 * own words, so the reader need not scroll the log to learn what broke.
 */

const EXPLICIT_STEP = /building at STEP "([^"]+)"/;
const STEP_PATTERNS: RegExp[] = [
  // buildah and podman: `STEP 2/3: COPY app /app`
  /^(STEP \d+\/\d+: .+)$/,
  // docker's classic builder and ACR task logs: `Step 2/3 : RUN make`
  /^(Step \d+\/\d+ : .+)$/,
  // BuildKit: `#7 [2/3] RUN make` (the numbered progress lines)
  /^#\d+ (\[[^\]]*\d+\/\d+\] .+)$/,
];
const SHOWN_LINES = 12;

/** The step a build stopped at, as its builder printed it; undefined when none can be seen. */
export function failingStep(lines: readonly string[]): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const explicit = EXPLICIT_STEP.exec(lines[i]);
    if (explicit) return explicit[1];
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].trim();
    for (const pattern of STEP_PATTERNS) {
      const match = pattern.exec(line);
      if (match) return match[1];
    }
  }
  return undefined;
}

/** The last non-empty lines of the output: the builder's error is almost always among them. */
export function lastLines(lines: readonly string[], count = SHOWN_LINES): string[] {
  return lines.filter((line) => line.trim() !== "").slice(-count);
}

export class BuildError extends Error {
  /** The failing step, when the output shows it. */
  readonly step?: string;
  readonly exitCode?: number;

  constructor(message: string, options: { step?: string; exitCode?: number } = {}) {
    super(message);
    this.name = "BuildError";
    this.step = options.step;
    this.exitCode = options.exitCode;
  }
}

/** An error for a failed build or push: what failed, at which step, and the builder's last words. */
export function commandFailure(
  what: string,
  exitCode: number | undefined,
  output: readonly string[],
): BuildError {
  const step = failingStep(output);
  const at = step ? ` at step "${step}"` : "";
  const code = exitCode === undefined ? "" : ` (exit code ${exitCode})`;
  const shown = lastLines(output);
  const detail = shown.length > 0 ? `:\n${shown.join("\n")}` : ".";
  return new BuildError(`${what} failed${at}${code}${detail}`, { step, exitCode });
}
