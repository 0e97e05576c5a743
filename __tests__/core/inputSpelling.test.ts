/**
 * Each platform names inputs its own way: a message that says `traffic-steps` to an Azure
 * Pipelines user names an input the task does not have. Messages name inputs in code spans, and
 * the hosts spell them; these tests hold every message of the code to that.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { ROOT } from "../../scripts/generate.ts";
import { INPUTS } from "../../src/core/inputs/schema.ts";
import { isInputName, spellInput, spellInputsIn } from "../../src/core/inputs/spelling.ts";

const KEBAB_NAMES = INPUTS.map((input) => input.name).filter((name) => name.includes("-"));
const BARE_NAME = new RegExp(`(?<![\\w-])(${KEBAB_NAMES.join("|")})(?![\\w-])`, "g");
const MARKED_NAME = /`([a-z][a-z0-9-]*)(?:[:=[][^`\n]*)?`|<([a-z][a-z0-9-]*)>/g;

/** Every string and template text of the layers whose messages reach a Pipelines user. */
function messageTexts(): { where: string; text: string }[] {
  const texts: { where: string; text: string }[] = [];
  for (const layer of ["core", "image", "azure", "hosts"]) {
    const folder = join(ROOT, "src", layer);
    for (const file of readdirSync(folder, { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".ts")) continue;
      const path = join(folder, file);
      const source = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest);
      const visit = (node: ts.Node) => {
        if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return;
        let text: string | undefined;
        if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) text = node.text;
        // A template reads as one text, each substitution standing for some value.
        if (ts.isTemplateExpression(node)) {
          text =
            node.head.text + node.templateSpans.map((span) => `0${span.literal.text}`).join("");
        }
        // A literal that is exactly an input's name is a key (`text("traffic-steps")`).
        if (text !== undefined && !isInputName(text)) {
          const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
          texts.push({ where: `${relative(ROOT, path)}:${line + 1}`, text });
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
  }
  return texts;
}

describe("Input names in messages", () => {
  const texts = messageTexts();

  test("the scan reads the messages of every layer", () => {
    expect(texts.length).toBeGreaterThan(500);
    expect(texts.some(({ text }) => text.includes("`readiness-timeout`"))).toBe(true);
  });

  test("name a kebab-case input only in a code span or a placeholder, which the hosts respell", () => {
    const bare = texts.flatMap(({ where, text }) => {
      const unmarked = text.replace(MARKED_NAME, "");
      return [...unmarked.matchAll(BARE_NAME)].map((match) => `${where}: ${match[1]} in "${text}"`);
    });
    expect(bare).toEqual([]);
  });

  test("never reach an Azure Pipelines user in the Action's spelling", () => {
    const leaks = texts.flatMap(({ where, text }) => {
      const spelled = spellInputsIn(text, "task");
      return [...spelled.matchAll(MARKED_NAME)]
        .map((match) => match[1] ?? match[2])
        .filter((name) => name.includes("-") && isInputName(name))
        .map((name) => `${where}: ${name} in "${spelled}"`);
    });
    expect(leaks).toEqual([]);
  });
});

describe("spellInputsIn", () => {
  test("leaves the Action's spelling as it is", () => {
    const text = "Set `revision-suffix` or `auto-promote: false` for `<container-app>--<suffix>`.";
    expect(spellInputsIn(text, "action")).toBe(text);
  });

  test("spells inputs in code spans, with or without a value, and placeholders as the task does", () => {
    expect(
      spellInputsIn(
        "Deploy with `auto-promote: false` first, raise `readiness-timeout`, name `<container-app>--<suffix>`.",
        "task",
      ),
    ).toBe(
      "Deploy with `autoPromote: false` first, raise `readinessTimeout`, name `<containerApp>--<suffix>`.",
    );
  });

  test("names the service connection where the Action has sign-in inputs", () => {
    expect(spellInputsIn("Give `creds`, or `client-id` and `tenant-id`.", "task")).toBe(
      "Give the service connection, or the service connection and the service connection.",
    );
    expect(spellInputsIn("`environment: Custom` needs `arm-endpoint`.", "task")).toBe(
      "the service connection's Azure cloud (Custom) needs the service connection's Resource Manager URL.",
    );
    expect(spellInput("creds", "task")).toBe("the service connection");
    expect(spellInput("traffic-steps", "task")).toBe("trafficSteps");
  });

  test("leaves code spans that name no input alone", () => {
    const text =
      "Run `az containerapp show -n shop` or set `step-time` (no such input) or `image`.";
    expect(spellInputsIn(text, "task")).toBe(text);
  });
});
