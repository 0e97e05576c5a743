/**
 * The build context as a gzipped tar, the form a remote ACR build takes its source in. Honours
 * `.dockerignore` as docker does (last matching pattern wins, `!` re-includes) and leaves out `.git`.
 */
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

interface IgnoreRule {
  pattern: RegExp;
  exclude: boolean;
}

function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === "*" && glob[i + 1] === "*") {
      i++;
      if (glob[i + 1] === "/") {
        i++;
        source += "(?:.*/)?";
      } else {
        source += ".*";
      }
    } else if (char === "*") {
      source += "[^/]*";
    } else if (char === "?") {
      source += "[^/]";
    } else if (char === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) {
        source += "\\[";
      } else {
        source += `[${glob
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else if (char === "\\" && i + 1 < glob.length) {
      i++;
      source += glob[i].replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    } else {
      source += char.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`);
}

/** Parses `.dockerignore` text into rules. */
export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const exclude = !line.startsWith("!");
    if (!exclude) line = line.slice(1).trim();
    line = line
      .replace(/^\/+/, "")
      .replace(/\/+$/, "")
      .replace(/\/{2,}/g, "/");
    if (line === "" || line === ".") continue;
    rules.push({ pattern: globToRegExp(line), exclude });
  }
  return rules;
}

/** Whether a context-relative path (with `/`) is left out: a pattern matches it or a parent folder. */
export function isIgnored(path: string, rules: readonly IgnoreRule[]): boolean {
  const parts = path.split("/");
  const candidates = parts.map((_, index) => parts.slice(0, index + 1).join("/"));
  let ignored = false;
  for (const rule of rules) {
    if (candidates.some((candidate) => rule.pattern.test(candidate))) ignored = rule.exclude;
  }
  return ignored;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

function header(
  name: string,
  size: number,
  mode: number,
  mtime: number,
  type: string,
  linkName = "",
): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, "utf8");
  block.write(octal(mode & 0o7777, 8), 100, "ascii");
  block.write(octal(0, 8), 108, "ascii");
  block.write(octal(0, 8), 116, "ascii");
  block.write(octal(size, 12), 124, "ascii");
  block.write(octal(Math.floor(mtime), 12), 136, "ascii");
  block.write("        ", 148, "ascii");
  block.write(type, 156, "ascii");
  block.write(linkName, 157, 100, "utf8");
  block.write("ustar\0", 257, "ascii");
  block.write("00", 263, "ascii");
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + " ", 148, "ascii");
  return block;
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** A PAX record `<length> key=value\n`, whose length counts its own digits. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body);
  while (String(length + String(length).length).length !== String(length).length) length++;
  return `${length + String(length).length}${body}`;
}

/** Tar entries for one file; names longer than the header holds get a PAX header first. */
function entry(
  name: string,
  data: Buffer,
  mode: number,
  mtime: number,
  type: string,
  linkName = "",
): Buffer[] {
  const blocks: Buffer[] = [];
  const pax: string[] = [];
  if (Buffer.byteLength(name) > 100) pax.push(paxRecord("path", name));
  if (Buffer.byteLength(linkName) > 100) pax.push(paxRecord("linkpath", linkName));
  if (pax.length > 0) {
    const body = Buffer.from(pax.join(""), "utf8");
    blocks.push(header("PaxHeader", body.length, 0o644, mtime, "x"), body, padding(body.length));
  }
  blocks.push(
    header(name.slice(0, 100), data.length, mode, mtime, type, linkName.slice(0, 100)),
    data,
    padding(data.length),
  );
  return blocks;
}

export interface SourceArchiveOptions {
  /** Files to put in (or replace) at a context-relative path, e.g. a rewritten Dockerfile. */
  overrides?: Record<string, string>;
}

/** Packs the build context into a `.tar.gz`. */
export async function createSourceArchive(
  context: string,
  options: SourceArchiveOptions = {},
): Promise<Buffer> {
  const ignoreText = await readFile(join(context, ".dockerignore"), "utf8").catch(() => "");
  const rules = [{ pattern: /^\.git$/, exclude: true }, ...parseDockerignore(ignoreText)];
  const overrides = new Map(Object.entries(options.overrides ?? {}));
  const blocks: Buffer[] = [];

  async function walk(relative: string): Promise<void> {
    const entries = await readdir(join(context, relative), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const dirent of entries) {
      const path = relative ? `${relative}/${dirent.name}` : dirent.name;
      const full = join(context, path);
      const stats = await lstat(full);
      const mtime = stats.mtimeMs / 1000;
      if (stats.isDirectory()) {
        // A re-included path below an ignored folder still has to be reached.
        if (isIgnored(path, rules) && !rules.some((rule) => !rule.exclude)) continue;
        if (!isIgnored(path, rules))
          blocks.push(...entry(`${path}/`, Buffer.alloc(0), stats.mode, mtime, "5"));
        await walk(path);
      } else if (isIgnored(path, rules) || overrides.has(path)) {
        continue;
      } else if (stats.isSymbolicLink()) {
        blocks.push(...entry(path, Buffer.alloc(0), stats.mode, mtime, "2", await readlink(full)));
      } else if (stats.isFile()) {
        blocks.push(...entry(path, await readFile(full), stats.mode, mtime, "0"));
      }
    }
  }

  await walk("");
  const now = Date.now() / 1000;
  for (const [path, content] of overrides)
    blocks.push(...entry(path, Buffer.from(content, "utf8"), 0o644, now, "0"));
  blocks.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(blocks));
}
