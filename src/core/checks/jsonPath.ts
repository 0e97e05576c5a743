/**
 * The small JSON path language of smoke checks: keys joined by dots, array indexes and quoted keys
 * in brackets (`status`, `items[0].name`, `checks["db.primary"].ok`), optionally after `$.`.
 */

export type PathSegment = string | number;

const IDENTIFIER = /^[^.[\]\s"']+/;
const INDEX = /^\[(\d+)\]/;
const QUOTED = /^\[(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\]/;

/** The path's segments, or undefined when it is not a valid path. */
export function parseJsonPath(path: string): PathSegment[] | undefined {
  let rest = path.trim();
  if (rest === "$") return [];
  if (rest.startsWith("$.")) rest = rest.slice(2);
  else if (rest.startsWith("$[")) rest = rest.slice(1);
  if (rest === "") return undefined;
  const segments: PathSegment[] = [];
  let expectKey = !rest.startsWith("[");
  while (rest !== "") {
    if (expectKey) {
      const key = IDENTIFIER.exec(rest);
      if (!key) return undefined;
      segments.push(key[0]);
      rest = rest.slice(key[0].length);
      expectKey = false;
      continue;
    }
    const index = INDEX.exec(rest);
    const quoted = index ? undefined : QUOTED.exec(rest);
    if (index) {
      segments.push(Number(index[1]));
      rest = rest.slice(index[0].length);
    } else if (quoted) {
      segments.push((quoted[1] ?? quoted[2]).replace(/\\(.)/g, "$1"));
      rest = rest.slice(quoted[0].length);
    } else if (rest.startsWith(".") && rest.length > 1) {
      rest = rest.slice(1);
      expectKey = true;
    } else {
      return undefined;
    }
  }
  return segments;
}

export type JsonLookup = { found: true; value: unknown } | { found: false };

export function resolveJsonPath(value: unknown, segments: readonly PathSegment[]): JsonLookup {
  let current = value;
  for (const segment of segments) {
    if (typeof segment === "number") {
      if (!Array.isArray(current) || segment >= current.length) return { found: false };
      current = current[segment];
    } else {
      if (
        current === null ||
        typeof current !== "object" ||
        Array.isArray(current) ||
        !Object.hasOwn(current, segment)
      ) {
        return { found: false };
      }
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return { found: true, value: current };
}
