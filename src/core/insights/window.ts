/** The `window` input of `action: insights`: a number of days or weeks. Pure. */

const DAY_MS = 86_400_000;
const UNITS: Record<string, number> = { d: DAY_MS, w: 7 * DAY_MS };
export const MAX_WINDOW_DAYS = 366;

/** `30d` or `4w` in ms; undefined for anything else, or outside 1 to 366 days. */
export function parseWindow(text: string): number | undefined {
  const match = /^(\d+)\s*([dw])$/i.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNITS[match[2].toLowerCase()];
  return ms >= DAY_MS && ms <= MAX_WINDOW_DAYS * DAY_MS ? ms : undefined;
}
