import { execFileSync } from "node:child_process";
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createSourceArchive,
  isIgnored,
  parseDockerignore,
} from "../../src/image/sourceArchive.ts";

describe(".dockerignore rules", () => {
  test("follow docker: parents exclude their contents, ** spans folders, the last matching rule wins", () => {
    const rules = parseDockerignore(
      "# build output\nnode_modules\n**/*.tmp\n/docs/*.md\n!docs/README.md\n",
    );

    expect(isIgnored("node_modules/x/index.js", rules)).toBe(true);
    expect(isIgnored("src/deep/a.tmp", rules)).toBe(true);
    expect(isIgnored("a.tmp", rules)).toBe(true);
    expect(isIgnored("docs/guide.md", rules)).toBe(true);
    expect(isIgnored("docs/README.md", rules)).toBe(false);
    expect(isIgnored("src/index.ts", rules)).toBe(false);
  });
});

describe("createSourceArchive", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "source-archive-test-"));
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  test("packs a context that tar reads back, long names, symlinks and re-included files included, .git left out", async () => {
    const context = join(dir, "ctx");
    const longFolder = join(context, "a".repeat(60), "b".repeat(60));
    await mkdir(longFolder, { recursive: true });
    await mkdir(join(context, ".git"));
    await mkdir(join(context, "cache"));
    await writeFile(join(longFolder, "file.txt"), "deep\n");
    await writeFile(join(context, ".git", "HEAD"), "ref\n");
    await writeFile(join(context, "cache", "drop.bin"), "x");
    await writeFile(join(context, "cache", "keep.json"), "{}");
    await writeFile(join(context, ".dockerignore"), "cache\n!cache/keep.json\n");
    await symlink("file.txt", join(longFolder, "link.txt"));

    const archive = await createSourceArchive(context, {
      overrides: { "Dockerfile.generated": "FROM scratch\n" },
    });

    const file = join(dir, "ctx.tar.gz");
    await writeFile(file, archive);
    const listing = execFileSync("tar", ["-tzf", file], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .sort();
    const deep = `${"a".repeat(60)}/${"b".repeat(60)}`;
    expect(listing).toEqual(
      [
        ".dockerignore",
        "Dockerfile.generated",
        `${"a".repeat(60)}/`,
        `${deep}/`,
        `${deep}/file.txt`,
        `${deep}/link.txt`,
        "cache/keep.json",
      ].sort(),
    );
    const out = join(dir, "out");
    await mkdir(out);
    execFileSync("tar", ["-xzf", file, "-C", out]);
    expect(execFileSync("cat", [join(out, deep, "link.txt")], { encoding: "utf8" })).toBe("deep\n");
  });
});
