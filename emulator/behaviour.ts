/**
 * How an emulated revision behaves, chosen by its image: `emulator.test/<repo>:<behaviour>`.
 * Any other image, a digest reference and an unrecognised tag all behave as `healthy`, so images
 * the tool builds and deploys by digest simply run.
 */
export type Behaviour =
  | { kind: "healthy" }
  | { kind: "http500" }
  | { kind: "slow"; delayMs: number }
  | { kind: "crash" }
  | { kind: "unhealthy-after"; requests: number }
  | { kind: "flaky"; percent: number }
  | { kind: "errors"; percent: number };

const emulatorRegistry = "emulator.test/";

/** The behaviour an image runs with. */
export function behaviourOfImage(image: string): Behaviour {
  if (!image.startsWith(emulatorRegistry) || image.includes("@")) return { kind: "healthy" };
  const lastSlash = image.lastIndexOf("/");
  const tagStart = image.lastIndexOf(":");
  if (tagStart < lastSlash) return { kind: "healthy" };
  return parseBehaviour(image.slice(tagStart + 1)) ?? { kind: "healthy" };
}

/** Parses a behaviour name such as `slow-250`; undefined when it names none. */
export function parseBehaviour(name: string): Behaviour | undefined {
  if (name === "healthy" || name === "http500" || name === "crash") return { kind: name };
  const match = /^(slow|unhealthy-after|flaky|errors)-(\d+)$/.exec(name);
  if (!match) return undefined;
  const value = Number(match[2]);
  switch (match[1]) {
    case "slow":
      return { kind: "slow", delayMs: value };
    case "unhealthy-after":
      return { kind: "unhealthy-after", requests: value };
    case "errors":
      return value <= 100 ? { kind: "errors", percent: value } : undefined;
    default:
      return value <= 100 ? { kind: "flaky", percent: value } : undefined;
  }
}

export const behaviourNames =
  "healthy, http500, crash, slow-<ms>, unhealthy-after-<requests>, flaky-<percent 0-100>, errors-<percent 0-100>";

/** The name `parseBehaviour` reads back, e.g. `slow-250`. */
export function behaviourName(behaviour: Behaviour): string {
  switch (behaviour.kind) {
    case "slow":
      return `slow-${behaviour.delayMs}`;
    case "unhealthy-after":
      return `unhealthy-after-${behaviour.requests}`;
    case "flaky":
      return `flaky-${behaviour.percent}`;
    case "errors":
      return `errors-${behaviour.percent}`;
    default:
      return behaviour.kind;
  }
}
