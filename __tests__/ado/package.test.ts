/**
 * The packaging step of `npm run package:task`: tfx validates task.json and packs the committed
 * task folder into a .vsix, with every proxy pointing at a closed port, so it needs no network.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "../../scripts/generate.ts";

const TFX = join(ROOT, "node_modules", "tfx-cli", "_build", "tfx-cli.js");
let outDir: string;

beforeAll(() => {
  outDir = mkdtempSync(join(tmpdir(), "aca-bg-vsix-"));
});
afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

/** The tfx arguments of the package:task script, writing into `output` instead. */
function packageArguments(output: string): string[] {
  const scripts = (
    JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    }
  ).scripts;
  const command = scripts["package:task"];
  const args = command.slice(command.lastIndexOf("tfx ") + "tfx ".length).split(" ");
  args[args.indexOf("--output-path") + 1] = output;
  return args;
}

/** Names in a zip archive, from its central directory. */
function zipEntries(archive: Buffer): string[] {
  const end = archive.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = archive.readUInt16LE(end + 10);
  let offset = archive.readUInt32LE(end + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const nameLength = archive.readUInt16LE(offset + 28);
    const extraLength = archive.readUInt16LE(offset + 30);
    const commentLength = archive.readUInt16LE(offset + 32);
    names.push(archive.subarray(offset + 46, offset + 46 + nameLength).toString("utf8"));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

test("tfx packs the task, its bundles, icon and guide into a .vsix, offline", async () => {
  const closed = "http://127.0.0.1:9";
  await promisify(execFile)(process.execPath, [TFX, ...packageArguments(outDir)], {
    cwd: ROOT,
    env: { ...process.env, HTTPS_PROXY: closed, HTTP_PROXY: closed, NO_PROXY: "" },
  });
  const [vsix, ...others] = readdirSync(outDir);
  expect(others).toEqual([]);
  const manifest = JSON.parse(readFileSync(join(ROOT, "vss-extension.json"), "utf8")) as {
    id: string;
    publisher: string;
    version: string;
  };
  expect(vsix).toBe(`${manifest.publisher}.${manifest.id}-${manifest.version}.vsix`);
  const entries = zipEntries(readFileSync(join(outDir, vsix)));
  expect(entries).toEqual(
    expect.arrayContaining([
      "extension.vsixmanifest",
      "task/task.json",
      "task/index.js",
      "task/post.js",
      "task/steps.js",
      "task/package.json",
      "task/icon.png",
      "docs/azure-pipelines.md",
    ]),
  );
});
