const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

const BARE_SECONDS = /^\d+(?:\.\d+)?$/;
const COMPOUND = /^(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h)\s*)+$/;
const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h)/g;

/**
 * Parses `30s`, `5m`, `1h`, `250ms`, a combination such as `1m30s` or `1h 15m`, or a bare number
 * of seconds into milliseconds. Anything else, negatives included, gives undefined.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (BARE_SECONDS.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  if (!COMPOUND.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(PART)) total += Number(amount) * UNITS[unit];
  return Math.round(total);
}
