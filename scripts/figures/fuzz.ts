/**
 * Fuzz of the inputs: generated values that are invalid by construction (each breaks a rule the
 * input's description states), one input at a time on top of an otherwise valid set. Each must be
 * refused with a message naming the input — in process through `readInputs`, and through the real
 * bundle with the emulator's ARM journal showing no call at all. The generator is fast-check's,
 * seeded, so a run is repeatable and a failing case can be shown again.
 */
import fc from "fast-check";
import { readInputs } from "../../src/core/inputs/validate.ts";
import type { Emulator } from "../../emulator/types.ts";
import { pool, runBundle, startWorld, visibleLog } from "./world.ts";

export interface FuzzCase {
  /** The input the case breaks. */
  input: string;
  /** Inputs set beside the valid base (the broken one, and any it needs to be read). */
  values: Record<string, string>;
}

/** A valid set of inputs for a deploy to a custom cloud; each case breaks one of them. */
export const VALID_BASE: Record<string, string> = {
  "subscription-id": "5e4d3c2b-1a09-4f8e-9d7c-6b5a49382716",
  "resource-group": "rg-shop",
  "container-app": "shop",
  image: "emulator.test/app:healthy",
  "client-id": "1f0e9d8c-7b6a-4c5d-8e4f-3a2b1c0d9e8f",
  "tenant-id": "72c5d4e1-0f3b-4d8a-9e6b-5a1c2d3e4f50",
  environment: "Custom",
  "arm-endpoint": "https://127.0.0.1:8443",
  "authority-host": "https://127.0.0.1:8444",
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const lower = fc.stringMatching(/^[a-z][a-z0-9]{1,8}$/);
/** Text that is not blank (a blank input counts as not given). */
const text = fc.string({ minLength: 1, maxLength: 24 }).filter((s) => s.trim() !== "");
const letters = fc.stringMatching(/^[a-zA-Z]{1,10}$/);

/**
 * Not a lower-case name: an upper-case letter, an underscore or dot, a bad first or last character,
 * too long — and, where the name must not have one (`doubleDash`), a `--`.
 */
const badName = (maxLength: number, doubleDash = true) =>
  fc.oneof(
    lower.map((s) => `${s}X${s}`),
    lower.map((s) => `${s}_${s}`),
    lower.map((s) => `${s}.${s}`),
    lower.map((s) => `-${s}`),
    lower.map((s) => `${s}-`),
    ...(doubleDash ? [lower.map((s) => `${s}--${s}`)] : []),
    fc.integer({ min: maxLength + 1, max: maxLength + 20 }).map((n) => "a".repeat(n)),
  );

const notGuid = text.filter((s) => !GUID.test(s.trim()));
const notBoolean = text.filter((s) => !["true", "false"].includes(s.trim().toLowerCase()));
/** Not a duration: no number, a negative one, or a unit that does not exist. */
const notDuration = fc.oneof(
  letters,
  fc.integer({ min: 1, max: 999 }).map((n) => `-${n}s`),
  fc
    .tuple(fc.integer({ min: 1, max: 999 }), fc.constantFrom("q", "y", "w", "d", "sec", "min"))
    .map(([n, unit]) => `${n}${unit}`),
);
const notUrl = fc.oneof(
  lower.map((s) => `ftp://${s}.example`),
  lower.map((s) => `http://${s}.example`),
  lower.map((s) => `${s} ${s}`),
);

/** Every invalid value, by the input it breaks, with the other inputs it needs. */
const byInput: Record<string, fc.Arbitrary<Record<string, string>>> = {
  action: text
    .filter(
      (s) =>
        !["deploy", "promote", "reject", "rollback", "status", "insights"].includes(
          s.trim().toLowerCase(),
        ),
    )
    .map((v) => ({ action: v })),
  "subscription-id": notGuid.map((v) => ({ "subscription-id": v })),
  "resource-group": fc
    .oneof(
      fc
        .tuple(lower, fc.constantFrom("/", "\\", "?", "#", "%", "&", ":", "*", "<", ">", "|", "+"))
        .map(([s, c]) => `${s}${c}${s}`),
      lower.map((s) => `${s}.`),
      fc.integer({ min: 91, max: 120 }).map((n) => "r".repeat(n)),
    )
    .map((v) => ({ "resource-group": v })),
  "container-app": badName(32).map((v) => ({ "container-app": v })),
  image: fc
    .oneof(
      lower.map((s) => `${s} ${s}:1`),
      lower.map((s) => `Registry/${s}:1`),
      lower.map((s) => `${s}@sha256:${s}`),
      lower.map((s) => `${s}:-${s}`),
    )
    .map((v) => ({ image: v })),
  "container-name": badName(63, false).map((v) => ({ "container-name": v })),
  "revision-suffix": fc
    .oneof(
      lower.map((s) => `${s}X`),
      lower.map((s) => `${s}--${s}`),
      lower.map((s) => `${s}_${s}`),
      lower.map((s) => `${s}-`),
      fc.integer({ min: 60, max: 80 }).map((n) => "s".repeat(n)),
    )
    .map((v) => ({ "revision-suffix": v })),
  "candidate-label": fc
    .oneof(badName(63), fc.constant("blue"))
    .map((v) => ({ "candidate-label": v })),
  "production-label": badName(63).map((v) => ({ "production-label": v })),
  "previous-label": badName(63).map((v) => ({ "previous-label": v })),
  "traffic-steps": fc
    .oneof(
      fc
        .tuple(fc.integer({ min: 51, max: 99 }), fc.integer({ min: 1, max: 50 }))
        .map(([a, b]) => `${a},${b},100`),
      fc.integer({ min: 1, max: 99 }).map((n) => `${n}`),
      fc.integer({ min: 101, max: 1000 }).map((n) => `10,${n}`),
      fc.constant("0,100"),
      letters.map((s) => `${s},100`),
      fc.integer({ min: 1, max: 99 }).map((n) => `${n},${n},100`),
    )
    .map((v) => ({ "traffic-steps": v })),
  "step-wait": notDuration.map((v) => ({ "step-wait": v })),
  "smoke-timeout": notDuration.map((v) => ({ "smoke-timeout": v })),
  "check-interval": notDuration.map((v) => ({ "check-interval": v })),
  "readiness-timeout": notDuration.map((v) => ({ "readiness-timeout": v })),
  "scale-down-delay": notDuration.map((v) => ({ "scale-down-delay": v })),
  "deactivate-previous": notBoolean.map((v) => ({ "deactivate-previous": v })),
  "keep-failed-revision": notBoolean.map((v) => ({ "keep-failed-revision": v })),
  "dry-run": notBoolean.map((v) => ({ "dry-run": v })),
  "auto-promote": notBoolean.map((v) => ({ "auto-promote": v })),
  "hold-at": fc
    .oneof(letters, fc.constant("100"), fc.integer({ min: 101, max: 500 }).map(String))
    .map((v) => ({ "auto-promote": "false", "hold-at": v })),
  "smoke-checks": fc
    .oneof(
      lower.map((s) => `- path: ${s}`),
      lower.map((s) => `{ ${s}: a list }`),
      lower.map((s) => `- path: /\n  ${s}x: red`),
      fc.constant("- path: /\n  body-regex: '(unclosed'"),
      lower.map((s) => `- path: '/${s}`),
      fc.constant(aliasBomb()),
    )
    .map((v) => ({ "smoke-checks": v })),
  "smoke-path": lower.map((v) => ({ "smoke-path": v })),
  "client-id": notGuid.map((v) => ({ "client-id": v })),
  "tenant-id": notGuid.map((v) => ({ "tenant-id": v })),
  audience: lower.map((s) => ({ audience: `api://${s} ${s}` })),
  creds: fc
    .oneof(
      letters.map((s) => `{${s}`),
      fc.constant('{"clientId":"00000000-0000-0000-0000-000000000001"}'),
      letters.map((s) => `[${JSON.stringify(s)}]`),
    )
    .map((v) => ({ "client-id": "", "tenant-id": "", creds: v })),
  environment: letters
    .filter(
      (s) =>
        !["azurecloud", "azureusgovernment", "azurechinacloud", "custom"].includes(s.toLowerCase()),
    )
    .map((v) => ({ environment: v })),
  "arm-endpoint": notUrl.map((v) => ({ "arm-endpoint": v })),
  "authority-host": notUrl.map((v) => ({ "authority-host": v })),
  "image-tag": fc
    .oneof(
      lower.map((s) => `-${s}`),
      fc.integer({ min: 129, max: 160 }).map((n) => "t".repeat(n)),
    )
    .map((v) => ({ ...BUILD, "image-tag": v })),
  registry: fc
    .oneof(
      lower.map((s) => `https://${s}.azurecr.io`),
      lower.map((s) => `${s} ${s}`),
    )
    .map((v) => ({ ...BUILD, registry: v })),
  builder: letters
    .filter((s) => !["auto", "docker", "podman", "buildah", "acr"].includes(s.toLowerCase()))
    .map((v) => ({ ...BUILD, builder: v })),
  "registry-password": lower.map((v) => ({ ...BUILD, "registry-password": v })),
};

/** A build from source that is valid but for the input a case breaks. */
const BUILD = {
  image: "",
  "build-context": ".",
  registry: "registry.example.com",
  "image-name": "shop",
};

/** YAML whose aliases expand to a billion nodes: must fail as an input error, not a crash. */
function aliasBomb(): string {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const next = String.fromCharCode(97 + i);
    lines.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(",")}]`);
  }
  return lines.join("\n");
}

/** `count` cases from `seed`, every input in turn so that each gets its share. */
export function fuzzCases(count: number, seed: number): FuzzCase[] {
  const inputs = Object.keys(byInput);
  const perInput = Math.ceil(count / inputs.length);
  const cases = inputs.flatMap((input, i) =>
    fc.sample(byInput[input], { numRuns: perInput, seed: seed + i }).map((values) => ({
      input,
      values,
    })),
  );
  return cases.slice(0, Math.max(count, 0));
}

export interface FuzzOutcome {
  case: FuzzCase;
  /** Whether the case was refused with a message naming its input. */
  refused: boolean;
  message: string;
  /** ARM calls the bundle made (only for cases run through the bundle). */
  armCalls?: number;
}

/** Checks one case in process: `readInputs` must refuse it, naming the input. */
export function checkInProcess(fuzz: FuzzCase): FuzzOutcome {
  const values = { ...VALID_BASE, ...fuzz.values };
  let parsed: ReturnType<typeof readInputs>;
  try {
    parsed = readInputs((name) => values[name], { commitSha: "0".repeat(40) });
  } catch (error) {
    return { case: fuzz, refused: false, message: `threw: ${String(error)}` };
  }
  if (parsed.ok) return { case: fuzz, refused: false, message: "accepted" };
  // Named as the input in error, or in the message of another one it conflicts with.
  const naming =
    parsed.errors.find((e) => e.input === fuzz.input) ??
    parsed.errors.find((e) => e.message.includes(fuzz.input));
  return {
    case: fuzz,
    refused: naming !== undefined,
    message: (naming ?? parsed.errors[0]).message,
  };
}

/**
 * Runs cases through the real bundle against one emulator. Every case is invalid, so the journal
 * must stay empty: an ARM call of any case is a failure of all of them.
 */
export async function checkThroughBundle(
  cases: FuzzCase[],
  concurrency: number,
): Promise<{ outcomes: FuzzOutcome[]; armCalls: number }> {
  const emulator: Emulator = await startWorld();
  try {
    const { info } = emulator;
    emulator.clearJournal();
    const outcomes = await pool(cases, concurrency, async (fuzz) => {
      const values: Record<string, string> = {
        ...VALID_BASE,
        "subscription-id": info.subscriptionId,
        "client-id": info.clientId,
        "tenant-id": info.tenantId,
        "arm-endpoint": info.arm,
        "authority-host": info.authorityHost,
        ...fuzz.values,
      };
      const run = await runBundle(emulator, { inputs: values, env: {} });
      const log = visibleLog(run);
      const errors = run.lines.map((l) => l.text).filter((t) => t.startsWith("::error::"));
      const naming = errors.find((line) => line.includes(fuzz.input));
      return {
        case: fuzz,
        refused: run.exitCode === 1 && naming !== undefined,
        message: (naming ?? errors[0] ?? log.split("\n").at(-1) ?? "").replace(/^::error::/, ""),
      };
    });
    return { outcomes, armCalls: emulator.armJournal().length };
  } finally {
    await emulator.stop();
  }
}
